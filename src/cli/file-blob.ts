// A file as the Blob the core reads (size, slice, stream, arrayBuffer), for files of any size.
// Node 20's fs.openAsBlob keeps the size in 32 bits: a 5 GiB archive reads as a 1 GiB Blob and
// slices past 4 GiB come back empty (found by the fuzzer's probe, checked on a sparse file). Reads
// here are positional reads of the file itself, so memory stays bounded whatever its size.
import { createReadStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';

const CHUNK = 1 << 20;

class FileBlob {
  readonly type = '';

  constructor(readonly path: string, private readonly start: number, private readonly end: number) {}

  get size(): number { return this.end - this.start; }

  /** Blob.slice semantics: negative positions count from the end, out-of-range ones are clamped. */
  slice(start = 0, end = this.size): FileBlob {
    const clamp = (n: number) => (n < 0 ? Math.max(this.size + n, 0) : Math.min(n, this.size));
    const a = clamp(start), b = clamp(end);
    return new FileBlob(this.path, this.start + a, this.start + Math.max(a, b));
  }

  stream(): ReadableStream<Uint8Array> {
    // createReadStream's `end` is inclusive, and an empty range must not read the whole file
    if (this.size === 0) return new ReadableStream({ start: (c) => c.close() });
    const rs = createReadStream(this.path, { start: this.start, end: this.end - 1, highWaterMark: CHUNK });
    return Readable.toWeb(rs) as unknown as ReadableStream<Uint8Array>;
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    const out = new Uint8Array(this.size);
    if (!out.length) return out;
    const fh = await open(this.path, 'r');
    try {
      for (let done = 0; done < out.length;) {
        const { bytesRead } = await fh.read(out, done, out.length - done, this.start + done);
        if (bytesRead <= 0) throw new Error(`${this.path} ended at byte ${this.start + done}; it is shorter than it was when opened`);
        done += bytesRead;
      }
    } finally {
      await fh.close();
    }
    return out;
  }

  async arrayBuffer(): Promise<ArrayBuffer> { return (await this.bytes()).buffer; }

  async text(): Promise<string> { return new TextDecoder().decode(await this.bytes()); }
}

/** The whole file at `path` as a Blob for the core (the size is taken now). */
export function fileBlob(path: string): Blob {
  return new FileBlob(path, 0, statSync(path).size) as unknown as Blob;
}

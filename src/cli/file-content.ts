// Positional reads of each layer's uncompressed stream, from where the CLI decoded it to (a spool
// file, or a range of the archive): the analysis's ContentSource, and the scan workers' reads.
import { closeSync, openSync, readSync } from 'node:fs';
import type { ContentSource } from '../core/analysis/analyze.ts';
import { StrataError } from '../core/errors.ts';

/** Positional reads of each layer's uncompressed stream, from where the CLI decoded it to. */
export class FileContent implements ContentSource {
  private fds = new Map<number, number>();
  constructor(private readonly files: { path: string; base: number }[]) {}

  async read(layer: number, offset: number, length: number): Promise<Uint8Array> {
    return this.readInto(layer, offset, new Uint8Array(length));
  }

  /** Fills `out` from `offset` of the layer's stream (a buffer used again saves faulting in fresh pages). */
  readInto(layer: number, offset: number, out: Uint8Array): Uint8Array {
    let fd = this.fds.get(layer);
    if (fd === undefined) { fd = openSync(this.files[layer].path, 'r'); this.fds.set(layer, fd); }
    const length = out.length;
    for (let done = 0; done < length;) {
      const n = readSync(fd, out, done, length - done, this.files[layer].base + offset + done);
      if (n <= 0) throw new StrataError('IO', `layer ${layer + 1}: content ends early while reading at byte ${offset + done}`);
      done += n;
    }
    return out;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

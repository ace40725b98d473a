// Index the members of the outer archive as Blob slices, reading only headers: data of large
// members (layers) is skipped by offset, never read. Member symlinks/hardlinks are resolved.
import { quoted, StrataError } from '../errors.ts';
import { TarReader, type TarEntry } from '../tar/reader.ts';
import { readBytes } from './blob-io.ts';
import { cleanMemberName } from '../layers/paths.ts';

export interface Member { name: string; offset: number; size: number; entry: TarEntry }

export class MemberIndex {
  constructor(readonly blob: Blob, readonly members: Map<string, Member>, readonly what: string) {}

  has(name: string): boolean { return this.resolve(name) !== null; }

  resolve(name: string): Member | null {
    let n = cleanMemberName(name);
    for (let hops = 0; hops < 16; hops++) {
      const m = this.members.get(n);
      if (!m) return null;
      if (m.entry.kind === 'symlink') {
        const base = n.includes('/') ? n.slice(0, n.lastIndexOf('/') + 1) : '';
        n = cleanMemberName(m.entry.linkname.startsWith('/') ? m.entry.linkname : base + m.entry.linkname);
        continue;
      }
      if (m.entry.kind === 'hardlink') { n = cleanMemberName(m.entry.linkname); continue; }
      return m;
    }
    return null;
  }

  /** the member's content as a Blob slice (no bytes read) */
  open(name: string, what: string): Blob {
    const m = this.resolve(name);
    if (!m) throw new StrataError('MISSING_BLOB', `${this.what}: ${what} ${quoted(name)} is missing from the archive. The archive is incomplete or was truncated.`);
    return this.blob.slice(m.offset, m.offset + m.size);
  }

  names(): string[] { return [...this.members.keys()]; }
}

const WINDOW = 256 << 10;

export async function indexTar(blob: Blob, what: string, signal?: AbortSignal): Promise<MemberIndex> {
  const members = new Map<string, Member>();
  const reader = new TarReader({
    entry(e) {
      const name = cleanMemberName(e.name);
      if (name) members.set(name, { name, offset: e.dataOffset, size: e.size, entry: e });
    },
  }, what);
  let pos = 0;
  const size = blob.size;
  while (!reader.ended && pos < size) {
    if (signal?.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
    const chunk = await readBytes(blob, pos, Math.min(size, pos + WINDOW));
    reader.push(chunk);
    pos += chunk.length;
    const s = Math.min(reader.skippable(), size - pos);
    if (s > 0) { reader.skip(s); pos += s; }
  }
  if (!reader.ended && reader.skippable() > 0) {
    throw new StrataError('TAR_TRUNCATED', `${what} is truncated: the last member ends past the end of the file (${size} bytes). The file was probably cut short while copying or downloading.`);
  }
  reader.finish();
  return new MemberIndex(blob, members, what);
}

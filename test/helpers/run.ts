// Run the core in-process on bytes, and describe the merged tree compactly for assertions.
import { memoryEnv } from '../../src/core/env.ts';
import { importImage, type ImportResult } from '../../src/core/import.ts';
import { openArchive, type ImageSelector } from '../../src/core/archive/open.ts';
import { FileType } from '../../src/core/model.ts';
import { TreeIndex } from '../../src/core/tree/tree-index.ts';

export async function importBytes(bytes: Uint8Array, sel: ImageSelector = {}, name = 'test.tar'): Promise<ImportResult> {
  const archive = await openArchive(new Blob([bytes as BlobPart]), name, memoryEnv);
  const img = await archive.resolve(sel);
  return importImage(img, memoryEnv, { hashDiffId: true });
}

const T = ['f', 'd', 'l', 'c', 'b', 'p', 's'];

/** "path type mode uid:gid [content|->link]" for every live path as of layer k, in path order. */
export async function listing(res: ImportResult, k = res.meta.layers.length - 1): Promise<string[]> {
  const t = res.tree;
  const ix = new TreeIndex(t);
  const out: string[] = [];
  const walk = async (n: number) => {
    for (const c of ix.children(n)) {
      const ino = ix.inodeAt(c, k);
      if (ino < 0) continue;
      const type = t.iType[ino] as FileType;
      let extra = '';
      if (type === FileType.File) {
        const off = t.iOffset[ino];
        extra = ' ' + JSON.stringify(await res.content[t.iLayer[ino]].slice(off, off + t.iSize[ino]).text());
      } else if (type === FileType.Symlink) extra = ' -> ' + ix.linkTarget(ino);
      out.push(`${ix.path(c)} ${T[type]} ${t.iMode[ino].toString(8).padStart(4, '0')} ${t.iUid[ino]}:${t.iGid[ino]}${extra}`);
      if (type === FileType.Dir) await walk(c);
    }
  };
  await walk(0);
  return out;
}

/** "Added: /path" lines of layer k */
export function changes(res: ImportResult, k: number): string[] {
  const t = res.tree;
  const ix = new TreeIndex(t);
  const names = ['Unmodified', 'Added', 'Modified', 'Deleted'];
  const out: string[] = [];
  for (let n = 1; n < t.nodeCount; n++) {
    for (let v = t.verStart[n]; v < t.verStart[n + 1]; v++) if (t.vLayer[v] === k) out.push(`${names[t.vDiff[v]]}: ${ix.path(n)}`);
  }
  return out.sort();
}

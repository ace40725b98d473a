// A large gzip OCI archive for the cancel test, made with the sample's image writer: several
// layers of random-ish files, so an import runs for seconds and reports "layer i of n".
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { ociArchive, sha, tar, type Spec } from '../../scripts/image-writer.ts';

export function writeBigImage(path: string, o: { layers: number; filesPerLayer: number; fileBytes: number }): number {
  const tars: Uint8Array[] = [];
  for (let l = 0; l < o.layers; l++) {
    const specs: Spec[] = [{ name: `data${l}`, kind: 'dir' }];
    for (let f = 0; f < o.filesPerLayer; f++) {
      // half random, half repeated text: gzip has work to do in both directions
      const data = new Uint8Array(o.fileBytes);
      data.set(randomBytes(o.fileBytes >> 1));
      data.fill(0x61 + (f % 26), o.fileBytes >> 1);
      specs.push({ name: `data${l}/file${f}.bin`, data });
    }
    tars.push(tar(specs));
  }
  // level 1: the default level would spend many seconds here for nothing the test needs
  const layers = tars.map((t) => new Uint8Array(gzipSync(t, { level: 1 })));
  const config = {
    architecture: 'amd64', os: 'linux', config: {},
    rootfs: { type: 'layers', diff_ids: tars.map(sha) },
    history: tars.map((_, i) => ({ created_by: `big layer ${i + 1}` })),
  };
  const archive = ociArchive({ layers, compress: 'none', config, refName: 'big:cancel-me' });
  writeFileSync(path, archive);
  return archive.length;
}

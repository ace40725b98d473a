// public/sample.tar ("Try the sample image") is what scripts/make-sample.ts writes, and it opens.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { makeSample } from '../../scripts/make-sample.ts';
import { openArchive, importImage } from '../../src/core/import.ts';
import { blobSpool, nobleSha256, type CoreEnv } from '../../src/core/env.ts';
import { FileTree } from '../../src/core/tree/file-tree.ts';
import { DiffType as D, FileType } from '../../src/core/model.ts';

const env: CoreEnv = { spool: () => blobSpool(), sha256: nobleSha256 };

describe('sample image', () => {
  const bytes = makeSample();

  test('public/sample.tar is up to date (run `npm run sample` after changing the script)', () => {
    const committed = readFileSync(join(import.meta.dirname, '../../public/sample.tar'));
    expect(Buffer.compare(committed, Buffer.from(bytes))).toBe(0);
    expect(bytes.length).toBeLessThan(256 * 1024);
  });

  test('imports: digests check out, layers tell their story', async () => {
    const archive = await openArchive(new Blob([bytes as Uint8Array<ArrayBuffer>]), 'sample.tar', env);
    expect(archive.info.images).toHaveLength(1);
    const img = await archive.resolve();
    const res = await importImage(img, env, { hashDiffId: true });
    expect(res.computedDiffIds).toEqual(res.meta.layers.map((l) => l.diffId));
    expect(res.meta.history.filter((h) => h.emptyLayer)).toHaveLength(6);
    const ft = new FileTree(res.tree);
    const n = (p: string) => ft.lookup(p);
    expect(ft.layerCount).toBe(4);
    expect(ft.hardlinkGroup(n('/bin/busybox'), 3).map((x) => ft.path(x)).sort()).toEqual(['/bin/cat', '/bin/ls']);
    expect(ft.path(ft.resolveSymlink(n('/usr/bin/env'), 3))).toBe('/bin/busybox');
    expect(ft.history(n('/etc/hostname')).map((h) => [h.layer, h.diff])).toEqual([[0, D.Added], [2, D.Deleted], [3, D.Added]]);
    expect(ft.diffAt(n('/usr/share/doc'), 3)).toBe(D.Deleted);
    expect(ft.listDir(n('/var/log/nginx'), 3, 'all').map((x) => ft.name(x))).toEqual(['access.log']);
    expect(ft.info(n('/usr/bin/passwd'), 3)?.mode).toBe(0o4755);
    expect(ft.info(n('/dev/null'), 3)).toMatchObject({ type: FileType.Char, devMajor: 1, devMinor: 3 });
    expect(Object.keys(ft.info(n('/usr/sbin/nginx'), 3)!.xattrs!)).toEqual(['security.capability']);
    expect(ft.info(n('/app/data/words.txt'), 3)!.size).toBeGreaterThan(256 * 1024);
  });
});

// public/sample.tar ("Try the sample image", written by scripts/make-sample.ts) opens and shows
// the changes the UI is meant to demonstrate.
import { openAsBlob } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openArchive, importImage } from '../../src/core/import.ts';
import { blobSpool, jsSha256, type CoreEnv } from '../../src/core/env.ts';
import { FileTree } from '../../src/core/tree/file-tree.ts';
import { DiffType as D } from '../../src/core/model.ts';

const env: CoreEnv = { spool: () => blobSpool(), sha256: jsSha256 };

describe('sample image', () => {
  test('imports with matching diff_ids, and FileTree shows its story', async () => {
    const blob = await openAsBlob(join(import.meta.dirname, '../../public/sample.tar'));
    expect(blob.size).toBeLessThan(1 << 20);
    const archive = await openArchive(blob, 'sample.tar', env);
    expect(archive.info.images).toHaveLength(1);
    const res = await importImage(await archive.resolve(), env, { hashDiffId: true });
    expect(res.computedDiffIds).toEqual(res.meta.layers.map((l) => l.diffId));
    expect(res.meta.history.some((h) => h.emptyLayer)).toBe(true);
    const ft = new FileTree(res.tree);
    const last = ft.layerCount - 1;
    const n = (p: string) => ft.lookup(p);
    expect(ft.layerCount).toBeGreaterThanOrEqual(3);
    const diffs = ft.changes(last);
    expect(diffs.added + diffs.modified + diffs.deleted).toBeGreaterThan(0);
    expect(ft.diffAt(n('/etc/motd'), last)).toBe(D.Deleted);
    expect(ft.listDir(n('/var/cache/app'), last, 'all').map((x) => ft.name(x))).toEqual(['fresh.cache']);
    expect(ft.hardlinkGroup(n('/app/server.js'), last).map((x) => ft.path(x))).toEqual(['/app/server-copy.js']);
    expect(ft.path(ft.resolveSymlink(n('/usr/bin/hello'), last))).toBe('/bin/hello');
  });
});

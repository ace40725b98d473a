// The coordinator keeps the archive the page just inspected for the import that follows, so a
// gzip-wrapped archive is decompressed once, with progress while it is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { openCached } from '../../src/worker/coordinator/opened.ts';

const GZ = join(import.meta.dirname, '../../../shared/fixtures/generated/edge.docker.tar.gz');
const file = (name = 'edge.docker.tar.gz', lastModified = 1) => new File([readFileSync(GZ)], name, { lastModified });

test('inspect, then import of the same file: one decompression, with progress', async () => {
  const seen: number[] = [];
  const signal = new AbortController().signal;
  const a = await openCached(file(), 'edge.docker.tar.gz', signal, (read) => seen.push(read), true);
  expect(a.info.outerCompression).toBe('gzip');
  expect(seen.length).toBeGreaterThan(0);
  expect(seen[seen.length - 1]).toBe(readFileSync(GZ).length);
  // the File arrives as another object with the same name, size and date
  const again: number[] = [];
  const b = await openCached(file(), 'edge.docker.tar.gz', signal, (read) => again.push(read), false);
  expect(b).toBe(a);
  expect(again).toEqual([]);
  // used once: the next open decompresses again, and another file is never mistaken for it
  const c = await openCached(file(), 'edge.docker.tar.gz', signal, undefined, true);
  expect(c).not.toBe(a);
  const d = await openCached(file('edge.docker.tar.gz', 2), 'edge.docker.tar.gz', signal, undefined, false);
  expect(d).not.toBe(c);
});

// An archive larger than 4 GiB: its members past the 4 GiB mark are read (Node 20's openAsBlob
// keeps sizes in 32 bits, so a 5 GiB file read as 1 GiB and those members as empty). The file is
// sparse — a 4.5 GiB member of zeros before the image's own members — so the test writes little.
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { encodeHeader } from '../../src/core/tar/writer.ts';
import { fileBlob } from '../../src/cli/file-blob.ts';
import { dockerArchive, tar } from '../helpers/build.ts';
import { strata } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOLE = 4.5 * 2 ** 30;

function sparseArchive(): string {
  const path = join(dir, 'big.tar');
  const image = dockerArchive({ layers: [tar([{ name: 'etc/', kind: 'dir' }, { name: 'etc/hello', data: 'past the 4 GiB mark\n' }])] });
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, encodeHeader({ name: 'padding.bin', kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1700000000, size: HOLE }));
    // the member's data is a hole; the image's members (and the end-of-archive blocks) follow it
    writeSync(fd, image, 0, image.length, 512 + HOLE);
  } finally {
    closeSync(fd);
  }
  return path;
}

test('a sparse 4.5 GiB archive: the file Blob has its real size and reads past 4 GiB', async () => {
  const path = sparseArchive();
  const size = statSync(path).size;
  expect(size).toBeGreaterThan(2 ** 32);
  const b = fileBlob(path);
  expect(b.size).toBe(size);
  const tail = new Uint8Array(await b.slice(-1024).arrayBuffer());
  expect(tail.length).toBe(1024);
  expect(tail.every((x) => x === 0)).toBe(true); // the end-of-archive blocks
  const head = new TextDecoder().decode(new Uint8Array(await b.slice(512 + HOLE, 512 + HOLE + 100).arrayBuffer()));
  expect(head).toMatch(/^[0-9a-f]{64}\.json/); // the config member's header, past 4 GiB
});

test('the CLI lists and flattens an image whose members lie past 4 GiB', async () => {
  const path = sparseArchive();
  const ls = await strata(['ls', path]);
  expect(ls.stderr).toBe('');
  expect(ls.stdout).toMatch(/-rw-r--r-- 0\/0 +20 \/etc\/hello\n/);
  const out = join(dir, 'flat.tar');
  const r = await strata(['flatten', path, '-o', out]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const listing = new TextDecoder().decode(new Uint8Array(await fileBlob(out).arrayBuffer()));
  expect(listing).toContain('past the 4 GiB mark\n');
}, 120_000);

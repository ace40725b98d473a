// Digest checks from stored bytes: the compressed blob hashed here, or its sha256 handed in (the
// browser takes it while expanding the layer), and the uncompressed stream for the diff_id.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { memoryEnv } from '../../src/core/env.ts';
import { assertVerified, verifyLayer } from '../../src/core/verify.ts';
import type { LayerInfo } from '../../src/core/model.ts';

const sha = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const content = new TextEncoder().encode('a layer tar, more or less\n'.repeat(5000));
const gz = new Uint8Array(gzipSync(content));
const info = (o: Partial<LayerInfo> = {}): LayerInfo => ({
  index: 2, digest: sha(gz), diffId: sha(content), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  compression: 'gzip', compressedSize: gz.length, member: 'blobs/sha256/x', ...o,
});

describe('verifyLayer', () => {
  test.each([
    ['the compressed blob', () => new Blob([gz])],
    ['its sha256, taken earlier', () => sha(gz)],
  ])('verified from %s and the content', async (_, compressed) => {
    expect(await verifyLayer(info(), compressed(), new Blob([content]), memoryEnv)).toEqual({ state: 'verified' });
  });

  test('a compressed digest that differs is a mismatch naming both digests', async () => {
    const v = await verifyLayer(info(), 'sha256:' + '0'.repeat(64), new Blob([content]), memoryEnv);
    expect(v).toEqual({ state: 'mismatch', detail: `compressed digest is sha256:${'0'.repeat(64)} but the manifest says ${sha(gz)}` });
    expect(() => assertVerified(info(), v, 3)).toThrow(expect.objectContaining({ code: 'DIGEST_MISMATCH' }));
  });

  test('content that differs from the diff_id is a mismatch', async () => {
    const v = await verifyLayer(info(), sha(gz), new Blob([content.subarray(1)]), memoryEnv);
    expect(v.state).toBe('mismatch');
    expect(v.detail).toMatch(/^uncompressed sha256 is sha256:[0-9a-f]{64} but the config's rootfs\.diff_ids says /);
    expect(() => assertVerified(info(), v, 3)).toThrow(expect.objectContaining({ code: 'DIFFID_MISMATCH' }));
  });

  test('an uncompressed layer: its digest is its diff_id', async () => {
    const plain = info({ compression: 'none', digest: sha(content), compressedSize: content.length });
    expect(await verifyLayer(plain, null, new Blob([content]), memoryEnv)).toEqual({ state: 'verified' });
  });

  test('nothing recorded to compare with: not verifiable', async () => {
    expect(await verifyLayer(info({ digest: undefined, diffId: undefined }), null, new Blob([content]), memoryEnv))
      .toEqual({ state: 'unverifiable', detail: 'the archive records no digest for this layer' });
  });
});

describe('a digest check lets its thread breathe, also inside one large chunk', () => {
  // a stored Blob's stream can give one chunk of many MiB: the hash takes it a MiB at a time
  const big = new Uint8Array(24 << 20).fill(7);
  const oneChunk = () => ({ stream: () => new ReadableStream<Uint8Array>({ start(c) { c.enqueue(big); c.close(); } }) }) as unknown as Blob;
  const plain = info({ compression: 'none', digest: sha(big), diffId: sha(big), compressedSize: big.length });

  test('every MiB: the digest is the same', async () => {
    let breaths = 0;
    expect(await verifyLayer(plain, null, oneChunk(), memoryEnv, undefined, async () => { breaths++; })).toEqual({ state: 'verified' });
    expect(breaths).toBe(24);
  });

  test('a cancel seen at the next breath ends it within that chunk', async () => {
    const ctl = new AbortController();
    let breaths = 0;
    const run = verifyLayer(plain, null, oneChunk(), memoryEnv, ctl.signal, async () => { if (++breaths === 2) ctl.abort(); });
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(breaths).toBe(2);
  });
});

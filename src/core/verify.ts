// Digest verification as its own stage: compare what was computed with what the manifest
// (compressed digest) and the config (rootfs.diff_ids) promise.
import type { CoreEnv } from './env.ts';
import { brief, StrataError } from './errors.ts';
import type { LayerInfo, LayerVerify } from './model.ts';
import { layerLabel } from './layers/decode.ts';

export function judgeLayer(info: LayerInfo, got: { digest?: string; diffId?: string }): LayerVerify {
  const problems: string[] = [];
  let checked = 0;
  if (info.digest && got.digest) {
    checked++;
    if (info.digest !== got.digest) problems.push(`compressed digest is ${got.digest} but the manifest says ${brief(info.digest)}`);
  }
  if (info.diffId && got.diffId) {
    checked++;
    if (info.diffId !== got.diffId) problems.push(`uncompressed sha256 is ${got.diffId} but the config's rootfs.diff_ids says ${brief(info.diffId)}`);
  }
  if (problems.length) return { state: 'mismatch', detail: problems.join('; ') };
  if (!checked) return { state: 'unverifiable', detail: 'the archive records no digest for this layer' };
  return { state: 'verified' };
}

/** Throw the first mismatch as an error naming the layer and both digests. */
export function assertVerified(info: LayerInfo, v: LayerVerify, total: number): void {
  if (v.state !== 'mismatch') return;
  const code = v.detail?.startsWith('compressed') ? 'DIGEST_MISMATCH' : 'DIFFID_MISMATCH';
  throw new StrataError(code, `${layerLabel(info, total)}: ${v.detail}. The archive is corrupt or was tampered with.`);
}

/**
 * `breathe`, awaited after every BREATHE bytes: lets the caller's thread take its messages (a
 * Blob's stream delivers chunks without yielding to them, so a cancel would wait for the end).
 * Chunks are hashed BREATHE bytes at a time: a stored Blob's stream gives chunks of many MiB, and
 * a cancel caught behind one took 150 ms to be seen (a digest check an export stops).
 */
export type Breathe = () => Promise<void>;
const BREATHE = 1 << 20;

async function hashBlob(blob: Blob, env: CoreEnv, signal?: AbortSignal, breathe?: Breathe): Promise<string> {
  const h = env.sha256();
  const reader = blob.stream().getReader();
  let sinceBreath = 0;
  try {
    for (;;) {
      if (signal?.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
      const { done, value } = await reader.read();
      if (done) break;
      for (let at = 0; at < value.length;) {
        const n = Math.min(value.length - at, BREATHE - sinceBreath);
        h.update(value.subarray(at, at + n));
        at += n;
        sinceBreath += n;
        if (sinceBreath >= BREATHE) {
          sinceBreath = 0;
          if (breathe) await breathe();
          if (signal?.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
        }
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return h.digest();
}

/**
 * Verify from stored bytes: the compressed blob (or its sha256, "sha256:<hex>", when that was
 * computed earlier, e.g. while it was being decompressed) and the decompressed stream.
 */
export async function verifyLayer(info: LayerInfo, compressed: Blob | string | null, uncompressed: Blob, env: CoreEnv, signal?: AbortSignal, breathe?: Breathe): Promise<LayerVerify> {
  const diffId = info.diffId ? await hashBlob(uncompressed, env, signal, breathe) : undefined;
  let digest: string | undefined;
  if (info.digest) {
    if (info.compression === 'none' && diffId) digest = diffId;
    else if (typeof compressed === 'string') digest = compressed;
    else if (compressed) digest = await hashBlob(compressed, env, signal, breathe);
  }
  return judgeLayer(info, { digest, diffId });
}

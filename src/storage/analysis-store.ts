// The analysis data of an image: the small files its decoders kept during the import (written as
// part of the import, so a failed import leaves none) and the analysis result, written after the
// commit as each phase finishes. Both are deleted with the image.
import type { CapturedFile } from '../core/layers/decode.ts';
import type { AnalysisResult, AnalysisState } from '../core/analysis/types.ts';
import { StrataError } from '../core/errors.ts';
import { imageRange, inStore, request, stores } from './db.ts';
import type { StoredImage } from './images.ts';
import { session, track } from './session.ts';

/** Bump when AnalysisResult changes shape: older stored results are then computed again. */
export const ANALYSIS_FORMAT = 1;

/**
 * One layer's captured files back to back (a record per file would be thousands of records): a
 * Blob, or one buffer as earlier versions stored it. A 16 MB buffer (a /usr/share/doc layer's
 * copyright files) held the thread that stored it 38–60 ms in Chromium, the Blob of its parts 13–27.
 */
interface CapturedLayer { offsets: number[]; sizes: number[]; blob?: Blob; bytes?: Uint8Array }

export interface StoredAnalysis {
  format: number;
  status: AnalysisState['status'];
  result: AnalysisResult | null;
  error?: { code: string; message: string };
  /** ms since the epoch */
  at: number;
}

/** Stores what the decoders of one layer kept (part of the import: tracked, removed on failure). */
export async function putCaptured(imageId: string, layer: number, files: CapturedFile[]): Promise<void> {
  if (!files.length) return;
  const s = session(imageId);
  const total = files.reduce((a, f) => a + f.bytes.length, 0);
  const value: CapturedLayer = {
    offsets: files.map((f) => f.offset),
    sizes: files.map((f) => f.bytes.length),
    blob: new Blob(files.map((f) => f.bytes as Uint8Array<ArrayBuffer>)),
  };
  await track(s, `the package databases of layer ${layer + 1}`, total, () =>
    inStore(stores.analysis, 'readwrite', `Storing the package databases of layer ${layer + 1} of image ${imageId}`,
      (os) => void os.put(value, [imageId, 'captured', layer])));
  s.contentBytes += total;
}

/** Every captured file of an image: `${layer}:${offset}` -> its bytes. */
export async function readCaptured(imageId: string): Promise<Map<string, Uint8Array>> {
  const range = IDBKeyRange.bound([imageId, 'captured'], [imageId, 'captured', []]);
  const { keys, values } = await inStore(stores.analysis, 'readonly', `Reading the package databases of image ${imageId}`,
    async (os) => ({ keys: await request(os.getAllKeys(range)), values: await request(os.getAll(range)) as CapturedLayer[] }));
  const out = new Map<string, Uint8Array>();
  const all = await Promise.all(values.map(async (v, i) => {
    if (v.bytes) return v.bytes;
    if (v.blob instanceof Blob) return new Uint8Array(await v.blob.arrayBuffer());
    const layer = (keys[i] as [string, string, number])[2];
    throw new StrataError('STORAGE', `The package databases stored for layer ${layer + 1} of image ${imageId} are damaged (no bytes). Delete the image and import it again.`);
  }));
  keys.forEach((k, i) => {
    const layer = (k as [string, string, number])[2];
    const v = values[i];
    const bytes = all[i];
    let at = 0;
    v.offsets.forEach((off, j) => {
      out.set(`${layer}:${off}`, bytes.subarray(at, at + v.sizes[j]));
      at += v.sizes[j];
    });
  });
  return out;
}

/**
 * Stores the analysis of a ready image; does nothing (returns false) when the image is gone —
 * deleted while it was being analysed — so no orphan result is left behind.
 */
export async function putAnalysis(imageId: string, value: StoredAnalysis): Promise<boolean> {
  const exists = await inStore(stores.images, 'readonly', `Reading image ${imageId}`,
    (os) => request<StoredImage | undefined>(os.get(imageId)));
  if (exists?.status !== 'ready') return false;
  await inStore(stores.analysis, 'readwrite', `Storing the analysis of image ${imageId}`, (os) => void os.put(value, [imageId, 'result']));
  return true;
}

export async function readAnalysis(imageId: string): Promise<StoredAnalysis | undefined> {
  const v = await inStore(stores.analysis, 'readonly', `Reading the analysis of image ${imageId}`,
    (os) => request<StoredAnalysis | undefined>(os.get([imageId, 'result'])));
  if (v && v.format !== ANALYSIS_FORMAT) return undefined; // an older shape: computed again
  return v;
}

/** Deletes every analysis record of an image (with the image). */
export function deleteAnalysisData(imageId: string): Promise<void> {
  return inStore(stores.analysis, 'readwrite', `Deleting the analysis of image ${imageId}`, (os) => void os.delete(imageRange(imageId)));
}

/** Ids that have analysis records (for the start-up sweep of orphans). */
export async function analysisImageIds(): Promise<Set<string>> {
  const keys = await inStore(stores.analysis, 'readonly', 'Listing stored analyses', (os) => request(os.getAllKeys()));
  return new Set(keys.flatMap((k) => (Array.isArray(k) && typeof k[0] === 'string' ? [k[0]] : [])));
}

export const noAnalysisYet = (id: string) => new StrataError('NOT_FOUND', `Image ${id} has no analysis yet: it is computed after the import; try again in a moment.`);

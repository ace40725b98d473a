// The whole import, platform-neutral: open the archive, resolve an image, decode its layers
// (in parallel through the caller's `decode`, e.g. a worker pool), merge strictly in order.
import type { CoreEnv } from './env.ts';
import { StrataError } from './errors.ts';
import type { ImageModel, LayerInfo } from './model.ts';
import { openArchive, type Archive, type ImageSelector, type ResolvedImage } from './archive/open.ts';
import { decodeLayer, layerLabel, type DecodedLayer, type DecodeOptions } from './layers/decode.ts';
import { LayerMerger } from './layers/merge.ts';
import { unpackEntries } from './layers/entry-columns.ts';

export type LayerDecoder = (info: LayerInfo, blob: Blob, opts: DecodeOptions) => Promise<DecodedLayer>;

export interface ImportOptions {
  signal?: AbortSignal;
  /** decode in this thread by default; pools pass their own */
  decode?: LayerDecoder;
  /** how many layers may be decoding at once (default 1) */
  parallel?: number;
  hashDiffId?: boolean;
  onLayerProgress?: (layer: number, bytesIn: number, bytesOut: number) => void;
  onLayerDone?: (layer: number) => void;
}

export interface ImportResult extends ImageModel {
  /** the uncompressed stream of each layer, for content reads and exports */
  content: Blob[];
  /** diff_ids computed while decoding (when asked for) */
  computedDiffIds: (string | undefined)[];
}

export async function importImage(img: ResolvedImage, env: CoreEnv, opts: ImportOptions = {}): Promise<ImportResult> {
  const decode: LayerDecoder = opts.decode ?? ((info, blob, o) => decodeLayer(info, blob, env, o));
  const n = img.layers.length;
  const merger = new LayerMerger(n);
  const results: Promise<DecodedLayer>[] = new Array(n);
  const parallel = Math.max(1, opts.parallel ?? 1);
  let next = 0;
  const start = (i: number) => {
    const l = img.layers[i];
    results[i] = decode(l.info, l.blob, {
      signal: opts.signal,
      hashDiffId: opts.hashDiffId,
      onProgress: (a, b) => opts.onLayerProgress?.(i, a, b),
    });
    results[i].catch(() => {}); // observed below, in order
  };
  while (next < Math.min(parallel, n)) start(next++);
  const content: Blob[] = [];
  const computedDiffIds: (string | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    const d = await results[i];
    // a merged layer's entries are garbage: the resolved promise must not keep them
    delete results[i];
    if (next < n) start(next++);
    if (opts.signal?.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
    const info = img.meta.layers[i];
    const counts = merger.apply(i, d.columns ? unpackEntries(d.columns) : d.entries, layerLabel(info));
    Object.assign(info, counts, { size: d.size });
    content.push(d.content);
    computedDiffIds.push(d.diffId);
    opts.onLayerDone?.(i);
  }
  return { meta: img.meta, tree: merger.encode(), content, computedDiffIds };
}

export { openArchive };
export type { Archive, ImageSelector, ResolvedImage };

// One case through the core as the browser runs it: open and resolve the archive, decode each
// layer the way the decode worker does (no spool, entries packed into columns, the analysis's files
// captured), expand compressed layers as the background expansion does, check digests, analyse,
// and export the flattened tar (plain and as the coordinator's windows) — which must read back as
// a portable tar.
import { analyzeImage, type ContentSource } from '../../src/core/analysis/analyze.ts';
import { analysisCapture } from '../../src/core/analysis/capture.ts';
import { openArchive } from '../../src/core/archive/open.ts';
import { decompressTo } from '../../src/core/compress/decompress.ts';
import { blobSpool, jsSha256, type CoreEnv } from '../../src/core/env.ts';
import { StrataError } from '../../src/core/errors.ts';
import { tarBlob, tarRecords } from '../../src/core/export/tar-export.ts';
import { importImage, type LayerDecoder } from '../../src/core/import.ts';
import { decodeLayer, layerLabel } from '../../src/core/layers/decode.ts';
import { TarReader } from '../../src/core/tar/reader.ts';
import { verifyLayer } from '../../src/core/verify.ts';
import { EntryPacker, unpackEntries } from '../../src/core/layers/entry-columns.ts';
import { windowBlob, windowedTarBlob } from '../../src/worker/tar-blob.ts';
import { writtenTarProblems } from './tar-blocks.ts';

/** the browser's CoreEnv (coordinator and decode workers) */
const env: CoreEnv = { spool: () => blobSpool(4 << 20), sha256: jsSha256 };

/** A layer as the decode worker parses it, then as the expansion stores it. */
const browserDecode: LayerDecoder = async (info, blob, opts) => {
  const packer = new EntryPacker();
  const d = await decodeLayer(info, blob, env, { ...opts, spool: false, onEntry: (e) => packer.add(e), capture: analysisCapture });
  const entries = unpackEntries(structuredClone(packer.finish().columns));
  let content = blob;
  if (info.compression !== 'none') {
    const spool = env.spool(layerLabel(info));
    await decompressTo(() => blob.stream(), info.compression, (c) => spool.write(c), { what: layerLabel(info) });
    content = await spool.finish();
  }
  return { ...d, entries, content };
};

/** Reads as the browser's storage does (readRange): captured files first, else the stored stream. */
function contentSource(content: Blob[], captured: Map<string, Uint8Array>): ContentSource {
  return {
    async read(layer, offset, length) {
      const kept = captured.get(`${layer}:${offset}`);
      if (kept && kept.length === length) return kept;
      if (![offset, length].every((n) => Number.isSafeInteger(n) && n >= 0)) {
        throw new RangeError(`readRange: offset and length must be non-negative integers, got ${offset} and ${length}`);
      }
      const b = new Uint8Array(await content[layer].slice(offset, offset + length).arrayBuffer());
      if (b.length !== length) throw new StrataError('NOT_FOUND', `layer ${layer + 1}: the stored content ends before byte ${offset + length}.`);
      return b;
    },
  };
}

export interface CoreResult { layers: number; nodes: number; exportBytes: number; packages: number; verify: string[] }

/** Thrown when a step after a successful import fails: whatever the error, that is a bug. */
export class AfterImportError extends Error {
  override name = 'AfterImportError';
  constructor(step: string, cause: unknown) {
    const e = cause as { name?: string; message?: string } | null;
    super(`${step} failed on an imported image: ${e?.name ?? typeof cause}: ${e?.message ?? String(cause)}`, { cause });
  }
}

async function step<T>(what: string, f: () => Promise<T>): Promise<T> {
  try { return await f(); } catch (e) { throw new AfterImportError(what, e); }
}

export async function runCore(bytes: Uint8Array, name: string): Promise<CoreResult> {
  const archive = await openArchive(new Blob([bytes as Uint8Array<ArrayBuffer>]), name, env);
  // several images: a user picks one, and a case that stopped here would never reach the layers
  const img = await archive.resolve({}).catch((e: unknown) => {
    if (e instanceof StrataError && e.code === 'AMBIGUOUS_IMAGE') return archive.resolve({ image: 0 });
    throw e;
  });
  const captured = new Map<string, Uint8Array>();
  const res = await importImage(img, env, {
    parallel: 2,
    decode: async (info, blob, opts) => {
      const d = await browserDecode(info, blob, opts);
      for (const f of d.captured ?? []) captured.set(`${info.index}:${f.offset}`, f.bytes);
      return d;
    },
  });
  // everything below runs on an image the browser has committed: none of it may fail
  const verify = await step('the digest check', async () => {
    const out: string[] = [];
    for (const l of img.layers) out.push((await verifyLayer(l.info, l.blob, res.content[l.info.index], env)).state);
    return out;
  });
  const analysis = await step('the analysis', () => analyzeImage(res.tree, contentSource(res.content, captured)));
  const exported = await step('the flattened export', async () => {
    const content = (l: number) => res.content[l];
    const flat = new Uint8Array(await tarBlob(res.tree, content).arrayBuffer());
    // the coordinator's export: windows of inlined small files and slices of big ones, same bytes
    const windowed = new Uint8Array(await (await windowedTarBlob(tarRecords(res.tree), (r) => windowBlob(r, content))).arrayBuffer());
    if (!Buffer.from(windowed).equals(Buffer.from(flat))) throw new Error(`the windowed export (${windowed.length} bytes) differs from the plain one (${flat.length} bytes)`);
    const reader = new TarReader({ entry: () => {} }, 'the flattened export');
    reader.push(flat);
    reader.finish();
    if (!reader.ended) throw new Error(`the export (${flat.length} bytes) has no end-of-archive marker`);
    const bad = writtenTarProblems(flat);
    if (bad.length) throw new Error(`the export is not a portable tar: ${bad.slice(0, 3).join('; ')}`);
    return flat.length;
  });
  return { layers: img.layers.length, nodes: res.tree.nodeCount, exportBytes: exported, packages: analysis.packages.length, verify };
}

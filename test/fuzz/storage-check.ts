// One case through the browser's real import (src/worker/coordinator/import.ts) into IndexedDB
// (fake-indexeddb), in this thread: the decode pool's workers are the real decode.worker.ts code
// served over MessageChannels, the merge worker the real merge.worker.ts behind a stand-in Worker.
// Afterwards: a failed import leaves every store empty; a successful one leaves one ready image,
// which is then deleted (every store empty again) so cases stay independent.
import 'fake-indexeddb/auto';
import { clear, keys } from 'idb-keyval';
import { stores } from '../../src/storage/db.ts';
import type { StoredImage } from '../../src/storage/images.ts';

type Handler = ((ev: { data: unknown }) => void) | null;

/** Wires the worker modules into this thread; done once. */
async function setUp(): Promise<typeof import('../../src/worker/coordinator/import.ts')> {
  const g = globalThis as Record<string, unknown>;
  // decode.worker.ts sets `self.onmessage` to receive its MessagePort
  const decodeSelf: { onmessage: Handler } = { onmessage: null };
  g.self = decodeSelf;
  await import('../../src/worker/decode.worker.ts');
  const serve = decodeSelf.onmessage!;
  // merge.worker.ts answers through `self.postMessage`; merge-client.ts starts it with `new Worker`
  let client: { onmessage: Handler } | null = null;
  const mergeSelf: { onmessage: Handler; postMessage(m: unknown, t?: Transferable[]): void } = {
    onmessage: null,
    postMessage(m, t = []) { const data = structuredClone(m, { transfer: t }); setTimeout(() => client?.onmessage?.({ data })); },
  };
  g.self = mergeSelf;
  await import('../../src/worker/merge.worker.ts');
  g.Worker = class {
    onmessage: Handler = null;
    onerror: Handler = null;
    constructor() { client = this; }
    postMessage(m: unknown, t: Transferable[] = []) { const data = structuredClone(m, { transfer: t }); setTimeout(() => mergeSelf.onmessage?.({ data })); }
    terminate() {}
  };
  const { addPort } = await import('../../src/worker/coordinator/pool.ts');
  decodeWorker = (spare) => {
    const ch = new MessageChannel();
    serve({ data: { port: ch.port2 } });
    const jobs: string[] = [];
    // the coordinator's end, with the jobs it is sent written down
    const port = {
      postMessage(m: { type: string }, t?: Transferable[]) { if (!['hold', 'release', 'ack'].includes(m.type)) jobs.push(m.type); ch.port1.postMessage(m, t ?? []); },
      set onmessage(fn: ((ev: MessageEvent) => void) | null) { ch.port1.onmessage = fn; },
    };
    addPort(port as unknown as MessagePort, spare);
    return jobs;
  };
  for (let i = 0; i < 2; i++) decodeWorker(false);
  return import('../../src/worker/coordinator/import.ts');
}

let decodeWorker: ((spare: boolean) => string[]) | null = null;

/** Adds one more decode worker to the wired pool (`spare`: the spare); returns the types of the jobs it is sent. */
export async function addDecodeWorker(spare: boolean): Promise<string[]> {
  await wiredCoordinator();
  return decodeWorker!(spare);
}

let coordinator: ReturnType<typeof setUp> | null = null;

/** The coordinator's import module with the pool and merge worker wired into this thread (once). */
export const wiredCoordinator = (): ReturnType<typeof setUp> => (coordinator ??= setUp());

export async function storedKeys(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, store] of Object.entries(stores)) out[name] = (await keys(store)).length;
  return out;
}

const empty = (k: Record<string, number>) => Object.values(k).every((n) => n === 0);
const clearStores = () => Promise.all(Object.values(stores).map((store) => clear(store)));

export interface StorageResult { error: unknown; problems: string[]; image?: string }

export async function runStorage(bytes: Uint8Array, name: string): Promise<StorageResult> {
  const { importImage } = await wiredCoordinator();
  const { deleteImage } = await import('../../src/storage/index.ts');
  const problems: string[] = [];
  const before = await storedKeys();
  if (!empty(before)) { problems.push(`storage was not empty before the case: ${JSON.stringify(before)}`); await clearStores(); }
  let rec: StoredImage | null = null;
  let error: unknown = null;
  const file = new Blob([bytes as Uint8Array<ArrayBuffer>]);
  try {
    rec = await importImage(file, name, {}, new AbortController().signal, () => {});
  } catch (e) {
    error = e;
  }
  // several images: the page asks which one; the first goes on to the layers
  if ((error as { code?: string } | null)?.code === 'AMBIGUOUS_IMAGE') {
    const left = await storedKeys();
    if (!empty(left)) { problems.push(`an ambiguous archive left data in IndexedDB: ${JSON.stringify(left)}`); await clearStores(); }
    error = null;
    try {
      rec = await importImage(file, name, { image: 0 }, new AbortController().signal, () => {});
    } catch (e) {
      error = e;
    }
  }
  const after = await storedKeys();
  if (error) {
    if (!empty(after)) {
      problems.push(`a failed import left data in IndexedDB: ${JSON.stringify(after)}`);
      await clearStores(); // so the next case reports only its own
    }
  } else {
    const images = (await keys(stores.images)).length;
    if (rec?.status !== 'ready' || images !== 1 || after.trees !== 1) problems.push(`a successful import stored ${JSON.stringify(after)} with status ${rec?.status}`);
    else problems.push(...await exportsAgree(rec));
    await deleteImage(rec!.id);
    const gone = await storedKeys();
    if (!empty(gone)) { problems.push(`deleting the imported image left ${JSON.stringify(gone)}`); await clearStores(); }
  }
  return { error, problems, image: rec ? `${rec.layers.length} layers, ${rec.totalBytes} bytes stored` : undefined };
}

/**
 * The flattened export asked for right after the import (packed layers inflated into it) must be
 * the one composed from the stored content after the expansion, byte for byte.
 */
async function exportsAgree(rec: StoredImage): Promise<string[]> {
  const { expandAll, stopBackground } = await import('../../src/worker/coordinator/expansion.ts');
  const { exportTar, rememberTree } = await import('../../src/worker/coordinator/export.ts');
  const { createHash } = await import('node:crypto');
  const sha = async (b: Blob) => createHash('sha256').update(new Uint8Array(await b.arrayBuffer())).digest('hex');
  try {
    const early = await exportTar(rec.id, undefined, undefined, false);
    await expandAll(rec);
    rememberTree(rec.id, null);
    const late = await exportTar(rec.id, undefined, undefined, false);
    rememberTree(rec.id, null);
    if (early.size !== late.size || await sha(early) !== await sha(late)) {
      return [`the export right after the import (${early.size} bytes) differs from the one after the expansion (${late.size} bytes)`];
    }
    return [];
  } catch (e) {
    return [`exporting the imported image failed: ${String(e)}`];
  } finally {
    await stopBackground(rec.id);
  }
}

// The coordinator: the page's one door to imports and storage. It owns the decode pool (wired to it
// over MessagePorts), the merge worker and the analysis worker; this file is its message loop and
// start-up. Each concern lives in coordinator/: import, expansion, verification, export, analysis,
// comparison.
/// <reference lib="webworker" />
import { toErrorInfo } from '../core/errors.ts';
import * as storage from '../storage/index.ts';
import type { StoredImage } from '../app/engine-api.ts';
import type { RequestMessage } from './protocol.ts';
import { analysisState, forgetAnalysis, sbom } from './coordinator/analysis.ts';
import { settle } from './coordinator/background.ts';
import { env, post } from './coordinator/context.ts';
import { readable, stopBackground } from './coordinator/expansion.ts';
import { exportTar, exportToPort, rememberTree, rememberedTree } from './coordinator/export.ts';
import { importFromRegistry, importImage } from './coordinator/import.ts';
import { inspectRegistry } from './coordinator/registry.ts';
import { writeImage } from './coordinator/write-image.ts';
import { addPort, inImport } from './coordinator/pool.ts';
import { openCached } from './coordinator/opened.ts';
import { compare } from './coordinator/compare.ts';
import { directRead, readForPage } from './coordinator/direct-read.ts';

function toStored(r: storage.StoredImage): StoredImage {
  const { id, importedAt, totalBytes, status: _s, packed: _p, ...meta } = r;
  return { id, importedAt, totalBytes, meta };
}

const aborts = new Map<number, AbortController>();
// start-up: remove what interrupted imports left, then finish the expansions, digest checks and
// analyses a closed tab cut short
const ready = storage.cleanupOrphans().catch(() => null);
void ready.then(() => storage.listImages()).then((all) => { for (const r of all) void settle(r); }).catch(() => {});

self.onmessage = async (ev: MessageEvent<RequestMessage | { type: 'port'; port: MessagePort; spare?: boolean }>) => {
  const m = ev.data;
  if (m.type === 'port') { addPort(m.port, m.spare); return; }
  if (m.type === 'cancel') { aborts.get(m.target)?.abort(); return; }
  const ctl = new AbortController();
  aborts.set(m.id, ctl);
  try {
    await ready;
    switch (m.type) {
      case 'inspect': {
        // a wrapped archive is decompressed here: the page sees it read (and the import reuses it)
        const progress = (read: number, total: number) => post({ type: 'progress', id: m.id, progress: { phase: 'reading', bytesRead: read, bytesTotal: total, layer: 0, layers: 0 } });
        const a = await inImport(() => openCached(m.file, m.name, ctl.signal, progress, true));
        post({ type: 'result', id: m.id, value: a.info });
        break;
      }
      case 'import': {
        const rec = await importImage(m.file, m.name, m.sel, ctl.signal, (progress) => post({ type: 'progress', id: m.id, progress }));
        void settle(rec);
        post({ type: 'result', id: m.id, value: rec.id });
        break;
      }
      case 'inspectRegistry': post({ type: 'result', id: m.id, value: await inspectRegistry(m.ref, m.credentials, ctl.signal) }); break;
      case 'importRegistry': {
        const rec = await importFromRegistry(m.ref, m.sel, m.credentials, ctl.signal, (progress) => post({ type: 'progress', id: m.id, progress }));
        void settle(rec);
        post({ type: 'result', id: m.id, value: rec.id });
        break;
      }
      case 'list': post({ type: 'result', id: m.id, value: (await storage.listImages()).map(toStored) }); break;
      case 'open': {
        // right after an import its tree is still here: no read back from IndexedDB
        const { meta, tree } = await storage.openImage(m.imageId, rememberedTree(m.imageId));
        rememberTree(m.imageId, tree);
        // structured clone copies the typed arrays (a memcpy); we keep ours for exports
        post({ type: 'result', id: m.id, value: { meta: toStored(meta).meta, tree, packed: meta.packed ?? [] } });
        break;
      }
      case 'readRange': {
        // right after an import a packed layer's bytes may come sooner from an inflate of its own
        const bytes = await readForPage(m.imageId, m.layer, m.offset, m.length);
        post({ type: 'result', id: m.id, value: bytes }, [bytes.buffer]);
        break;
      }
      case 'fileBlob': {
        const bytes = await directRead(m.imageId, m.layer, m.offset, m.size);
        if (bytes) { post({ type: 'result', id: m.id, value: new Blob([bytes as Uint8Array<ArrayBuffer>]) }); break; }
        await readable(m.imageId, m.layer, m.offset + m.size);
        const blob = (await storage.layerContentBlob(m.imageId, m.layer)).slice(m.offset, m.offset + m.size);
        post({ type: 'result', id: m.id, value: blob });
        break;
      }
      case 'exportTar': post({ type: 'result', id: m.id, value: await exportTar(m.imageId, m.layer, m.path, m.gzip) }); break;
      case 'exportToPort': post({ type: 'result', id: m.id, value: await exportToPort(m.imageId, m.layer, m.path, m.gzip, m.port, ctl.signal, () => post({ type: 'streaming', id: m.id })) }); break;
      case 'writeImage': {
        const blob = await writeImage(m.imageId, m.req, ctl.signal, (progress) => post({ type: 'writeProgress', id: m.id, progress }));
        post({ type: 'result', id: m.id, value: blob });
        break;
      }
      case 'delete': {
        await stopBackground(m.imageId);
        forgetAnalysis(m.imageId);
        await storage.deleteImage(m.imageId);
        rememberTree(m.imageId, null);
        post({ type: 'result', id: m.id, value: undefined });
        break;
      }
      case 'estimate': post({ type: 'result', id: m.id, value: await storage.storageEstimate() }); break;
      case 'analysis': post({ type: 'result', id: m.id, value: await analysisState(m.imageId) }); break;
      case 'sbom': post({ type: 'result', id: m.id, value: await sbom(m.imageId, m.format, m.scope) }); break;
      case 'compare': {
        const value = await compare(m.a, m.b, ctl.signal, (progress) => post({ type: 'compareProgress', id: m.id, progress }));
        post({ type: 'result', id: m.id, value });
        break;
      }
    }
  } catch (e) {
    post({ type: 'error', id: m.id, error: toErrorInfo(e) });
  } finally {
    aborts.delete(m.id);
  }
};

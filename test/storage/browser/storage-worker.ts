// Test-only worker: one import written from a worker (WebWorker globals, no window), as the app does.
import * as storage from '../../../src/storage/index.ts';
import { makeMeta, makeTree, pattern } from '../make-image.ts';

self.onmessage = async () => {
  try {
    const id = await storage.beginImage(makeMeta('from-worker'));
    const w = storage.createContentWriter(id, 0);
    await w.write(pattern(0, 5 * 1024 * 1024));
    await w.close();
    await storage.putTree(id, makeTree(1000));
    await storage.commitImage(id);
    self.postMessage({ id, estimate: await storage.storageEstimate(), persistence: await storage.requestPersistence() });
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};

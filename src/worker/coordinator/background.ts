// What follows a commit, and a start-up (for what a closed tab left undone): the analysis (which
// needs no stored content for its first phases), the expansion of packed layers, then the digest
// check of every pending layer. Never rejects.
/// <reference lib="webworker" />
import * as storage from '../../storage/index.ts';
import { startAnalysis } from './analysis.ts';
import { expandAll } from './expansion.ts';
import { verifyLayer } from './verification.ts';

export async function settle(rec: storage.StoredImage): Promise<void> {
  const analysis = startAnalysis(rec.id);
  await expandAll(rec);
  const pending = rec.layers.filter((l) => l.verify?.state === 'pending').map((l) => l.index);
  await Promise.allSettled([analysis, ...pending.map((l) => verifyLayer(rec.id, l))]);
}

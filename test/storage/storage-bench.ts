// Storage benchmark in a real Chromium (on-disk profile): raw IndexedDB write throughput by chunk
// size, batch size and value kind (what CHUNK_SIZE and BATCH_BYTES rest on), then the storage layer.
// Run: npx tsx test/storage/storage-bench.ts
import { openStoragePage } from './chromium-harness.ts';

// openStoragePage fails with a clear message when Chromium is missing
const p = await openStoragePage();
const mbs = (n: number) => n.toFixed(0).padStart(5);
try {
  const TOTAL = 256;
  console.log(`raw setMany, ${TOTAL} MiB per run, MB/s (median of 3):`);
  for (const value of ['blob', 'bytes'] as const) {
    for (const chunkMiB of [1, 4, 16]) {
      const row: string[] = [];
      for (const batchMiB of [chunkMiB, 16, 64].filter((b, i, all) => b >= chunkMiB && all.indexOf(b) === i)) {
        const runs: number[] = [];
        for (let i = 0; i < 3; i++) runs.push((await p.call('benchChunks', chunkMiB, batchMiB, TOTAL, value)).mbPerS);
        row.push(`batch ${String(batchMiB).padStart(2)} MiB ${mbs(runs.sort((a, b) => a - b)[1])}`);
      }
      console.log(`  ${value.padEnd(5)} chunk ${String(chunkMiB).padStart(2)} MiB | ${row.join(' | ')}`);
    }
  }
  await p.call('clearAll');
  for (const via of ['writer', 'blob'] as const) {
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push((await p.call('writeBig', 256, via)).mbPerS);
    console.log(`${via === 'writer' ? 'ContentWriter (1 MiB pieces)' : 'storeLayerBlob'}, 256 MiB: ${runs.map(mbs).join(' ')} MB/s`);
  }
  for (const piece of [65536]) {
    const r = await p.call('contentRoundTrip', 64, piece);
    console.log(`ContentWriter, 64 MiB in ${piece / 1024} KiB pieces: ${mbs(r.total / 1e6 / (r.writeMs / 1000))} MB/s; whole layer read ${r.readMs.toFixed(0)} ms`);
    await p.call('clearAll');
  }
  for (const nodes of [100_000, 100_000, 300_000]) {
    const w = await p.call('writeTree', nodes);
    await p.reload();
    const r = await p.call('readTree', w.id, nodes);
    console.log(`tree of ${nodes} nodes (${(w.bytes / 1e6).toFixed(1)} MB): write ${w.writeMs.toFixed(0)} ms, read after reload ${r.readMs.toFixed(0)} ms${r.mismatched.length ? ` MISMATCH ${r.mismatched}` : ''}`);
  }
  await p.call('clearAll');
} finally {
  await p.close();
}

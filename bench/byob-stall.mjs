// Do BYOB reads of Blob streams stall in this Chromium? `node bench/byob-stall.mjs MODE DEPTH MB` with
// SOURCE=file|memory|idb (FILE= the file for `file`, default .bench/text-v1/docker.tar). Each of the
// workers (MODE ending in 2w: two) reads the Blob as consecutive slices of 1 B–8 MiB, DEPTH at once,
// 20 rounds, and logs STUCK for a read pending > 5 s. MODE: chunks (BYOB, one reused 1 MiB buffer, as
// a header walk would), readInto (BYOB into a given buffer), plain (default reader), ab (arrayBuffer).
// Chromium 156 (2026-12-01): chunks2w 1 280 stalled on a File slice in 3 of 3 runs, plain2w in 0 of 2;
// on an IndexedDB Blob chunks2w 1 64 stalled too. So the app reads Blob streams with the default reader.
import { chromium } from 'playwright-core';
import http from 'node:http';
const srv = http.createServer((q, r) => { r.setHeader('content-type', 'text/html'); r.end('<!doctype html><title>t</title>'); }).listen(0, '127.0.0.1');
await new Promise((r) => srv.once('listening', r));
const ctx = await chromium.launchPersistentContext('/tmp/hang-profile', { executablePath: '/usr/bin/chromium', args: ['--headless','--no-sandbox','--disable-gpu'] });
const p = await ctx.newPage(); p.on('console', (m) => console.log('console:', m.text()));
await p.goto(`http://127.0.0.1:${srv.address().port}/`);
await p.evaluate(() => { const i = document.createElement('input'); i.type = 'file'; i.id = 'f'; document.body.append(i); });
await p.setInputFiles('#f', process.env.FILE ?? '.bench/text-v1/docker.tar');
const mode = process.argv[2];
const r = await p.evaluate(async ([MB, mode, DEPTH, SOURCE]) => {
  const src = `
  const idb = (fn) => new Promise((res, rej) => { const o = indexedDB.open(DBN, 1); o.onupgradeneeded = () => o.result.createObjectStore('s'); o.onsuccess = () => { const db = o.result; const tx = db.transaction('s', 'readwrite'); const q = fn(tx.objectStore('s')); tx.oncomplete = () => res(q.result); tx.onerror = () => rej(tx.error); }; });
  const DBN = 't' + Math.random();
  async function readInto(blob, into) {
    const want = Math.min(blob.size, into.byteLength);
    const r = blob.stream().getReader({ mode: 'byob' });
    let buf = into, fill = 0;
    try { while (fill < want) { const { done, value } = await r.read(new Uint8Array(buf, fill, want - fill)); if (value) buf = value.buffer; if (done) break; fill += value.length; } } finally { r.cancel().catch(() => {}); }
    return new Uint8Array(buf, 0, fill);
  }
  async function plain(blob, into) { const r = blob.stream().getReader(); const out = new Uint8Array(into); let fill = 0; for (;;) { const { done, value } = await r.read(); if (done) break; out.set(value, fill); fill += value.length; } return out.subarray(0, fill); }
  async function chunks(blob, into) {
    const r = blob.stream().getReader({ mode: 'byob' });
    let buf = new ArrayBuffer(1 << 20), fill = 0; const out = new Uint8Array(into);
    for (;;) { const { done, value } = await r.read(new Uint8Array(buf)); if (value) buf = value.buffer; if (done) break; out.set(value, fill); fill += value.length; }
    return out.subarray(0, fill);
  }
  self.onmessage = async (ev) => {
    const [MB0, mode, DEPTH, file, source] = ev.data;
    let blob;
    if (source === 'file') blob = file.slice(0, MB0 << 20);
    else {
      const parts = []; for (let i = 0; i < (MB0 << 20); i += 8 << 20) { const u = new Uint8Array(8 << 20); for (let j = 0; j < u.length; j += 4096) u[j] = j & 255; parts.push(new Blob([u])); }
      if (source === 'memory') blob = new Blob(parts);
      else { await idb((s) => s.put(new Blob(parts), 'k')); blob = await idb((s) => s.get('k')); }
    }
    const N = blob.size;
    const fn = mode === 'chunks' ? chunks : mode === 'ab' ? async (b) => new Uint8Array(await b.arrayBuffer()) : mode === 'plain' ? plain : readInto;
    const spare = [];
    for (let round = 0; round < 20; round++) {
      const t = performance.now();
      const inflight = [];
      let at = 0, sz = 0, i = 0;
      while (at < N) {
        const len = 1 + ((i * 2654435761) >>> 0) % (8 << 20); i++;
        const s = at, e = Math.min(N, at + len); at = e;
        const into = spare.pop() ?? new ArrayBuffer(8 << 20);
        let timer = setTimeout(() => postMessage({ log: 'STUCK ' + mode + ' ' + round + ' ' + s + ' ' + e }), 5000);
        inflight.push(fn(blob.slice(s, e), into).then((v) => { clearTimeout(timer); return v; }));
        if (inflight.length >= DEPTH) { const v = await inflight.shift(); sz += v.length; spare.push(v.buffer); }
      }
      for (const p of inflight) sz += (await p).length;
      postMessage({ log: 'round ' + round + ' ' + mode + ' ' + (sz === N) + ' ' + Math.round(performance.now() - t) });
    }
    postMessage('ok');
  };`;
  const url = URL.createObjectURL(new Blob([src]));
  const W = mode.endsWith('2w') ? 2 : 1;
  const ws = Array.from({ length: W }, () => new Worker(url));
  return await Promise.all(ws.map((w, k) => new Promise((res) => { w.onmessage = (e) => { if (e.data && e.data.log) console.log('w' + k + ' ' + e.data.log); else res(e.data); }; w.postMessage([MB, mode.replace('2w', ''), DEPTH, document.querySelector('#f').files[0], SOURCE]); })));
}, [Number(process.argv[4] ?? 300), mode, Number(process.argv[3] ?? 4), process.env.SOURCE ?? 'idb']);
console.log(r);
await ctx.close(); srv.close();

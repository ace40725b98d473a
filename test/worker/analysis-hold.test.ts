// The analysis worker (the real analysis.worker.ts, in this thread) waits while the coordinator
// holds it — an export the user waits for is under way — at the analysis's next pause: before it
// starts, between phases. It goes on when let go, and a cancel ends it while held.
import { expect, test } from 'vitest';
import type { AnalysisReply, AnalysisRequest } from '../../src/worker/protocol.ts';
import { dockerArchive, tar } from '../helpers/build.ts';
import { importBytes } from '../helpers/run.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Handler = (ev: { data: AnalysisRequest }) => void;
const worker: { onmessage: Handler | null; postMessage(m: AnalysisReply): void } = { onmessage: null, postMessage: () => {} };

async function setUp() {
  (globalThis as Record<string, unknown>).self = worker;
  await import('../../src/worker/analysis.worker.ts');
  const img = await importBytes(dockerArchive({ layers: [tar([
    { name: 'etc/os-release', data: 'ID=debian\nVERSION_ID="12"\n' },
    { name: 'var/lib/dpkg/status', data: 'Package: a\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n' },
    { name: 'app/.env', data: 'AWS_SECRET_ACCESS_KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCD\n' },
  ])] }));
  const send = (m: AnalysisRequest) => worker.onmessage!({ data: m });
  /** replies of job 1 as they come; `on` sees each one first */
  const replies: AnalysisReply[] = [];
  let on: (m: AnalysisReply) => void = () => {};
  worker.postMessage = (m) => {
    replies.push(m);
    on(m);
    if (m.type === 'read') {
      void img.content[m.layer].slice(m.offset, m.offset + m.length).arrayBuffer().then((b) => send({ type: 'bytes', job: m.job, req: m.req, bytes: new Uint8Array(b) }));
    }
  };
  return { img, send, replies, onReply: (f: (m: AnalysisReply) => void) => { on = f; } };
}

const ready = setUp();
const types = (rs: AnalysisReply[]) => rs.filter((m) => m.type === 'phase' || m.type === 'done' || m.type === 'error').map((m) => m.type);

test('held before it starts, then between phases: nothing is published while held; let go, it finishes', async () => {
  const { img, send, replies, onReply } = await ready;
  replies.length = 0;
  send({ type: 'hold', job: 0 });
  send({ type: 'analyze', job: 1, tree: img.tree, captured: new Map() });
  await sleep(200);
  expect(types(replies)).toEqual([]);
  // let go; held again as the first phase is published (the coordinator's hold comes in before the next pause)
  onReply((m) => { if (m.type === 'phase') { onReply(() => {}); send({ type: 'hold', job: 0 }); } });
  send({ type: 'release', job: 0 });
  await sleep(300);
  expect(types(replies)).toEqual(['phase']);
  send({ type: 'release', job: 0 });
  for (let i = 0; i < 100 && !types(replies).includes('done'); i++) await sleep(20);
  expect(types(replies)).toEqual(['phase', 'phase', 'phase', 'done']);
  const last = replies.filter((m) => m.type === 'phase').pop()!;
  expect(last.type === 'phase' && last.result.packages.map((p) => p.name)).toEqual(['a']);
  expect(last.type === 'phase' && last.result.sensitive.map((s) => s.path)).toEqual(['/app/.env']);
});

test('a cancel ends a held analysis', async () => {
  const { img, send, replies } = await ready;
  replies.length = 0;
  send({ type: 'hold', job: 0 });
  send({ type: 'analyze', job: 2, tree: img.tree, captured: new Map() });
  await sleep(100);
  send({ type: 'cancel', job: 2 });
  for (let i = 0; i < 50 && !replies.length; i++) await sleep(20);
  expect(replies).toEqual([{ type: 'error', job: 2, error: expect.objectContaining({ code: 'ABORTED' }) }]);
  send({ type: 'release', job: 0 });
});

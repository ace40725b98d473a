// A fuzz worker process: builds case (seed, index) itself and runs it through the core ("core") or
// the browser import into IndexedDB ("storage"); answers with what went wrong, if anything. The
// parent (harness.ts) times each case out and replaces the process after a hang or a crash. A
// process, not a thread: a native assertion (Node's Blob.slice wants 32-bit integer offsets) aborts the
// whole process it happens in.
import { describeCase, makeCase } from './cases.ts';
import { runCore } from './core-check.ts';
import { errorProblems, knownCodes } from './invariants.ts';

export type Target = 'core' | 'storage';
/** case `index` of `seed`, or (regression tests) an explicit input */
export interface CaseRequest { target: Target; seed: number; index: number; input?: { name: string; bytes: Uint8Array; what: string } }
export interface CaseReply { target: Target; seed: number; index: number; problems: string[]; outcome: string; describe: string; ms: number; extraMB: number }

/** Extra memory a case may take above what the process held before it (fixtures are ≤ 2 MiB). */
const MEMORY_LIMIT_MB = 400;
const codes = knownCodes();
const mem = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };

/** The harness's own checks (fuzz.test.ts): a case that hangs, aborts the process, or holds memory. */
async function selfTest(what: string): Promise<void> {
  if (what === 'selftest: hang') for (;;) { /* spin */ }
  if (what === 'selftest: abort') process.abort();
  if (what === 'selftest: memory') {
    const held = new Uint8Array(600 << 20).fill(1);
    await new Promise((r) => setTimeout(r, 50));
    if (held[1] !== 1) throw new Error('unreachable');
  }
}

async function run(req: CaseRequest): Promise<CaseReply> {
  const c = req.input ? { ...req.input, bytes: new Uint8Array(req.input.bytes), steps: [req.input.what], fixture: 'explicit input', seed: req.seed, index: req.index } : makeCase(req.seed, req.index);
  const base = mem();
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, mem()); }, 5);
  const t0 = performance.now();
  const problems: string[] = [];
  let outcome: string;
  try {
    if (req.input?.what.startsWith('selftest: ')) {
      await selfTest(req.input.what);
      outcome = 'selftest';
    } else if (req.target === 'core') {
      const r = await runCore(c.bytes, c.name);
      outcome = `imported: ${r.layers} layers, ${r.nodes} nodes, ${r.packages} packages, export ${r.exportBytes} bytes, digests ${r.verify.join('/')}`;
    } else {
      const { runStorage } = await import('./storage-check.ts');
      const r = await runStorage(c.bytes, c.name);
      problems.push(...r.problems);
      if (r.error) throw r.error;
      outcome = `stored: ${r.image}`;
    }
  } catch (e) {
    const err = e as { code?: string; name?: string; message?: string };
    outcome = `${err?.code ?? err?.name}: ${String(err?.message ?? e)}`;
    problems.push(...errorProblems(e, c.name, codes));
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, mem());
  const extraMB = Math.round((peak - base) / 2 ** 20);
  if (extraMB > MEMORY_LIMIT_MB) problems.push(`memory: ${extraMB} MB more while the case ran`);
  const { input: _, ...id } = req;
  return { ...id, problems, outcome: outcome.slice(0, 600), describe: req.input ? req.input.what : describeCase(c), ms: Math.round(performance.now() - t0), extraMB };
}

const send = (m: CaseReply | { ready: true }) => process.send!(m);

process.on('message', (req: CaseRequest) => {
  run(req).then(send, (e: unknown) => send({
    ...req, problems: [`the fuzz worker itself failed: ${e instanceof Error && e.stack ? e.stack.split("\n").slice(0, 6).join(" | ") : String(e)}`], outcome: '', describe: '', ms: 0, extraMB: 0,
  } satisfies CaseReply));
});

send({ ready: true });

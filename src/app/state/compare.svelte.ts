// The Compare view's state: the two sides (a stored image as of a layer each), the comparison as
// it arrives from the engine (summary first, hashing progress, then the settled result), the
// section shown, and the differing-paths tree. Talks only to the Engine.
import type { ErrorInfo } from '../../core/errors.ts';
import type { Comparison, HashWork } from '../../core/compare/types.ts';
import type { CompareSide, Engine } from '../engine-api.ts';
import { asErrorInfo } from '../lib/error-info.ts';
import { DIFF_KINDS, type CompareSection, type HashView } from '../lib/hash.ts';
import { CompareTree } from './compare-tree.svelte.ts';

export { COMPARE_SECTIONS, type CompareSection } from '../lib/hash.ts';

/** `stopped`: the user stopped the hashing; what was decided stays shown */
export type CompareStatus = 'idle' | 'running' | 'hashing' | 'done' | 'failed' | 'stopped';

const sameSide = (x: CompareSide | null, y: CompareSide | null) => x?.imageId === y?.imageId && x?.layer === y?.layer;

export class CompareState {
  /** `layer` 0-based; undefined: the image's last */
  a = $state.raw<CompareSide | null>(null);
  b = $state.raw<CompareSide | null>(null);
  result = $state.raw<Comparison | null>(null);
  status = $state<CompareStatus>('idle');
  work = $state.raw<HashWork | null>(null);
  error = $state.raw<ErrorInfo | null>(null);
  section = $state<CompareSection>('files');
  /** ms from the request to the summary, and to the settled result (shown, and read by tests) */
  timings = $state.raw<{ summaryMs?: number; doneMs?: number }>({});
  readonly tree = new CompareTree();
  private ctl: AbortController | null = null;
  private run = 0;
  /** a path the URL named, selected once the comparison has it */
  private wantPath: string | null = null;

  constructor(private readonly engine: Engine) {}

  /** Choose the sides; compares when both are set and anything changed. */
  setSides(a: CompareSide | null, b: CompareSide | null): void {
    if (sameSide(a, this.a) && sameSide(b, this.b) && ['running', 'hashing', 'done'].includes(this.status)) return;
    this.a = a;
    this.b = b;
    void this.compare();
  }

  /** What a URL hash says: sides, section, filter, kinds and the selected path. */
  apply(v: HashView): void {
    this.section = v.compareSection ?? 'files';
    this.tree.filter = v.filter ?? '';
    const kinds = v.kinds ?? DIFF_KINDS;
    this.tree.kinds = { added: kinds.includes('added'), modified: kinds.includes('modified'), deleted: kinds.includes('deleted') };
    this.wantPath = v.path ?? null;
    const again = sameSide(v.a ?? null, this.a) && sameSide(v.b ?? null, this.b) && this.status === 'done';
    if (again) { this.reveal(); this.wantPath = null; }
    this.setSides(v.a ?? null, v.b ?? null);
  }

  swap(): void { this.setSides(this.b, this.a); }

  /** Stop the comparison under way (the hashing, usually); the same sides can be compared again. */
  cancel(): void {
    this.ctl?.abort();
    this.ctl = null;
    if (this.status === 'running' || this.status === 'hashing') this.status = 'stopped';
  }

  /** Compare the same sides again (after a stop or a failure). */
  retry(): void { void this.compare(); }

  /** The open comparison's images went away (deleted): start over. */
  forget(imageId: string): void {
    if (this.a?.imageId !== imageId && this.b?.imageId !== imageId) return;
    this.cancel();
    if (this.a?.imageId === imageId) this.a = null;
    if (this.b?.imageId === imageId) this.b = null;
    this.result = null;
    this.tree.set(null);
    this.status = 'idle';
  }

  private async compare(): Promise<void> {
    this.cancel();
    const { a, b } = this;
    const run = ++this.run;
    this.error = null;
    this.work = null;
    if (!a || !b) { this.status = 'idle'; this.result = null; this.tree.set(null); return; }
    const ctl = (this.ctl = new AbortController());
    this.status = 'running';
    const t0 = performance.now();
    this.timings = {};
    let summarized = false;
    try {
      const done = await this.engine.compare(a, b, {
        signal: ctl.signal,
        onSummary: (c) => {
          if (run !== this.run) return;
          this.timings = { summaryMs: performance.now() - t0 };
          this.show(c, false);
          summarized = true;
          if (!c.complete) this.status = 'hashing';
        },
        onProgress: (w) => { if (run === this.run) this.work = w; },
      });
      if (run !== this.run) return;
      this.timings = { ...this.timings, doneMs: performance.now() - t0 };
      this.show(done, summarized);
      this.wantPath = null;
      this.work = done.hashing;
      this.status = 'done';
    } catch (e) {
      if (run !== this.run) return;
      const info = asErrorInfo(e);
      if (info.code === 'ABORTED') return;
      this.error = info;
      this.status = 'failed';
    } finally {
      if (this.ctl === ctl) this.ctl = null;
    }
  }

  private show(c: Comparison, again: boolean): void {
    this.result = c;
    this.tree.set(c, again);
    if (this.wantPath) this.reveal();
  }

  /** Select the path the URL named, once the comparison lists it. */
  private reveal(): void {
    const n = this.wantPath ? this.tree.lookup(this.wantPath) : -1;
    if (n >= 0) { this.tree.reveal(n); this.wantPath = null; }
  }
}

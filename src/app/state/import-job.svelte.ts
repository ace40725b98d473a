// One running download or import: progress (bytes, layer i of n, speed; each layer's download for
// an image pulled from a registry) and its AbortController.
import type { ImportProgress, LayerPull } from '../engine-api.ts';

export type JobPhase = 'downloading' | ImportProgress['phase'];

export class ImportJob {
  readonly name: string;
  readonly controller = new AbortController();
  phase = $state<JobPhase>('reading');
  bytes = $state(0);
  total = $state(0);
  layer = $state(0);
  layers = $state(0);
  /** a registry pull: each layer's download, in layer order */
  pulls = $state.raw<LayerPull[] | null>(null);
  /** bytes per second, smoothed */
  speed = $state(0);
  private lastBytes = 0;
  private lastTime: number;
  private readonly now: () => number;

  constructor(name: string, now: () => number = () => performance.now()) {
    this.name = name;
    this.now = now;
    this.lastTime = now();
  }

  get signal(): AbortSignal { return this.controller.signal; }

  /** 0..1, or null when the total is unknown */
  get fraction(): number | null {
    return this.total > 0 ? Math.min(1, this.bytes / this.total) : null;
  }

  update(p: Partial<Omit<ImportProgress, 'phase'>> & { phase: JobPhase }): void {
    if (p.phase !== this.phase) { this.lastBytes = p.bytesRead ?? 0; this.lastTime = this.now(); this.speed = 0; }
    this.phase = p.phase;
    if (p.bytesTotal !== undefined) this.total = p.bytesTotal;
    if (p.layer !== undefined) this.layer = p.layer;
    if (p.layers !== undefined) this.layers = p.layers;
    if (p.pulls !== undefined) this.pulls = p.pulls;
    if (p.bytesRead !== undefined) {
      this.bytes = p.bytesRead;
      const t = this.now();
      const dt = (t - this.lastTime) / 1000;
      if (dt >= 0.25) {
        const inst = Math.max(0, (p.bytesRead - this.lastBytes) / dt);
        this.speed = this.speed === 0 ? inst : this.speed * 0.6 + inst * 0.4;
        this.lastBytes = p.bytesRead;
        this.lastTime = t;
      }
    }
  }

  cancel(): void { this.controller.abort(); }
}

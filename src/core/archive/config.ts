// Image config → summary, and history mapped onto layers (empty_layer entries skipped).
import type { ConfigSummary, HistoryEntry } from '../model.ts';

type Json = Record<string, unknown>;

const strArr = (v: unknown): string[] | null => Array.isArray(v) ? v.map(String) : null;
const str = (v: unknown): string | undefined => typeof v === 'string' && v !== '' ? v : undefined;

export function summarizeConfig(cfg: Json): ConfigSummary {
  // docker-legacy v1 json keeps the runtime config in "config" (or "container_config")
  const c = (cfg.config ?? cfg.container_config ?? {}) as Json;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries((c.Labels ?? {}) as Json)) labels[k] = String(v);
  return {
    os: str(cfg.os),
    architecture: str(cfg.architecture),
    variant: str(cfg.variant),
    created: str(cfg.created),
    author: str(cfg.author),
    user: str(c.User),
    workingDir: str(c.WorkingDir),
    env: strArr(c.Env) ?? [],
    entrypoint: strArr(c.Entrypoint),
    cmd: strArr(c.Cmd),
    exposedPorts: Object.keys((c.ExposedPorts ?? {}) as Json),
    volumes: Object.keys((c.Volumes ?? {}) as Json),
    labels,
    stopSignal: str(c.StopSignal),
  };
}

/** History entries, each tied to the layer it produced (null for empty_layer). */
export function mapHistory(cfg: Json, layerCount: number): HistoryEntry[] {
  const raw = Array.isArray(cfg.history) ? (cfg.history as unknown[]) : [];
  const out: HistoryEntry[] = [];
  let layer = 0;
  for (const entry of raw) {
    if (!entry || typeof entry !== 'object') continue; // not a history entry: nothing to show for it
    const h = entry as Json;
    const empty = h.empty_layer === true;
    out.push({
      created: str(h.created),
      createdBy: str(h.created_by),
      comment: str(h.comment),
      author: str(h.author),
      emptyLayer: empty,
      layer: empty || layer >= layerCount ? null : layer++,
    });
  }
  return out;
}

export function diffIds(cfg: Json): string[] {
  const rootfs = (cfg.rootfs ?? {}) as Json;
  // a diff_id that is not a string stays what the config says (its JSON), for the mismatch message
  return Array.isArray(rootfs.diff_ids) ? rootfs.diff_ids.map((d) => (typeof d === 'string' ? d : JSON.stringify(d) ?? String(d))) : [];
}

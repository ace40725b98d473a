// The layers pane's list: history entries in order, with empty-layer entries between real layers.
import type { HistoryEntry, ImageMeta, LayerInfo } from '../../core/model.ts';

export type LayerRow =
  | { kind: 'layer'; layer: LayerInfo; history?: HistoryEntry }
  | { kind: 'empty'; history: HistoryEntry; key: number };

export function layerRows(meta: ImageMeta): LayerRow[] {
  const rows: LayerRow[] = [];
  const shown = new Set<number>();
  meta.history.forEach((h, i) => {
    if (h.emptyLayer || h.layer === null) { rows.push({ kind: 'empty', history: h, key: i }); return; }
    const layer = meta.layers[h.layer];
    if (!layer || shown.has(h.layer)) return;
    shown.add(h.layer);
    rows.push({ kind: 'layer', layer, history: h });
  });
  // layers that no history entry describes (history is optional in image configs)
  for (const layer of meta.layers) {
    if (shown.has(layer.index)) continue;
    const at = rows.findIndex((r) => r.kind === 'layer' && r.layer.index > layer.index);
    const row: LayerRow = { kind: 'layer', layer };
    if (at < 0) rows.push(row); else rows.splice(at, 0, row);
  }
  return rows;
}

/** The command that made a layer, without the `/bin/sh -c #(nop) ` noise. */
export function commandText(createdBy: string | undefined): string {
  if (!createdBy) return '';
  return createdBy.replace(/^\/bin\/sh -c #\(nop\)\s*/, '').replace(/^\/bin\/sh -c\s+/, 'RUN ').trim();
}

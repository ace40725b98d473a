// Words and numbers the Analysis view shows for the analysis' values.
import type { SupersededHow } from '../../core/analysis/types.ts';

export const HOW_WORD: Record<SupersededHow, string> = {
  overwritten: 'overwritten', deleted: 'deleted', opaque: 'hidden by an opaque directory', metadata: 'copied again (only metadata changed)',
};

export function formatPercent(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(1)} %` : '–';
}

/** "1 file" / "2 files" */
export function plural(n: number, one: string, many = one + 's'): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

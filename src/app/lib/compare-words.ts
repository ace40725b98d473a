// Words and numbers of the Compare view: marks, signed size deltas, field names.
import type { ChangeWhat, ConfigField, FileDiff } from '../../core/compare/types.ts';
import { formatSize } from './format.ts';

export const CHANGE_LETTER = { added: 'A', modified: 'M', deleted: 'D' } as const;

/** the mark of a row: A / M / D, `?` while only a hash can tell, blank for a directory that only holds changes */
export function markOf(d: FileDiff | null): string {
  if (!d) return '';
  if (d.pending && !d.what.length) return '?';
  return CHANGE_LETTER[d.change];
}

export function classOf(d: FileDiff | null): string {
  if (!d) return '';
  return d.pending && !d.what.length ? 'pending' : d.change;
}

export function formatDelta(bytes: number): string {
  if (bytes === 0) return '±0';
  return `${bytes > 0 ? '+' : '−'}${formatSize(Math.abs(bytes))}`;
}

export const WHAT_WORD: Record<ChangeWhat, string> = {
  type: 'type', content: 'content', link: 'link target', device: 'device numbers', mode: 'mode', owner: 'owner', xattrs: 'xattrs',
};

export function whatText(d: FileDiff | null): string {
  if (!d || d.change !== 'modified') return '';
  const w = d.what.map((x) => WHAT_WORD[x]);
  if (d.pending) w.push('content?');
  return w.join(', ');
}

export const FIELD_WORD: Record<ConfigField, string> = {
  env: 'Env', entrypoint: 'Entrypoint', cmd: 'Cmd', user: 'User', workingDir: 'WorkingDir', exposedPorts: 'ExposedPorts',
  volumes: 'Volumes', labels: 'Labels', stopSignal: 'StopSignal', platform: 'Platform', history: 'History entries',
};

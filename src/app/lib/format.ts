// Display formatting for the UI: ls-style modes, sizes, dates, diff marks.
import { DiffType, FileType } from '../../core/model.ts';

const TYPE_CHAR: Record<FileType, string> = {
  [FileType.File]: '-', [FileType.Dir]: 'd', [FileType.Symlink]: 'l', [FileType.Char]: 'c',
  [FileType.Block]: 'b', [FileType.Fifo]: 'p', [FileType.Socket]: 's',
};

/** `drwxr-xr-x`, with s/S t/T for setuid, setgid and sticky, like ls. */
export function formatMode(type: FileType, mode: number): string {
  const rwx = (bits: number, special: boolean, ch: string) =>
    (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') +
    (special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-');
  return TYPE_CHAR[type] +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't');
}

export function formatOctal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1.2 MB style (powers of 1000, like docker). Bytes stay exact. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  if (bytes < 1000) return `${bytes} B`;
  let v = bytes, u = 0;
  while (v >= 1000 && u < UNITS.length - 1) { v /= 1000; u++; }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[u]}`;
}

export function formatBytesExact(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} bytes`;
}

/** Seconds since the epoch → `2023-11-14 22:30:00 UTC`. */
export function formatMtime(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) return '–';
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function formatDate(iso: string | number | undefined): string {
  if (iso === undefined || iso === '') return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().slice(0, 16).replace('T', ' ');
}

export function formatSpeed(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${formatSize(bytesPerSecond)}/s` : '';
}

export const DIFF_LETTER: Record<DiffType, string> = {
  [DiffType.Unmodified]: ' ', [DiffType.Added]: 'A', [DiffType.Modified]: 'M', [DiffType.Deleted]: 'D',
};
export const DIFF_WORD: Record<DiffType, string> = {
  [DiffType.Unmodified]: 'unmodified', [DiffType.Added]: 'added', [DiffType.Modified]: 'modified', [DiffType.Deleted]: 'deleted',
};
export const DIFF_CLASS: Record<DiffType, string> = {
  [DiffType.Unmodified]: '', [DiffType.Added]: 'added', [DiffType.Modified]: 'modified', [DiffType.Deleted]: 'deleted',
};

export const TYPE_WORD: Record<FileType, string> = {
  [FileType.File]: 'file', [FileType.Dir]: 'directory', [FileType.Symlink]: 'symlink',
  [FileType.Char]: 'character device', [FileType.Block]: 'block device', [FileType.Fifo]: 'fifo', [FileType.Socket]: 'socket',
};

export function shortDigest(d: string | undefined, n = 12): string {
  if (!d) return '–';
  const i = d.indexOf(':');
  return i >= 0 ? d.slice(i + 1, i + 1 + n) : d.slice(0, n);
}

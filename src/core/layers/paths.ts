// Paths are cleaned once, at the boundary: leading "/" and "./", duplicate slashes, "." and
// trailing slashes go; ".." is resolved lexically and may never climb above the root.
import { quoted, StrataError } from '../errors.ts';

const SLASH = 0x2f;

/** Clean a path; returns null if it escapes the root. "" is the root. */
export function tryCleanPath(name: string): string | null {
  // a directory's name ends in one "/" in most tars: dropped before the check
  const n = name.length > 1 && name.charCodeAt(name.length - 1) === SLASH && name.charCodeAt(name.length - 2) !== SLASH ? name.slice(0, -1) : name;
  if (!n.includes('//') && !n.startsWith('/') && !n.startsWith('./') && !n.endsWith('/') && !n.includes('/.') && n !== '.' && !n.startsWith('..')) {
    return n; // fast path: already clean
  }
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!out.length) return null;
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}

export function cleanPath(name: string, what: string): string {
  const p = tryCleanPath(name);
  if (p === null) {
    throw new StrataError('UNSAFE_PATH', `${what}: entry ${quoted(name)} escapes the root filesystem with "..". The layer is malformed or malicious; refusing to apply it.`);
  }
  return p;
}

export function cleanMemberName(name: string): string {
  return tryCleanPath(name) ?? name;
}

export function baseName(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

export function dirName(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

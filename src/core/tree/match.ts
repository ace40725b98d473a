// Filter patterns for tree search: plain substrings, or globs (`*.conf`, `/etc/**`, `?`, `[a-z]`).

export interface MatchOptions { caseSensitive?: boolean }

/** (path, name) → matches. Path is "/"-rooted. Returns null for a blank pattern (match nothing). */
export type Matcher = (path: string, name: string) => boolean;

export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/**
 * A glob without "/" matches the name (like `find -name`); with "/" it matches the whole path from
 * the root (a leading "/" is optional). `*` and `?` stay within one name, `**` spans directories.
 * Anything else is a substring of the path. Case-insensitive unless asked.
 */
export function compileMatcher(pattern: string, opts: MatchOptions = {}): Matcher | null {
  const p = pattern.trim();
  if (p === '') return null;
  if (!isGlob(p)) {
    if (opts.caseSensitive) return (path) => path.includes(p);
    const lower = p.toLowerCase();
    return (path) => path.toLowerCase().includes(lower);
  }
  const onPath = p.includes('/');
  const body = globToRegExp(onPath ? p.replace(/^\/+/, '') : p);
  const re = new RegExp(onPath ? `^/${body}$` : `^${body}$`, opts.caseSensitive ? '' : 'i');
  return onPath ? (path) => re.test(path) : (_path, name) => re.test(name);
}

export function globToRegExp(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        // `**/` also matches zero directories
        if (glob[i + 1] === '/') { i++; out += '(?:.*/)?'; } else out += '.*';
      } else out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) { out += '\\['; continue; }
      let cls = glob.slice(i + 1, end);
      const neg = cls.startsWith('!') || cls.startsWith('^');
      if (neg) cls = cls.slice(1);
      out += `[${neg ? '^' : ''}${cls.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else {
      out += c.replace(/[.+^${}()|\\]/g, '\\$&');
    }
  }
  return out;
}

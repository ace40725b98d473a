// The distribution an image is built on, from /etc/os-release (or /usr/lib/os-release): the
// `distro` that deb, apk and rpm purls carry.
import type { Distro } from '../types.ts';
import { decodeUtf8, splitLines } from './text.ts';

export const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release'] as const;

/** Both places the file lives; when an image has both, the caller takes /etc/os-release (os-release(5)). */
export function osReleaseMatch(path: string): boolean {
  return (OS_RELEASE_PATHS as readonly string[]).includes(path);
}

/**
 * Parses os-release(5): KEY=value lines, values optionally in single or double quotes, shell
 * escapes (\" \\ \$ \` inside double quotes, any backslash-escaped character unquoted), "#"
 * comments. ID defaults to "linux" as the spec says; null when the file assigns nothing at all.
 */
export function parseOsRelease(bytes: Uint8Array): Distro | null {
  const vars = new Map<string, string>();
  for (const raw of splitLines(decodeUtf8(bytes))) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const value = unquote(m[2]);
    if (value !== null) vars.set(m[1], value);
  }
  if (vars.size === 0) return null;
  return {
    id: vars.get('ID') || 'linux',
    versionId: vars.get('VERSION_ID') || null,
    prettyName: vars.get('PRETTY_NAME') || null,
  };
}

/** Shell-style word: quoted parts and escapes; null for an unterminated quote. */
function unquote(s: string): string | null {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) i++;
        out += s[i++];
      }
      if (i >= s.length) return null;
      i++;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return null;
      out += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\' && i + 1 < s.length) {
      out += s[i + 1];
      i += 2;
    } else if (c === '#' && /\s/.test(s[i - 1] ?? ' ')) {
      break;
    } else {
      out += c;
      i++;
    }
  }
  return out.trim();
}

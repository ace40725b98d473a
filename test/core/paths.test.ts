// Path cleaning (src/core/layers/paths.ts): its fast paths (an already clean name, a directory
// name with one trailing "/") must give what POSIX normalisation gives, on names
// built from every piece that matters, and escapes above the root are refused.
import { posix } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cleanPath, tryCleanPath } from '../../src/core/layers/paths.ts';

/**
 * The definition, by other means: Node's POSIX normalisation of the name without its leading "/"
 * ("." and "" components dropped, ".." resolved lexically), refused when ".." is left at its start.
 */
function reference(name: string): string | null {
  const n = posix.normalize(name.replace(/^\/+/, '') || '.');
  if (n === '..' || n.startsWith('../')) return null;
  const t = n.replace(/\/+$/, '');
  return t === '.' ? '' : t;
}

describe('tryCleanPath', () => {
  test.each([
    ['usr/lib/', 'usr/lib'], ['usr/lib', 'usr/lib'], ['./usr/lib/', 'usr/lib'], ['/usr//lib/', 'usr/lib'], ['usr/lib//', 'usr/lib'],
    ['./', ''], ['.', ''], ['/', ''], ['', ''], ['a/./b/', 'a/b'], ['a/b/../c/', 'a/c'], ['.wh..wh..opq', '.wh..wh..opq'],
    ['a/.hidden/', 'a/.hidden'], ['..a/', '..a'], ['a../', 'a..'], ['..', null], ['../', null], ['a/../../b/', null], ['/../etc/', null],
  ])('%j → %j', (name, want) => {
    expect(tryCleanPath(name)).toBe(want);
  });

  test('equals POSIX normalisation on 40,000 names made of the tricky pieces', () => {
    const pieces = ['', '.', '..', 'a', 'b.', '.c', '..d', 'e..', '.wh.f', '.wh..wh..opq', 'ü', ' '];
    let seed = 12345;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    for (let i = 0; i < 40_000; i++) {
      const parts = Array.from({ length: 1 + rnd(5) }, () => pieces[rnd(pieces.length)]);
      const name = (rnd(4) === 0 ? '/' : rnd(4) === 0 ? './' : '') + parts.join('/') + (rnd(3) === 0 ? '/' : rnd(8) === 0 ? '//' : '');
      expect(tryCleanPath(name), name).toBe(reference(name));
    }
  });

  test('cleanPath names the entry that escapes the root', () => {
    expect(() => cleanPath('a/../../etc/passwd', 'layer 2')).toThrow(/layer 2: entry "a\/..\/..\/etc\/passwd" escapes the root/);
    expect(cleanPath('./usr/bin/', 'layer 1')).toBe('usr/bin');
  });
});

import { expect, test } from 'vitest';
import { concatBytes, joinUtf8 } from '../../src/core/bytes.ts';

/** what joinUtf8 replaces: one TextEncoder call per string, then one array */
function oneByOne(strings: string[]): { bytes: Uint8Array; offsets: number[] } {
  const parts = strings.map((s) => new TextEncoder().encode(s));
  const offsets = [0];
  for (const p of parts) offsets.push(offsets[offsets.length - 1] + p.length);
  return { bytes: concatBytes(parts), offsets };
}

test('joinUtf8 gives the bytes and offsets of encoding each string on its own', () => {
  const cases: string[][] = [
    [],
    [''],
    ['', '', ''],
    ['usr', 'lib', 'x86_64-linux-gnu', 'libc.so.6'],
    ['ascii', 'naïve', '日本語のファイル', 'mixed ascii then é', 'é first', 'end é'],
    ['emoji 😀 pair', '😀', 'a😀b😀c'],
    ['lone \ud800 high', '\udc00 lone low', 'x\ud83d', '\ud83dy'], // lone surrogates: U+FFFD, as TextEncoder writes them
    ['\u007f\u0080\u07ff\u0800\uffff'],
  ];
  for (const strings of cases) {
    const got = joinUtf8(strings);
    const want = oneByOne(strings);
    expect(Array.from(got.offsets)).toEqual(want.offsets);
    expect(got.bytes).toEqual(want.bytes);
    expect(got.bytes.buffer.byteLength).toBe(want.bytes.length); // no oversized buffer kept
  }
});

test('joinUtf8 on many names (a tree\'s worth) matches encoding one by one', () => {
  const names: string[] = [];
  for (let i = 0; i < 5000; i++) names.push(i % 97 === 0 ? `fichier-${i}-é` : i % 89 === 0 ? `文件${i}` : `file-${i}.txt`);
  const got = joinUtf8(names);
  const want = oneByOne(names);
  expect(Array.from(got.offsets)).toEqual(want.offsets);
  expect(got.bytes).toEqual(want.bytes);
});

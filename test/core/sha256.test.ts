// Our streaming SHA-256 against node:crypto: padding edges (55/56/63/64 bytes…), every input
// replayed in chunks of 1, 7, 64, 321 bytes and whole, and the misuse errors.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { Sha256 } from '../../src/core/sha256.ts';
import { jsSha256 } from '../../src/core/env.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const want = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('Sha256', () => {
  const sizes = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65_537, 300_000];
  test.each(sizes)('%i random bytes, in chunks of 1, 7, 64, 321 and at once', (n) => {
    const data = new Uint8Array(randomBytes(n));
    for (const step of [1, 7, 64, 321, Math.max(1, n)]) {
      const h = new Sha256();
      for (let i = 0; i < n; i += step) h.update(data.subarray(i, i + step));
      expect(hex(h.digest()), `step ${step}`).toBe(want(data));
    }
  });

  test('known answers', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(hex(new Sha256().digest())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(new Sha256().update(enc('abc')).digest())).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(new Sha256().update(enc('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).digest()))
      .toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  test('a million "a"s (the FIPS 180-2 long message), fed in uneven pieces', () => {
    const a = new Uint8Array(1_000_000).fill(0x61);
    const h = new Sha256();
    for (let i = 0, step = 1; i < a.length; i += step, step = (step * 7 + 3) % 9973 + 1) h.update(a.subarray(i, i + step));
    expect(hex(h.digest())).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  test('misuse is an error, not a wrong digest', () => {
    const h = new Sha256();
    h.digest();
    expect(() => h.update(new Uint8Array(1))).toThrow(/update after digest/);
    expect(() => h.digest()).toThrow(/digest called twice/);
  });

  test('the core env hasher formats "sha256:<hex>"', () => {
    const h = jsSha256();
    h.update(new TextEncoder().encode('abc'));
    expect(h.digest()).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

// The import's choice of how many layers to decode at once (src/core/layers/schedule.ts), on the
// layer sizes of the bench's real-content images (ISIZE of each gzip layer, in MB, in the order the
// import hands them out: largest compressed first) and on edge cases.
import { describe, expect, test } from 'vitest';
import { decodeSlots, decodeWork, makespan } from '../../src/core/layers/schedule.ts';

describe('makespan', () => {
  test('one slot per core: list scheduling in the given order', () => {
    expect(makespan([129, 121, 53], 2, 2)).toBe(174); // 121 then 53 on the second worker
    expect(makespan([5, 5, 5, 5], 2, 2)).toBe(10);
    expect(makespan([7], 2, 2)).toBe(7);
    expect(makespan([], 2, 2)).toBe(0);
  });

  test('more slots than cores: the running jobs share the cores', () => {
    // three at 2/3 of a core until the 53 is done (at 79.5), then the other two alone
    expect(makespan([129, 121, 53], 3, 2)).toBeCloseTo(79.5 + (129 - 53) , 6);
    // the whole work over the cores when the shares end together
    expect(makespan([10, 10, 10], 3, 2)).toBeCloseTo(15, 6);
    // one core: sharing changes nothing
    expect(makespan([3, 4, 5], 2, 1)).toBeCloseTo(12, 6);
  });

  test('empty layers take no time', () => {
    expect(makespan([0, 0, 6, 0], 2, 2)).toBe(6);
    expect(makespan([0, 0, 0], 3, 2)).toBe(0);
  });
});

describe('decodeSlots', () => {
  test('layers of like sizes (text-go: doc, include, python) take the spare worker', () => {
    expect(decodeSlots([129, 121, 53], 2)).toBe(3);
  });

  test('one layer outweighing the rest keeps one decode per core (sharing would slow it)', () => {
    // libs-go: /usr/lib/x86_64-linux-gnu, site-packages, /usr/share/doc, include + python
    expect(decodeSlots([714, 610, 129, 174], 2)).toBe(2);
    // the synthetic bench image
    expect(decodeSlots([1019, 400, 159, 16, 0], 2)).toBe(2);
    expect(decodeSlots([900, 50, 50], 2)).toBe(2);
  });

  test('no more layers than cores, or one core: nothing to share', () => {
    expect(decodeSlots([100, 100], 2)).toBe(2);
    expect(decodeSlots([100], 2)).toBe(2);
    expect(decodeSlots([10, 10, 10], 1)).toBe(1);
    expect(decodeSlots([], 4)).toBe(4);
  });

  test('a gain under 5 % is not worth the extra thread', () => {
    const two = makespan([100, 80, 45], 2, 2);
    const three = makespan([100, 80, 45], 3, 2);
    expect(three).toBeLessThan(two);
    expect(three).toBeGreaterThan(0.95 * two);
    expect(decodeSlots([100, 80, 45], 2)).toBe(2);
  });
});

describe('decodeWork', () => {
  test('gzip: the ISIZE trailer when it can be the inflated size', () => {
    expect(decodeWork('gzip', 78e6, 129e6)).toBe(129e6);
    expect(decodeWork('gzip', 100, 100)).toBe(100); // stored blocks: inflated ≈ compressed
  });

  test('gzip: an impossible ISIZE (several members, over 4 GiB) falls back to a usual ratio', () => {
    expect(decodeWork('gzip', 1000, 10)).toBe(3000);
    expect(decodeWork('gzip', 1000, 2_000_000)).toBe(3000);
    expect(decodeWork('gzip', 1000)).toBe(3000);
  });

  test('zstd and uncompressed layers', () => {
    expect(decodeWork('zstd', 1000, 5000)).toBe(3000);
    expect(decodeWork('none', 1000)).toBe(250);
  });
});

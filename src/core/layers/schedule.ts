// How many layers an import decodes at once. The pool has one worker per core and hands out layers
// largest first; when the layers are of like sizes, the last one runs alone while the other cores
// idle (text-go on 2 cores: /usr/share/doc on one worker, /usr/include then the Python library on
// the other — the second worker's two layers are the import's makespan). One more decode than
// cores lets the OS share the cores among three layers instead, and the makespan falls towards the
// whole work over the cores; but where one layer outweighs the others together, sharing only slows
// that one down. So the import models both and takes the spare worker only where it wins.
import type { Compression } from '../model.ts';

/**
 * A layer's decode work in inflated bytes: what the inflate's time follows (its tar parse costs
 * little beside it). A gzip stream's last 4 bytes (ISIZE) give its inflated size modulo 2^32; where
 * that cannot be right (less than the compressed size, more than deflate's 1032:1 — several gzip
 * members, or over 4 GiB), or for zstd, the compressed size times a usual ratio stands in. An
 * uncompressed layer is only read and parsed: a quarter of the per-byte cost of an inflate.
 */
export function decodeWork(compression: Compression, size: number, isize?: number): number {
  if (compression === 'none') return size / 4;
  if (compression === 'gzip' && isize !== undefined && isize >= size && isize <= size * 1032) return isize;
  return size * TYPICAL_RATIO;
}
const TYPICAL_RATIO = 3;

/**
 * The makespan of `work` (in the order the jobs are handed out) with at most `slots` jobs running
 * at once on `cores` cores: each job starts as soon as a slot is free, and running jobs share the
 * cores equally (each at most one core).
 */
export function makespan(work: readonly number[], slots: number, cores: number): number {
  const queue = [...work];
  let running: number[] = [];
  let t = 0;
  while (queue.length || running.length) {
    while (queue.length && running.length < slots) running.push(queue.shift()!);
    const rate = Math.min(1, cores / running.length);
    const next = Math.min(...running);
    t += next / rate;
    running = running.map((w) => w - next).filter((w) => w > 0);
  }
  return t;
}

/** Decodes beyond `cores` at once only if the model makes the import this much shorter. */
const GAIN = 0.95;

/**
 * How many layers to decode at once on `cores` cores: `cores`, or one more where sharing the cores
 * among one more job finishes the whole work at least 5 % sooner (the model above).
 */
export function decodeSlots(work: readonly number[], cores: number): number {
  if (cores < 2 || work.length <= cores) return cores;
  return makespan(work, cores + 1, cores) < GAIN * makespan(work, cores, cores) ? cores + 1 : cores;
}

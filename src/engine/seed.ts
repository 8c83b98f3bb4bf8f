/**
 * Seeding: one integer run seed determines every random choice of a run. Per-layer / per-op
 * seeds are derived from (run seed, stable name) with a hash, so adding a layer does not shift
 * the seeds of the others, and seeded tf random ops give identical values on cpu and wasm.
 */
import { Rng } from './rng.js';

/** 32-bit FNV-1a hash of a string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3 32-bit finaliser (good avalanche). */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A deterministic seed in [1, 2³¹ − 1] for the op or layer `name` of the run `runSeed`
 * (e.g. `seedFor(7, 'enc.ts.mtand.q.w')`). Pass it as the `seed` of tf random ops.
 */
export function seedFor(runSeed: number, name: string): number {
  if (!Number.isInteger(runSeed)) throw new Error(`seedFor: run seed must be an integer, got ${runSeed}`);
  const h = mix32(fnv1a(name) ^ mix32((runSeed >>> 0) ^ 0x9e3779b9) ^ Math.floor(runSeed / 2 ** 32));
  return (h % 2147483646) + 1;
}

/** A seeded JS-side generator for `name` within the run `runSeed`. */
export function rngFor(runSeed: number, name: string): Rng {
  return new Rng(seedFor(runSeed, name));
}

/** `n` distinct-stream seeds derived from a run seed (e.g. one per repetition). */
export function deriveSeeds(runSeed: number, n: number, prefix = 'seed'): number[] {
  return Array.from({ length: n }, (_, i) => seedFor(runSeed, `${prefix}.${i}`));
}

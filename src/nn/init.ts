/**
 * Weight initialisers that draw from the seeded `Rng` on the JS side (so initial weights are
 * identical on every backend and every run).
 */
import { Rng } from '../engine/rng.js';

/** Glorot (Xavier) uniform: U(−a, a) with a = √(6 / (fanIn + fanOut)).  [n] values. */
export function glorotUniform(rng: Rng, fanIn: number, fanOut: number, n: number): Float32Array {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return uniform(rng, -a, a, n);
}

/** n draws from U(lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.next();
  return out;
}

/** Resolve the generator a layer initialises from: a fresh `Rng(seed)` when a seed is given. */
export function initRng(rng: Rng, seed: number | undefined): Rng {
  return seed === undefined ? rng : new Rng(seed);
}

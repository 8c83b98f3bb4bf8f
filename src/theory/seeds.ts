/** Deterministic per-unit seeds: every (size, replication) gets its own stream from the base seed. */
import { mix32 } from '../engine/seed.js';

/** A 31-bit seed from a base seed and any number of integer keys (order matters). */
export function unitSeed(base: number, ...keys: number[]): number {
  let h = mix32((base >>> 0) ^ 0x3c6ef372);
  for (const k of keys) h = mix32(h ^ mix32((k >>> 0) + 0x9e3779b9 + ((Math.floor(k / 4294967296) >>> 0) * 31)));
  return h & 0x7fffffff;
}

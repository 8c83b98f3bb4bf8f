/** Deterministic per-unit seeds: every (size, replication) gets its own stream from the base seed. */

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 31-bit seed from a base seed and any number of integer keys (order matters). */
export function unitSeed(base: number, ...keys: number[]): number {
  let h = fmix32((base >>> 0) ^ 0x3c6ef372);
  for (const k of keys) h = fmix32(h ^ fmix32((k >>> 0) + 0x9e3779b9 + ((Math.floor(k / 4294967296) >>> 0) * 31)));
  return h & 0x7fffffff;
}

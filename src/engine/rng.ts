/**
 * Seeded pseudo-random generator (mulberry32 for uniforms, Box–Muller for normals).
 * Every random choice in fleximodal that is not a tf op goes through one of these.
 */
/** The state of an {@link Rng}: the mulberry32 counter and the cached second Box–Muller normal. */
export interface RngState {
  state: number;
  spareNormal: number | null;
}

export class Rng {
  private state: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.state = (seed >>> 0) ^ 0x9e3779b9;
    if (this.state === 0) this.state = 0x6d2b79f5;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal draw. */
  normal(): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal;
      this.spareNormal = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i]!;
      a[i] = a[j]!;
      a[j] = tmp;
    }
    return a;
  }

  /** The generator's full state (for checkpoints): restoring it continues the same sequence. */
  getState(): RngState {
    return { state: this.state, spareNormal: this.spareNormal };
  }

  /** Continue from a state returned by {@link getState}. */
  setState(s: RngState): void {
    this.state = s.state >>> 0;
    this.spareNormal = s.spareNormal;
  }

  /** A fresh integer seed for a tf random op or a child generator. */
  seed(): number {
    return Math.floor(this.next() * 2147483647);
  }
}

/**
 * A seed for a tfjs random op (tf.randomNormal …). tfjs treats any falsy seed — 0 included — as
 * "no seed" and draws from Math.random, so seed 0 would not reproduce; it is mapped to
 * 2147483647, which `Rng.seed()` never returns (it is below 2³¹ − 1).
 */
export function tfSeed(seed: number): number {
  return seed === 0 ? 2147483647 : seed;
}

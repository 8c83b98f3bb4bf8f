/**
 * Supporting groups of MoE-Retriever (seed 001, eq. 2): for a sample with observed modality set
 * mc and a missing target modality T, G(T | mc) = the pool samples whose observed set contains
 * mc ∪ {T}. The index is built once from the pool's modality combinations (bitmasks, bit m =
 * modality m); lookups are cached per (mc, T).
 *
 * Fallback when G(T | mc) is empty: relax to the pool samples that observe T at all
 * (G(T | ∅)); when no pool sample observes T the pool is empty and the retrieval runs on the
 * inter-modal context alone. Every lookup is counted by kind, so reports say how often each
 * fallback fired.
 */
import { FlexiModalError } from '../errors.js';
import type { Rng } from '../engine/rng.js';

/** Which pool a lookup returned. */
export type PoolKind = 'exact' | 'observes-target' | 'empty';

/** Result of one lookup. */
export interface PoolLookup {
  /** Pool indices (ascending) of the supporting group. */
  members: Int32Array;
  kind: PoolKind;
}

/** How many lookups returned each kind of pool. */
export type PoolCounts = Record<PoolKind, number>;

/** An empty counter. */
export function newPoolCounts(): PoolCounts {
  return { exact: 0, 'observes-target': 0, empty: 0 };
}

/** The supporting-group index over a retrieval pool. */
export class SupportingGroupIndex {
  readonly size: number;
  private readonly groups: Int32Array;
  private readonly cache = new Map<number, PoolLookup>();
  /** Lookups by kind since construction (or the last `resetCounts`). */
  readonly counts: PoolCounts = newPoolCounts();

  /** `groupIds[i]` = modality bitmask of pool sample i; `numModalities` = M. */
  constructor(
    groupIds: ArrayLike<number>,
    readonly numModalities: number,
  ) {
    if (!(Number.isInteger(numModalities) && numModalities >= 1 && numModalities <= 30)) {
      throw new FlexiModalError(`numModalities = ${numModalities} must be an integer in [1, 30]`, { where: 'SupportingGroupIndex' });
    }
    this.groups = Int32Array.from(groupIds);
    this.size = this.groups.length;
    const full = 2 ** numModalities;
    this.groups.forEach((g, i) => {
      if (!(g >= 0 && g < full)) throw new FlexiModalError(`pool sample ${i} has group id ${g}, outside [0, ${full})`, { where: 'SupportingGroupIndex' });
    });
  }

  /** Modality bitmask of pool sample i. */
  groupOf(i: number): number {
    return this.groups[i]!;
  }

  /** Pool samples whose combination contains every bit of `need` (ascending). */
  private containing(need: number): Int32Array {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if ((this.groups[i]! & need) === need) out.push(i);
    return Int32Array.from(out);
  }

  /** G(T | mc) with the fallback, without counting. `target` must not be in `mc`. */
  peek(mc: number, target: number): PoolLookup {
    if (!(Number.isInteger(target) && target >= 0 && target < this.numModalities)) {
      throw new FlexiModalError(`target modality ${target} outside [0, ${this.numModalities})`, { where: 'SupportingGroupIndex.lookup' });
    }
    const key = mc * this.numModalities + target;
    let hit = this.cache.get(key);
    if (!hit) {
      const exact = this.containing(mc | (1 << target));
      if (exact.length > 0) hit = { members: exact, kind: 'exact' };
      else {
        const relaxed = this.containing(1 << target);
        hit = relaxed.length > 0 ? { members: relaxed, kind: 'observes-target' } : { members: relaxed, kind: 'empty' };
      }
      this.cache.set(key, hit);
    }
    return hit;
  }

  /** G(T | mc) with the fallback; the lookup is counted. */
  lookup(mc: number, target: number): PoolLookup {
    const hit = this.peek(mc, target);
    this.counts[hit.kind]++;
    return hit;
  }

  /**
   * Kinds of pool every (sample, missing modality) of a split would get: the static
   * "how often does the fallback fire" count for that split. `groupIds` of the split's samples.
   */
  splitCounts(groupIds: ArrayLike<number>): PoolCounts {
    const c = newPoolCounts();
    for (let i = 0; i < groupIds.length; i++) {
      const mc = groupIds[i]!;
      for (let t = 0; t < this.numModalities; t++) if (!((mc >>> t) & 1)) c[this.peek(mc, t).kind]++;
    }
    return c;
  }

  resetCounts(): void {
    for (const k of Object.keys(this.counts) as PoolKind[]) this.counts[k] = 0;
  }
}

/**
 * Draw min(n, |members|) distinct members with `rng` (partial Fisher–Yates; the order of the
 * draw is kept). Deterministic for a given rng state.
 */
export function drawMembers(members: Int32Array, n: number, rng: Rng): Int32Array {
  const k = Math.min(n, members.length);
  if (k <= 0) return new Int32Array(0);
  const a = Int32Array.from(members);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(a.length - i);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a.slice(0, k);
}

/** Number of set bits of a modality bitmask (|mc|). */
export function popcount(mask: number): number {
  let c = 0;
  for (let m = mask >>> 0; m; m &= m - 1) c++;
  return c;
}

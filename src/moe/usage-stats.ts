/**
 * Expert usage by modality (FuseMoE Fig. 3c): for every expert, the gate-weighted amount of each
 * modality among its top-K assignments, normalised across modalities.
 */
import { FlexiModalError } from '../errors.js';
import type { RouterStats } from './routers.js';

/**
 * Gate-weighted usage counts. topIdx: [N, K] expert ids (−1 skipped); topGates: [N, K] gate values;
 * membership: [N, M] weights of token n for modality j (one-hot labels or a multi-hot row for joint
 * tokens). Returns [S, M] row-major: usage[e, j] = Σ_{(n,k): topIdx = e} gate[n,k] · membership[n, j].
 */
export function expertModalityUsage(
  topIdx: Int32Array,
  topGates: ArrayLike<number>,
  membership: ArrayLike<number>,
  numExperts: number,
  numModalities: number,
): Float64Array {
  const M = numModalities;
  if (topIdx.length !== topGates.length) {
    throw new FlexiModalError(`topIdx has ${topIdx.length} entries but topGates ${topGates.length}`, {
      where: 'moe/usage-stats expertModalityUsage',
      hint: 'pass [N, K] ids and the matching [N, K] gates',
    });
  }
  const N = membership.length / M;
  if (!Number.isInteger(N) || (N === 0 ? topIdx.length !== 0 : topIdx.length % N !== 0)) {
    throw new FlexiModalError(`membership length ${membership.length} is not N·M for ${topIdx.length} assignments`, {
      where: 'moe/usage-stats expertModalityUsage',
      hint: 'pass one row of M weights per token',
    });
  }
  const K = N === 0 ? 0 : topIdx.length / N;
  const usage = new Float64Array(numExperts * M);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const e = topIdx[n * K + k]!;
      if (e < 0) continue;
      if (e >= numExperts) throw new RangeError(`expert id ${e} ≥ ${numExperts}`);
      const g = topGates[n * K + k]!;
      for (let j = 0; j < M; j++) usage[e * M + j]! += g * membership[n * M + j]!;
    }
  }
  return usage;
}

/** One-hot membership [N, M] from modality labels [N] (label −1 = counts for none). */
export function membershipFromLabels(labels: Int32Array, numModalities: number): Float32Array {
  const out = new Float32Array(labels.length * numModalities);
  labels.forEach((j, n) => {
    if (j >= 0) out[n * numModalities + j] = 1;
  });
  return out;
}

/** Normalise each expert's row to shares summing to 1 (an unused expert gets a row of zeros). */
export function usageShares(usage: Float64Array, numExperts: number, numModalities: number): number[][] {
  const rows: number[][] = [];
  for (let e = 0; e < numExperts; e++) {
    const row = Array.from(usage.subarray(e * numModalities, (e + 1) * numModalities));
    const tot = row.reduce((a, b) => a + b, 0);
    rows.push(tot > 0 ? row.map((v) => v / tot) : row.map(() => 0));
  }
  return rows;
}

/** Accumulates gate-weighted expert × modality usage over batches. */
export class ExpertUsageAccumulator {
  readonly numExperts: number;
  readonly numModalities: number;
  private readonly usage: Float64Array;

  constructor(numExperts: number, numModalities: number) {
    this.numExperts = numExperts;
    this.numModalities = numModalities;
    this.usage = new Float64Array(numExperts * numModalities);
  }

  /** Add one batch of assignments (see expertModalityUsage for shapes). */
  add(topIdx: Int32Array, topGates: ArrayLike<number>, membership: ArrayLike<number>): void {
    const u = expertModalityUsage(topIdx, topGates, membership, this.numExperts, this.numModalities);
    for (let i = 0; i < u.length; i++) this.usage[i]! += u[i]!;
  }

  /** Add every gate group of a router call (reads the gate values synchronously). */
  addRouterStats(stats: RouterStats): void {
    for (const g of stats.groups) this.add(g.topIdx, g.topGates.dataSync(), g.membership);
  }

  /** [S, M] raw gate-weighted sums (a copy). */
  totals(): Float64Array {
    return this.usage.slice();
  }

  /** [S][M] per-expert modality shares (rows sum to 1; Fig. 3c). */
  shares(): number[][] {
    return usageShares(this.usage, this.numExperts, this.numModalities);
  }

  /** Clear the counts. */
  reset(): void {
    this.usage.fill(0);
  }
}

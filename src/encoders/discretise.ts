/**
 * UTDE imputation branch, data side (FuseMoE App. C.1): discretise an irregular series onto the γ
 * reference points r_i = i/(γ−1) (the same points mTAND queries). Pure JS over the batch arrays.
 *
 * Bin i holds the observations with r_{i−1} < τ ≤ r_i (bin 0: τ ≤ 0), i.e. the bin whose right
 * edge is reference point r_i. For each variable v and bin i:
 *  - value[i, v]    = the last observation with τ ≤ r_i (last observation carried forward);
 *                     0 (= the training mean in normalised units) before the first observation;
 *  - observed[i, v] = 1 if v was observed in bin i, else 0;
 *  - sinceLast[i, v] (optional extra channel) = r_i − τ_last, or 1 before the first observation.
 * Times are clamped to [0, 1]; a bin index is ⌈τ·(γ−1) − 1e-4⌉ (the tolerance absorbs float32
 * rounding of times that sit on a reference point).
 */
import type { TimeSeriesBatch } from '../data/batchTypes.js';
import { referencePoints } from './batchArrays.js';

export interface Discretised {
  B: number;
  gamma: number;
  V: number;
  /** LOCF values.  [B, γ, V] */
  values: Float32Array;
  /** Observed-in-bin indicator.  [B, γ, V] */
  observed: Float32Array;
  /** Time since the last observation (only when requested).  [B, γ, V] */
  sinceLast?: Float32Array;
}

/** Bin of a time τ ∈ [0, 1] among γ reference points. */
export function binOf(tau: number, gamma: number): number {
  if (gamma === 1) return 0;
  const t = Math.min(1, Math.max(0, tau));
  return Math.min(gamma - 1, Math.max(0, Math.ceil(t * (gamma - 1) - 1e-4)));
}

/** Discretise a time-series batch by LOCF onto γ bins (see the module comment). */
export function discretiseLocf(batch: TimeSeriesBatch, gamma: number, opts: { timeSinceLast?: boolean } = {}): Discretised {
  const { T, V } = batch;
  const B = batch.times.length / T;
  const values = new Float32Array(B * gamma * V);
  const observed = new Float32Array(B * gamma * V);
  const sinceLast = opts.timeSinceLast ? new Float32Array(B * gamma * V).fill(1) : undefined;
  const refs = referencePoints(gamma);
  // per (bin, variable): last value and its time within the bin
  const lastVal = new Float64Array(gamma * V);
  const lastTime = new Float64Array(gamma * V);
  for (let b = 0; b < B; b++) {
    const steps: number[] = [];
    for (let t = 0; t < T; t++) if (batch.timeMask[b * T + t]! > 0) steps.push(t);
    steps.sort((i, j) => batch.times[b * T + i]! - batch.times[b * T + j]! || i - j);
    lastTime.fill(-1);
    const seen = new Uint8Array(gamma * V);
    for (const t of steps) {
      const tau = Math.min(1, Math.max(0, batch.times[b * T + t]!));
      const bin = binOf(tau, gamma);
      for (let v = 0; v < V; v++) {
        const i = (b * T + t) * V + v;
        if (batch.mask[i]! > 0) {
          seen[bin * V + v] = 1;
          lastVal[bin * V + v] = batch.values[i]!;
          lastTime[bin * V + v] = tau;
        }
      }
    }
    for (let v = 0; v < V; v++) {
      let cur = 0;
      let curTime = -1;
      for (let g = 0; g < gamma; g++) {
        const o = (b * gamma + g) * V + v;
        if (seen[g * V + v]) {
          cur = lastVal[g * V + v]!;
          curTime = lastTime[g * V + v]!;
          observed[o] = 1;
        }
        values[o] = cur;
        if (sinceLast && curTime >= 0) sinceLast[o] = Math.max(0, refs[g]! - curTime);
      }
    }
  }
  return sinceLast ? { B, gamma, V, values, observed, sinceLast } : { B, gamma, V, values, observed };
}

/**
 * Causal im2col: features [B, γ, C] → [B, γ, k·C] where block j (0 ≤ j < k) holds the features
 * of step i − j (zeros before step 0). A linear layer on this is a causal 1-D convolution with
 * kernel size k: y_i = Σ_j x_{i−j}·W_j, written as one matmul over the shifted copies.
 */
export function causalShifts(features: Float32Array, B: number, gamma: number, C: number, k: number): Float32Array {
  const out = new Float32Array(B * gamma * k * C);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < gamma; i++) {
      for (let j = 0; j < k && j <= i; j++) {
        const src = (b * gamma + i - j) * C;
        const dst = ((b * gamma + i) * k + j) * C;
        out.set(features.subarray(src, src + C), dst);
      }
    }
  }
  return out;
}

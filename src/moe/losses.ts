/**
 * Router losses: FuseMoE's entropy regularizer (eq. 4) and Shazeer's importance / load loss.
 */
import { tf } from '../engine/tf.js';
import { FlexiModalError } from '../errors.js';
import { gatherRows } from './row-ops.js';

/** Added inside log(p + δ) so that H stays finite (and differentiable) at p = 0. */
const LOG_EPS = 1e-12;
/** Added to mean² in cv² (as in Shazeer's reference). */
const CV_EPS = 1e-10;

/**
 * p̂_j: modality j's router distribution averaged over its tokens.
 * gateProbs: [N, S] per-token distributions; membership: [N·M] weights (1 when token n belongs to
 * modality j and counts — present, not padding; several 1s per row for joint tokens).
 * Returns probs [M, S] (row j = Σ_n w_nj p_n / Σ_n w_nj; a zero row when modality j has no token)
 * and counts [M] = Σ_n w_nj.
 */
export function modalityDistributions(
  gateProbs: tf.Tensor2D,
  membership: Float32Array,
  M: number,
): { probs: tf.Tensor2D; counts: Float64Array } {
  const N = gateProbs.shape[0];
  if (membership.length !== N * M) {
    throw new FlexiModalError(`membership has ${membership.length} entries, expected N·M = ${N * M}`, {
      where: 'moe/losses modalityDistributions',
      hint: 'pass one weight per (token, modality)',
    });
  }
  const counts = new Float64Array(M);
  for (let n = 0; n < N; n++) for (let j = 0; j < M; j++) counts[j]! += membership[n * M + j]!;
  // A = diag(1/count) · Wᵀ, built on the JS side as [M, N] (no transposed matmul operand)
  const a = new Float32Array(M * N);
  for (let j = 0; j < M; j++) {
    if (counts[j]! === 0) continue;
    for (let n = 0; n < N; n++) a[j * N + n] = membership[n * M + j]! / counts[j]!;
  }
  const probs = tf.matMul(tf.tensor2d(a, [M, N]), gateProbs) as tf.Tensor2D; // [M, S]
  return { probs, counts };
}

/** Shannon entropy in nats of each row: p [R, S] → [R]. */
export function rowEntropy(p: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(p, tf.log(tf.add(p, LOG_EPS))), 1)) as tf.Tensor1D;
}

/**
 * FuseMoE eq. 4: E = (1/M) Σ_j H(p̂_j) − H((1/M) Σ_j p̂_j), over the modalities that have at least one
 * counted token (counts[j] > 0; all rows when counts is omitted).
 *
 * E ≤ 0 (entropy is concave) and E = −I(modality; expert) for a uniform modality prior, so
 * MINIMISING E (adding +weight·E to the task loss) makes each modality's routing confident
 * (low H(p̂_j)) while the modalities spread over different experts (high H of the mixture),
 * i.e. it maximises the modality–expert mutual information, as the paper states.
 * Range: −log(min(M, S)) ≤ E ≤ 0. probs: [M, S] → scalar.
 */
export function entropyLoss(probs: tf.Tensor2D, counts?: ArrayLike<number>): tf.Scalar {
  const M = probs.shape[0];
  let p = probs;
  if (counts) {
    const active: number[] = [];
    for (let j = 0; j < M; j++) if (counts[j]! > 0) active.push(j);
    if (active.length === 0) return tf.scalar(0);
    if (active.length < M) p = gatherRows(probs, Int32Array.from(active)); // [M', S]
  }
  const meanH = tf.mean(rowEntropy(p));
  const mix = tf.mean(p, 0, true) as tf.Tensor2D; // [1, S]
  return tf.sub(meanH, tf.reshape(rowEntropy(mix), [])) as tf.Scalar;
}

/** Squared coefficient of variation var(v)/(mean(v)² + 1e-10), population variance. v: [S] → scalar. */
export function cvSquared(v: tf.Tensor1D): tf.Scalar {
  if (v.shape[0] <= 1) return tf.scalar(0);
  // written out (not tf.moments: its squaredDifference backward fails on wasm when broadcasting)
  const mean = tf.mean(v);
  const variance = tf.mean(tf.square(tf.sub(v, mean)));
  return tf.div(variance, tf.add(tf.square(mean), CV_EPS)) as tf.Scalar;
}

/** Weights of the two Shazeer terms. */
export interface LoadBalanceWeights {
  /** Weight of cv²(importance). Default 1. */
  importance?: number;
  /** Weight of cv²(load). Default 1. */
  load?: number;
}

/**
 * Shazeer 2017 balancing loss: w_imp · cv²(Σ_batch gates) + w_load · cv²(load).
 * importance, load: [S] (from SparseMoE.apply / routeTokens) → scalar.
 * Without noise the load is a token count (no gradient); only the importance term then trains.
 */
export function loadBalancingLoss(
  importance: tf.Tensor1D,
  load: tf.Tensor1D,
  w: LoadBalanceWeights = {},
): tf.Scalar {
  const wi = w.importance ?? 1;
  const wl = w.load ?? 1;
  return tf.add(tf.mul(cvSquared(importance), wi), tf.mul(cvSquared(load), wl)) as tf.Scalar;
}

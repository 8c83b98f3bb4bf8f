/**
 * Top-K routing: logits → (noisy) top-K selection → softmax over the kept K logits.
 *
 * The selection (which experts) is made on the JS side from the logit values, so no gradient ever
 * flows through top-k or comparisons. The gate VALUES are a softmax over logits gathered (with a
 * custom, gather-only gradient) at the chosen positions, so they carry gradient to the gate
 * parameters and to x.
 */
import { tf } from '../engine/tf.js';
import { FlexiModalError } from '../errors.js';
import { tfSeed } from '../engine/rng.js';
import type { Gate } from './gating.js';
import { gatherRows, scatterAddRows } from './row-ops.js';
import { topKRows } from './topk.js';

/** Options of one routing call. */
export interface RouteOptions {
  /** Experts kept per token. */
  topK: number;
  /** Training mode: noisy gating (if the gate has noise) adds noise only here. */
  training: boolean;
  /** Seed of the noise draw; default: the caller's own seeded sequence. */
  seed?: number;
  /** Reference-code deviation: also add noise at inference. Default false. */
  noiseAtInference?: boolean;
  /** [N] 1 = real token, 0 = padding (not routed: topIdx −1, gates 0, no load). */
  tokenMask?: Float32Array;
  /**
   * [N, S] 1 = the token may use this expert, 0 = masked out (its logit gets −1e9 before the
   * top-K and the softmaxes, so it is never chosen). Each real token needs ≥ K allowed experts.
   */
  expertMask?: Float32Array;
}

/** Logit offset of a masked-out expert (finite, so softmaxes stay NaN-free). */
export const MASKED_LOGIT = -1e9;

/** What a routing call returns. All tensors are differentiable w.r.t. the gate and x. */
export interface Routing {
  /** [N, S] the logits the selection used (noisy ones when noise was added). */
  logits: tf.Tensor2D;
  /** [N, S] full softmax of `logits` over all experts (for the router losses). */
  gateProbs: tf.Tensor2D;
  /** [N, K] chosen expert ids, best first; −1 for masked tokens. */
  topIdx: Int32Array;
  /** [N, K] softmax over the K kept logits (0 rows for masked tokens). */
  topGates: tf.Tensor2D;
  /** [S] Σ_tokens of the sparse gates (Shazeer's "importance"). */
  importance: tf.Tensor1D;
  /**
   * [S] load: with noise in this call (and K < S), Shazeer's smooth estimate Σ_n P(n, i) of the
   * number of tokens routed to expert i; otherwise the (gradient-free) token counts.
   */
  load: tf.Tensor1D;
  /** Whether noise was added in this call. */
  noisy: boolean;
}

/** Standard normal CDF Φ(z) = (1 + erf(z/√2)) / 2. */
function normalCdf(z: tf.Tensor): tf.Tensor {
  return tf.mul(tf.add(tf.erf(tf.mul(z, Math.SQRT1_2)), 1), 0.5);
}

/**
 * Gate values (softmax over each row's kept K logits; 0 rows for unrouted tokens), importance
 * (Σ gates per expert) and load (token counts per expert) from the logit values [N·S] and the
 * chosen ids [N·K] — what the tensor path computes, without a gradient.
 */
export function constantRouting(
  logits: Float32Array,
  topIdx: Int32Array,
  N: number,
  S: number,
  K: number,
): { topGates: Float32Array; importance: Float32Array; load: Float32Array } {
  const topGates = new Float32Array(N * K);
  const importance = new Float32Array(S);
  const load = new Float32Array(S);
  for (let n = 0; n < N; n++) {
    if (topIdx[n * K]! < 0) continue; // masked token: gates 0, not counted
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, logits[n * S + topIdx[n * K + k]!]!);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(logits[n * S + topIdx[n * K + k]!]! - max);
    for (let k = 0; k < K; k++) {
      const e = topIdx[n * K + k]!;
      const g = Math.exp(logits[n * S + e]! - max) / sum;
      topGates[n * K + k] = g;
      importance[e]! += g;
      load[e]!++;
    }
  }
  return { topGates, importance, load };
}

/**
 * Route the tokens x: [N, d] with `gate`. `nextSeed` supplies noise seeds when opts.seed is absent.
 */
export function routeTokens(gate: Gate, x: tf.Tensor2D, opts: RouteOptions, nextSeed: () => number): Routing {
  const N = x.shape[0];
  const S = gate.cfg.numExperts;
  const K = opts.topK;
  if (!(Number.isInteger(K) && K >= 1 && K <= S)) {
    throw new FlexiModalError(`topK = ${K} must be an integer in [1, numExperts = ${S}]`, {
      where: `config key ${gate.name}.topK`,
      hint: 'lower topK or add experts',
    });
  }
  const mask = opts.tokenMask;
  if (mask && mask.length !== N) {
    throw new FlexiModalError(`tokenMask has ${mask.length} entries for ${N} tokens`, {
      where: gate.name,
      hint: 'pass one 0/1 entry per token row',
    });
  }
  const em = opts.expertMask;
  if (em && em.length !== N * S) {
    throw new FlexiModalError(`expertMask has ${em.length} entries for ${N} tokens × ${S} experts`, {
      where: gate.name,
      hint: 'pass one 0/1 entry per token and expert',
    });
  }
  let clean = gate.logits(x); // [N, S]
  if (em) {
    const offset = Float32Array.from(em, (a) => (a > 0 ? 0 : MASKED_LOGIT));
    clean = tf.add(clean, tf.tensor2d(offset, [N, S])) as tf.Tensor2D;
  }
  const noisy = gate.noiseW !== null && (opts.training || opts.noiseAtInference === true);
  let logits = clean;
  let std: tf.Tensor2D | null = null;
  if (noisy) {
    std = gate.noiseStd(x); // [N, S]
    const eps = tf.randomNormal([N, S], 0, 1, 'float32', tfSeed(opts.seed ?? nextSeed()));
    logits = tf.add(clean, tf.mul(eps, std));
  }
  const gateProbs = tf.softmax(logits, -1); // [N, S]
  const logitValues = logits.dataSync() as Float32Array;
  const sel = topKRows(logitValues, N, S, K, mask);
  const topIdx = sel.topIdx;
  // No gradient can be recorded (inference, evaluation) and no noise: the gate values, importance
  // and load are plain numbers, computed here instead of by ≈10 kernels per gate.
  if (!noisy && !tf.engine().isTapeOn()) {
    const c = constantRouting(logitValues, topIdx, N, S, K);
    return { logits, gateProbs, topIdx, topGates: tf.tensor2d(c.topGates, [N, K]), importance: tf.tensor1d(c.importance), load: tf.tensor1d(c.load), noisy };
  }

  // gate values: softmax over the K kept logits, gathered from logits flattened to [N·S, 1]
  const flatPos = new Int32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) flatPos[n * K + k] = n * S + Math.max(0, topIdx[n * K + k]!);
  }
  const logitsFlat = tf.reshape(logits, [N * S, 1]) as tf.Tensor2D;
  const kept = tf.reshape(gatherRows(logitsFlat, flatPos), [N, K]); // [N, K]
  let topGates = tf.softmax(kept, -1) as tf.Tensor2D; // [N, K]
  if (mask) topGates = tf.mul(topGates, tf.tensor2d(mask, [N, 1]));

  // importance: Σ_n sparse gates per expert
  const pairs: number[] = [];
  for (let j = 0; j < N * K; j++) if (topIdx[j]! >= 0) pairs.push(j);
  const pairIdx = Int32Array.from(pairs);
  const pairExpert = Int32Array.from(pairs, (j) => topIdx[j]!);
  const gatesFlat = tf.reshape(topGates, [N * K, 1]) as tf.Tensor2D;
  const importance = tf.reshape(
    scatterAddRows(gatherRows(gatesFlat, pairIdx), pairExpert, S),
    [S],
  ) as tf.Tensor1D; // [S]

  let load: tf.Tensor1D;
  if (noisy && K < S && std) {
    // Shazeer 2017 smooth load: P(n,i) = Φ((clean_i − threshold)/std_i), threshold = the K-th
    // largest noisy logit of the *other* experts: the (K+1)-th if i is kept, the K-th if not.
    const thrInPos = new Int32Array(N);
    const thrOutPos = new Int32Array(N);
    const isIn = new Float32Array(N * S);
    for (let n = 0; n < N; n++) {
      thrInPos[n] = n * S + Math.max(0, sel.nextIdx[n]!);
      thrOutPos[n] = n * S + Math.max(0, topIdx[n * K + K - 1]!);
      for (let k = 0; k < K; k++) {
        const e = topIdx[n * K + k]!;
        if (e >= 0) isIn[n * S + e] = 1;
      }
    }
    const thrIn = gatherRows(logitsFlat, thrInPos); // [N, 1]
    const thrOut = gatherRows(logitsFlat, thrOutPos); // [N, 1]
    const inMask = tf.tensor2d(isIn, [N, S]);
    const thr = tf.add(tf.mul(inMask, thrIn), tf.mul(tf.sub(1, inMask), thrOut)); // [N, S]
    let p = normalCdf(tf.div(tf.sub(clean, thr), std)) as tf.Tensor2D; // [N, S]
    if (mask) p = tf.mul(p, tf.tensor2d(mask, [N, 1]));
    load = tf.sum(p, 0) as tf.Tensor1D;
  } else {
    const counts = new Float32Array(S);
    for (const e of pairExpert) counts[e]!++;
    load = tf.tensor1d(counts);
  }
  return { logits, gateProbs, topIdx, topGates, importance, load, noisy };
}

/**
 * Router-uncertainty metrics of one routing distribution p over S slots (REMIND appendix 7.2,
 * Table 6), computed in float64 on the JS side:
 *
 *   entropy H = −Σ pᵢ ln pᵢ                 ∈ [0, ln S]   (0·ln 0 = 0)
 *   normalised certainty 1 − H / ln S        ∈ [0, 1]      (1 when S = 1)
 *   max-prob maxᵢ pᵢ                         ∈ [1/S, 1]
 *   margin p⁽¹⁾ − p⁽²⁾                        ∈ [0, 1 − 1/S]
 *   Gini impurity 1 − Σ pᵢ²                  ∈ [0, 1 − 1/S]
 *   variance Σ (pᵢ − 1/S)²                   (the appendix's sum, not divided by S)
 *   KL to uniform Σ pᵢ ln(pᵢ S) = ln S − H   ∈ [0, ln S]
 *
 * The residual-routing switch of REMIND eq. 8 reads the entropy (or the KL) of the shared router's
 * per-token distribution, averaged over a sample's tokens (`sampleUncertainty`).
 */

/** The metrics of one distribution. */
export interface RouterUncertainty {
  entropy: number;
  normalizedCertainty: number;
  maxProb: number;
  margin: number;
  gini: number;
  variance: number;
  klUniform: number;
}

/** Metric names, in Table 6 order. */
export const UNCERTAINTY_METRICS: readonly (keyof RouterUncertainty)[] = ['entropy', 'normalizedCertainty', 'maxProb', 'margin', 'gini', 'variance', 'klUniform'];

/** Metrics of p = probs[offset .. offset+S) (must be a distribution: non-negative, sums to 1). */
export function uncertaintyOf(probs: ArrayLike<number>, S: number, offset = 0): RouterUncertainty {
  let H = 0;
  let sq = 0;
  let dev = 0;
  let first = -Infinity;
  let second = -Infinity;
  for (let i = 0; i < S; i++) {
    const p = probs[offset + i]!;
    if (p > 0) H -= p * Math.log(p);
    sq += p * p;
    dev += (p - 1 / S) ** 2;
    if (p > first) {
      second = first;
      first = p;
    } else if (p > second) second = p;
  }
  const maxH = Math.log(S);
  return {
    entropy: H,
    normalizedCertainty: S > 1 ? 1 - H / maxH : 1,
    maxProb: first,
    margin: S > 1 ? first - second : first,
    gini: 1 - sq,
    variance: dev,
    klUniform: Math.max(0, maxH - H),
  };
}

/** Row-wise softmax of logits [N, S] into a new float64 array. */
export function softmaxRows(logits: ArrayLike<number>, N: number, S: number): Float64Array {
  const out = new Float64Array(N * S);
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let s = 0; s < S; s++) max = Math.max(max, logits[n * S + s]!);
    let z = 0;
    for (let s = 0; s < S; s++) z += out[n * S + s] = Math.exp(logits[n * S + s]! - max);
    for (let s = 0; s < S; s++) out[n * S + s]! /= z;
  }
  return out;
}

/**
 * Per-sample mean of every metric over the sample's valid tokens.
 * probs: [B, T, S] rows of per-token distributions; valid: [B, T] 0/1 (default: all valid).
 * A sample without valid tokens gets NaN metrics.
 */
export function sampleUncertainty(probs: ArrayLike<number>, B: number, T: number, S: number, valid?: ArrayLike<number>): RouterUncertainty[] {
  return Array.from({ length: B }, (_, b) => {
    const acc: RouterUncertainty = { entropy: 0, normalizedCertainty: 0, maxProb: 0, margin: 0, gini: 0, variance: 0, klUniform: 0 };
    let n = 0;
    for (let t = 0; t < T; t++) {
      if (valid && !(valid[b * T + t]! > 0)) continue;
      const u = uncertaintyOf(probs, S, (b * T + t) * S);
      for (const k of UNCERTAINTY_METRICS) acc[k] += u[k];
      n++;
    }
    for (const k of UNCERTAINTY_METRICS) acc[k] = n > 0 ? acc[k] / n : NaN;
    return acc;
  });
}

/** How the residual-routing switch measures uncertainty (REMIND eq. 8 / appendix 7.2.11). */
export interface UncertaintySwitch {
  /** 'entropy': fire when H > threshold · ln S; 'kl': fire when KL(p ‖ uniform) < threshold (nats). */
  metric: 'entropy' | 'kl';
  threshold: number;
}

/** True when a sample's mean routing uncertainty `u` is high enough to apply its group residual. */
export function switchFires(u: RouterUncertainty, S: number, sw: UncertaintySwitch): boolean {
  return sw.metric === 'entropy' ? u.entropy > sw.threshold * Math.log(S) : u.klUniform < sw.threshold;
}

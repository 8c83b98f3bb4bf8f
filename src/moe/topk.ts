/**
 * Top-K selection on the JS side (routing decisions carry no gradient by construction).
 */

/** Result of a row-wise top-K over an [N, S] logit matrix. */
export interface TopKSelection {
  /** [N, K] chosen expert ids, best first; −1 for masked tokens. */
  topIdx: Int32Array;
  /** [N] the (K+1)-th largest logit per row (−Infinity when K = S); used by the noisy load estimate. */
  nextValue: Float32Array;
  /** [N] the K-th largest logit per row. */
  kthValue: Float32Array;
  /** [N] id of the (K+1)-th largest logit per row (−1 when K = S or the row is masked). */
  nextIdx: Int32Array;
}

/**
 * Row-wise top-K of `logits` ([N, S], row-major). Ties go to the lower expert id, so the choice
 * is deterministic. Rows with `tokenMask[n] === 0` get −1 ids.
 */
export function topKRows(
  logits: Float32Array | Int32Array | Uint8Array,
  N: number,
  S: number,
  K: number,
  tokenMask?: Float32Array,
): TopKSelection {
  const topIdx = new Int32Array(N * K).fill(-1);
  const nextValue = new Float32Array(N).fill(-Infinity);
  const kthValue = new Float32Array(N).fill(-Infinity);
  const nextIdx = new Int32Array(N).fill(-1);
  const bestIdx = new Int32Array(K + 1);
  const bestVal = new Float64Array(K + 1);
  const keep = Math.min(K + 1, S);
  for (let n = 0; n < N; n++) {
    if (tokenMask && tokenMask[n] === 0) continue;
    let filled = 0;
    const base = n * S;
    for (let s = 0; s < S; s++) {
      const v = logits[base + s]!;
      // insertion into a sorted list of length `keep` (descending; strict > keeps lower id first on ties)
      let pos = filled;
      while (pos > 0 && v > bestVal[pos - 1]!) pos--;
      if (pos >= keep) continue;
      const last = Math.min(filled, keep - 1);
      for (let t = last; t > pos; t--) {
        bestVal[t] = bestVal[t - 1]!;
        bestIdx[t] = bestIdx[t - 1]!;
      }
      bestVal[pos] = v;
      bestIdx[pos] = s;
      if (filled < keep) filled++;
    }
    for (let k = 0; k < K; k++) topIdx[n * K + k] = bestIdx[k]!;
    kthValue[n] = bestVal[K - 1]!;
    if (K < S) {
      nextValue[n] = bestVal[K]!;
      nextIdx[n] = bestIdx[K]!;
    }
  }
  return { topIdx, nextValue, kthValue, nextIdx };
}

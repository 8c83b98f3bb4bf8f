/**
 * Expected calibration error with equal-width bins (10 by default):
 *
 *   ECE = Σ_b (n_b / N) · | mean(y in b) − mean(p in b) |
 *
 * Bins are [0, 0.1), [0.1, 0.2), …, [0.9, 1.0] (the last closed). Binary: p = predicted probability
 * of class 1, y = label. Multi-class: top-label ECE (p = max probability, y = 1 if the argmax is
 * correct). Multi-label: macro mean of the per-label binary ECE over all labels.
 */
import { checkBinary, checkClassLabels, checkMatrix, checkBinaryMatrix, type Labels, type Scores } from './validate.js';
import { argmaxRows, column, macroOf, type MacroResult } from './macro.js';

/** One reliability bin: its range, count, mean predicted probability and observed frequency. */
export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  meanPredicted: number;
  observed: number;
}

/** Reliability-diagram bins of probabilities `probs` against 0/1 outcomes (empty bins have NaN means). */
export function reliabilityBins(probs: Scores, outcomes: Labels, bins = 10): ReliabilityBin[] {
  checkBinary(probs, outcomes, 'reliabilityBins');
  const cnt = new Float64Array(bins);
  const sp = new Float64Array(bins);
  const sy = new Float64Array(bins);
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    cnt[b]!++;
    sp[b]! += p;
    sy[b]! += outcomes[i]!;
  }
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const c = cnt[b]!;
    out.push({ lo: b / bins, hi: (b + 1) / bins, count: c, meanPredicted: c ? sp[b]! / c : NaN, observed: c ? sy[b]! / c : NaN });
  }
  return out;
}

/** Binary ECE of probabilities against 0/1 labels. NaN for empty input. */
export function ece(probs: Scores, labels: Labels, bins = 10): number {
  if (probs.length === 0) return NaN;
  let e = 0;
  for (const b of reliabilityBins(probs, labels, bins)) {
    if (b.count > 0) e += (b.count / probs.length) * Math.abs(b.observed - b.meanPredicted);
  }
  return e;
}

/** Multi-class top-label ECE: probs [N, C] row-major, integer labels [N]. */
export function eceMulticlass(probs: Scores, labels: Labels, numClasses: number, bins = 10): number {
  const n = checkMatrix(probs, numClasses, labels.length, 'eceMulticlass');
  checkClassLabels(labels, numClasses, 'eceMulticlass');
  const pred = argmaxRows(probs, numClasses);
  const conf = new Float64Array(n);
  const correct = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    conf[i] = probs[i * numClasses + pred[i]!]!;
    correct[i] = pred[i] === labels[i] ? 1 : 0;
  }
  return ece(conf, correct, bins);
}

/** Multi-label macro ECE over all labels: probs and 0/1 labels [N, L] row-major. */
export function eceMultilabel(probs: Scores, labels: Labels, numLabels: number, bins = 10): MacroResult {
  checkMatrix(probs, numLabels, labels.length / numLabels, 'eceMultilabel');
  checkBinaryMatrix(labels, 'eceMultilabel');
  const per: number[] = [];
  for (let l = 0; l < numLabels; l++) per.push(ece(column(probs, numLabels, l), column(labels, numLabels, l), bins));
  return macroOf(per);
}

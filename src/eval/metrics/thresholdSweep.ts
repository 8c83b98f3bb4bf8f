/**
 * The shared core of the threshold-based curves: sort by score descending and, at each distinct
 * score s (taken as the threshold "predict positive when score ≥ s"; tied scores enter together),
 * report the cumulative true and false positives. Used by average precision, the ROC curve and
 * the best-F1 threshold search.
 */
import type { Labels, Scores } from './validate.js';

export interface SweepPoint {
  /** The threshold (a distinct score value). */
  threshold: number;
  /** True positives among samples with score ≥ threshold. */
  tp: number;
  /** False positives among samples with score ≥ threshold. */
  fp: number;
}

/** Points in order of decreasing threshold (one per distinct score). Labels are 0/1. */
export function thresholdSweep(scores: Scores, labels: Labels): SweepPoint[] {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const out: SweepPoint[] = [];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < n) {
    const s = scores[idx[i]!]!;
    while (i < n && scores[idx[i]!] === s) {
      if (labels[idx[i]!] === 1) tp++;
      else fp++;
      i++;
    }
    out.push({ threshold: s, tp, fp });
  }
  return out;
}

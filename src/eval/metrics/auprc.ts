/**
 * Area under the precision–recall curve as *average precision*, step-wise, exactly as
 * scikit-learn's `average_precision_score` (no interpolation, no trapezoids):
 *
 *   AP = Σₖ (Rₖ − Rₖ₋₁) · Pₖ
 *
 * over the distinct score values taken as thresholds in decreasing order (a sample is predicted
 * positive when score ≥ threshold; tied scores enter together), with Pₖ, Rₖ the precision and recall
 * at the k-th threshold and R₀ = 0. NaN when there are no positives; 1 when there are no negatives
 * (as scikit-learn). `computeMetrics` reports NaN for any single-class set, see docs/METRICS.md.
 */
import { checkBinary, checkClassLabels, checkMatrix, checkBinaryMatrix, type Labels, type Scores } from './validate.js';
import { column, macroOf, oneVsRest, type MacroResult } from './macro.js';
import { thresholdSweep } from './thresholdSweep.js';

/** Binary average precision of `scores` against 0/1 `labels`. NaN if there is no positive. */
export function auprc(scores: Scores, labels: Labels): number {
  checkBinary(scores, labels, 'auprc');
  const n = scores.length;
  let pos = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) pos++;
  if (pos === 0) return NaN;
  let prevRecall = 0;
  let ap = 0;
  for (const { tp, fp } of thresholdSweep(scores, labels)) {
    const recall = tp / pos;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}

/** Multi-class macro one-vs-rest average precision (classes without a positive are skipped). */
export function auprcMulticlass(probs: Scores, labels: Labels, numClasses: number): MacroResult {
  checkMatrix(probs, numClasses, labels.length, 'auprcMulticlass');
  checkClassLabels(labels, numClasses, 'auprcMulticlass');
  const per: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const y = oneVsRest(labels, c);
    per.push(singleClass(y) ? NaN : auprc(column(probs, numClasses, c), y));
  }
  return macroOf(per);
}

/** Multi-label macro average precision; labels with a single class in the data are skipped (counted). */
export function auprcMultilabel(probs: Scores, labels: Labels, numLabels: number): MacroResult {
  checkMatrix(probs, numLabels, labels.length / numLabels, 'auprcMultilabel');
  checkBinaryMatrix(labels, 'auprcMultilabel');
  const per: number[] = [];
  for (let l = 0; l < numLabels; l++) {
    const y = column(labels, numLabels, l);
    per.push(singleClass(y) ? NaN : auprc(column(probs, numLabels, l), y));
  }
  return macroOf(per);
}

/** True when a 0/1 vector holds only one of the two values (or is empty). */
export function singleClass(y: ArrayLike<number>): boolean {
  let pos = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) pos++;
  return pos === 0 || pos === y.length;
}

/**
 * Accuracy. Binary: fraction of samples with (score ≥ threshold) = label, threshold 0.5 by default.
 * Multi-class: fraction with argmax(probs row) = label (ties to the lowest class index).
 * Multi-label: mean over labels of the per-label binary accuracy (= 1 − Hamming loss).
 */
import { checkBinary, checkClassLabels, checkMatrix, checkBinaryMatrix, type Labels, type Scores } from './validate.js';
import { argmaxRows, column, macroOf, type MacroResult } from './macro.js';
import { thresholdsFor } from './f1.js';

/** Binary accuracy at `threshold` (score ≥ threshold ⇒ 1). NaN for empty input. */
export function accuracy(scores: Scores, labels: Labels, threshold = 0.5): number {
  checkBinary(scores, labels, 'accuracy');
  if (scores.length === 0) return NaN;
  let ok = 0;
  for (let i = 0; i < scores.length; i++) if ((scores[i]! >= threshold ? 1 : 0) === labels[i]) ok++;
  return ok / scores.length;
}

/** Multi-class accuracy of the argmax of probs [N, C] against integer labels [N]. NaN for empty input. */
export function accuracyMulticlass(probs: Scores, labels: Labels, numClasses: number): number {
  checkMatrix(probs, numClasses, labels.length, 'accuracyMulticlass');
  checkClassLabels(labels, numClasses, 'accuracyMulticlass');
  if (labels.length === 0) return NaN;
  const pred = argmaxRows(probs, numClasses);
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) ok++;
  return ok / labels.length;
}

/** Multi-label macro accuracy over labels (every label is used: accuracy is defined with one class). */
export function accuracyMultilabel(
  probs: Scores,
  labels: Labels,
  numLabels: number,
  threshold: number | ArrayLike<number> = 0.5,
): MacroResult {
  checkMatrix(probs, numLabels, labels.length / numLabels, 'accuracyMultilabel');
  checkBinaryMatrix(labels, 'accuracyMultilabel');
  const th = thresholdsFor(threshold, numLabels, 'accuracyMultilabel');
  const per: number[] = [];
  for (let l = 0; l < numLabels; l++) per.push(accuracy(column(probs, numLabels, l), column(labels, numLabels, l), th[l]!));
  return macroOf(per);
}

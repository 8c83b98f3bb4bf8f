/**
 * Brier score (lower is better).
 * Binary: mean over samples of (p − y)², range [0, 1].
 * Multi-class: mean over samples of Σ_c (p_c − y_c)² with y one-hot, range [0, 2] (the original
 *   Brier 1950 definition; for C = 2 it is twice the binary score of either class).
 * Multi-label: mean over samples and labels of (p − y)² (= macro mean of the per-label binary scores).
 */
import { checkBinary, checkClassLabels, checkMatrix, checkBinaryMatrix, type Labels, type Scores } from './validate.js';

/** Binary Brier score of probabilities against 0/1 labels. NaN for empty input. */
export function brier(probs: Scores, labels: Labels): number {
  checkBinary(probs, labels, 'brier');
  if (probs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < probs.length; i++) s += (probs[i]! - labels[i]!) ** 2;
  return s / probs.length;
}

/** Multi-class Brier score: probs [N, C] row-major, integer labels [N]. NaN for empty input. */
export function brierMulticlass(probs: Scores, labels: Labels, numClasses: number): number {
  const n = checkMatrix(probs, numClasses, labels.length, 'brierMulticlass');
  checkClassLabels(labels, numClasses, 'brierMulticlass');
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < numClasses; c++) s += (probs[i * numClasses + c]! - (labels[i] === c ? 1 : 0)) ** 2;
  }
  return s / n;
}

/** Multi-label Brier score: probs and 0/1 labels [N, L] row-major. NaN for empty input. */
export function brierMultilabel(probs: Scores, labels: Labels, numLabels: number): number {
  checkMatrix(probs, numLabels, labels.length / numLabels, 'brierMultilabel');
  checkBinaryMatrix(labels, 'brierMultilabel');
  if (probs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < probs.length; i++) s += (probs[i]! - labels[i]!) ** 2;
  return s / probs.length;
}

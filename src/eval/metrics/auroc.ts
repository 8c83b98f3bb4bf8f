/**
 * Area under the ROC curve, rank based (Mann–Whitney U with midranks for ties):
 *
 *   AUROC = (R₊ − P(P+1)/2) / (P·N)
 *
 * where R₊ is the sum of the (1-based, tie-averaged) ranks of the positives' scores, P the number
 * of positives and N the number of negatives. Equivalently, the probability that a random positive
 * scores above a random negative, a tie counting ½. Undefined (NaN) when only one class is present.
 */
import { checkBinary, checkClassLabels, checkMatrix, checkBinaryMatrix, type Labels, type Scores } from './validate.js';
import { column, macroOf, oneVsRest, type MacroResult } from './macro.js';

/** 1-based ranks of `values`, ties receiving the average of the ranks they span. */
export function midranks(values: Scores): Float64Array {
  const n = values.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[idx[j + 1]!] === values[idx[i]!]) j++;
    const r = (i + j) / 2 + 1; // average of ranks i+1 .. j+1
    for (let k = i; k <= j; k++) ranks[idx[k]!] = r;
    i = j + 1;
  }
  return ranks;
}

/** Binary AUROC of `scores` (any real numbers; higher = more positive) against 0/1 `labels`. NaN if one class only. */
export function auroc(scores: Scores, labels: Labels): number {
  checkBinary(scores, labels, 'auroc');
  let pos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) pos++;
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  const ranks = midranks(scores);
  let rPos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) rPos += ranks[i]!;
  return (rPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * Multi-class macro one-vs-rest AUROC: probs [N, C] row-major, integer labels [N].
 * Classes absent from the labels (or present in every row) are skipped and counted in `skipped`.
 */
export function aurocMulticlass(probs: Scores, labels: Labels, numClasses: number): MacroResult {
  checkMatrix(probs, numClasses, labels.length, 'aurocMulticlass');
  checkClassLabels(labels, numClasses, 'aurocMulticlass');
  const per: number[] = [];
  for (let c = 0; c < numClasses; c++) per.push(auroc(column(probs, numClasses, c), oneVsRest(labels, c)));
  return macroOf(per);
}

/**
 * Multi-label macro AUROC: probs [N, L] and 0/1 labels [N, L], both row-major.
 * Labels with a single class in the data are skipped and counted in `skipped`.
 */
export function aurocMultilabel(probs: Scores, labels: Labels, numLabels: number): MacroResult {
  checkMatrix(probs, numLabels, labels.length / numLabels, 'aurocMultilabel');
  checkBinaryMatrix(labels, 'aurocMultilabel');
  const per: number[] = [];
  for (let l = 0; l < numLabels; l++) per.push(auroc(column(probs, numLabels, l), column(labels, numLabels, l)));
  return macroOf(per);
}

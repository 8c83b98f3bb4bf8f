/**
 * F1 score = 2·TP / (2·TP + FP + FN) (harmonic mean of precision and recall).
 *
 * Binary and multi-label: a sample is predicted positive when score ≥ threshold. F1 is undefined
 * (NaN) when there is no positive label and no positive prediction (TP + FP + FN = 0).
 * Multi-class: macro F1 of the argmax prediction over the classes that occur in the labels or in the
 * predictions (scikit-learn's `f1_score(average='macro')` default label set).
 */
import { checkBinary, checkClassLabels, checkMatrix, checkBinaryMatrix, type Labels, type Scores } from './validate.js';
import { thresholdSweep } from './thresholdSweep.js';
import { argmaxRows, column, macroOf, type MacroResult } from './macro.js';
import { FlexiModalError } from '../../errors.js';

/** Confusion counts at a threshold (predicted positive ⇔ score ≥ threshold). */
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** Confusion counts of binary `scores` against 0/1 `labels` at `threshold` (score ≥ threshold ⇒ positive). */
export function confusionAt(scores: Scores, labels: Labels, threshold = 0.5): Confusion {
  checkBinary(scores, labels, 'confusionAt');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i]! >= threshold;
    if (labels[i] === 1) {
      if (p) tp++;
      else fn++;
    } else if (p) fp++;
    else tn++;
  }
  return { tp, fp, fn, tn };
}

/** F1 from confusion counts; NaN when TP + FP + FN = 0. */
export function f1FromConfusion(c: Confusion): number {
  const d = 2 * c.tp + c.fp + c.fn;
  return d === 0 ? NaN : (2 * c.tp) / d;
}

/** Binary F1 at `threshold` (default 0.5; score ≥ threshold ⇒ positive). */
export function f1AtThreshold(scores: Scores, labels: Labels, threshold = 0.5): number {
  return f1FromConfusion(confusionAt(scores, labels, threshold));
}

/**
 * Binary macro F1 at `threshold`: the mean of the positive class's F1 and the negative class's F1
 * (2·TN / (2·TN + FN + FP)), as scikit-learn's `f1_score(average='macro')` on 0/1 predictions —
 * the "macro-F1" that papers report for binary tasks. NaN when either class's F1 is undefined.
 */
export function macroF1Binary(scores: Scores, labels: Labels, threshold = 0.5): number {
  const c = confusionAt(scores, labels, threshold);
  const neg = f1FromConfusion({ tp: c.tn, tn: c.tp, fp: c.fn, fn: c.fp });
  return (f1FromConfusion(c) + neg) / 2;
}

/** The threshold chosen on validation data and the validation F1 it reaches. */
export interface ThresholdChoice {
  threshold: number;
  f1: number;
}

/**
 * The threshold maximising F1 on (validation) `scores`/`labels`. Candidates are the distinct score
 * values (predict positive when score ≥ candidate), as in scikit-learn's `precision_recall_curve`;
 * among equal F1 the highest threshold wins. With no positive label every F1 is 0 or undefined:
 * the result is then `{ threshold: 0.5, f1: NaN }`.
 */
export function bestF1Threshold(scores: Scores, labels: Labels): ThresholdChoice {
  checkBinary(scores, labels, 'bestF1Threshold');
  const n = scores.length;
  let pos = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) pos++;
  if (pos === 0) return { threshold: 0.5, f1: NaN };
  let best: ThresholdChoice = { threshold: Infinity, f1: -1 };
  for (const { threshold, tp, fp } of thresholdSweep(scores, labels)) {
    const f1 = (2 * tp) / (tp + fp + pos); // 2TP / (2TP + FP + FN), FN = pos − TP
    if (f1 > best.f1) best = { threshold, f1 };
  }
  return best;
}

/** Multi-class macro F1 of the row-wise argmax of probs [N, C] against integer labels [N]. */
export function f1Multiclass(probs: Scores, labels: Labels, numClasses: number): MacroResult {
  checkMatrix(probs, numClasses, labels.length, 'f1Multiclass');
  checkClassLabels(labels, numClasses, 'f1Multiclass');
  const pred = argmaxRows(probs, numClasses);
  const per: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i] === c;
      const p = pred[i] === c;
      if (y && p) tp++;
      else if (p) fp++;
      else if (y) fn++;
    }
    per.push(f1FromConfusion({ tp, fp, fn, tn: 0 }));
  }
  return macroOf(per);
}

/** Per-label thresholds: one number for all labels, or one per label. */
export function thresholdsFor(threshold: number | ArrayLike<number>, numLabels: number, where: string): number[] {
  if (typeof threshold === 'number') return Array.from({ length: numLabels }, () => threshold);
  if (threshold.length !== numLabels) {
    throw new FlexiModalError(`got ${threshold.length} thresholds for ${numLabels} labels`, {
      where,
      hint: 'pass one threshold, or one per label',
    });
  }
  return Array.from(threshold);
}

/**
 * Multi-label macro F1 at `threshold` (one for all labels or one per label). Labels whose F1 is
 * undefined (no positive label and no positive prediction) are skipped and counted.
 */
export function f1Multilabel(
  probs: Scores,
  labels: Labels,
  numLabels: number,
  threshold: number | ArrayLike<number> = 0.5,
): MacroResult {
  checkMatrix(probs, numLabels, labels.length / numLabels, 'f1Multilabel');
  checkBinaryMatrix(labels, 'f1Multilabel');
  const th = thresholdsFor(threshold, numLabels, 'f1Multilabel');
  const per: number[] = [];
  for (let l = 0; l < numLabels; l++) {
    per.push(f1AtThreshold(column(probs, numLabels, l), column(labels, numLabels, l), th[l]!));
  }
  return macroOf(per);
}

/** Per-label `bestF1Threshold` for multi-label validation data [N, L]. */
export function bestF1ThresholdsMultilabel(probs: Scores, labels: Labels, numLabels: number): ThresholdChoice[] {
  checkMatrix(probs, numLabels, labels.length / numLabels, 'bestF1ThresholdsMultilabel');
  // checked here so that a bad value is named by its index in the matrix, not in its column
  checkBinaryMatrix(labels, 'bestF1ThresholdsMultilabel');
  const out: ThresholdChoice[] = [];
  for (let l = 0; l < numLabels; l++) {
    out.push(bestF1Threshold(column(probs, numLabels, l), column(labels, numLabels, l)));
  }
  return out;
}

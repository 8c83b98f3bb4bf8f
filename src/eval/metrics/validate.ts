/**
 * Input checks shared by the metric functions. Bad input throws `FlexiModalError`
 * (never a silently wrong number).
 */
import { FlexiModalError } from '../../errors.js';

/** Scores/probabilities as accepted by every metric: a typed array or a plain array. */
export type Scores = ArrayLike<number>;
/** Labels: 0/1 for binary and multi-label, integer class ids for multi-class. */
export type Labels = ArrayLike<number>;

/** Checks a binary (scores, labels) pair: same length, finite scores, labels in {0, 1}. */
export function checkBinary(scores: Scores, labels: Labels, where: string): void {
  if (scores.length !== labels.length) {
    throw new FlexiModalError(`scores has ${scores.length} entries but labels has ${labels.length}`, {
      where,
      hint: 'pass one score per label (same sample order)',
    });
  }
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!)) {
      throw new FlexiModalError(`score ${i} is ${scores[i]} (not finite)`, {
        where,
        hint: 'check the model output for NaN/Infinity before evaluating',
      });
    }
    const y = labels[i]!;
    if (y !== 0 && y !== 1) {
      throw new FlexiModalError(`label ${i} is ${y}; binary labels must be 0 or 1`, {
        where,
        hint: 'binarise the labels, or use the multi-class task',
      });
    }
  }
}

/** Checks that every value is a probability in [0, 1] (tolerance 1e-6 for float32 rounding). */
export function checkProbabilities(probs: Scores, where: string): void {
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (!Number.isFinite(p) || p < -1e-6 || p > 1 + 1e-6) {
      throw new FlexiModalError(`value ${i} is ${p}, not a probability in [0, 1]`, {
        where,
        hint: 'pass probabilities (apply sigmoid/softmax to the logits first)',
      });
    }
  }
}

/** Checks a row-major [N, C] matrix of probabilities against N labels; returns N. */
export function checkMatrix(probs: Scores, cols: number, rowsExpected: number | undefined, where: string): number {
  if (!Number.isInteger(cols) || cols < 1) {
    throw new FlexiModalError(`number of columns is ${cols}; it must be a positive integer`, {
      where,
      hint: 'set numClasses / numLabels in the task',
    });
  }
  if (probs.length % cols !== 0) {
    throw new FlexiModalError(`probs has ${probs.length} values, not a multiple of ${cols} columns`, {
      where,
      hint: 'pass probabilities flattened row-major as [N, C]',
    });
  }
  const n = probs.length / cols;
  if (rowsExpected !== undefined && rowsExpected !== n) {
    throw new FlexiModalError(`probs has ${n} rows but there are ${rowsExpected} label rows`, {
      where,
      hint: 'pass one probability row per sample, in the same order as the labels',
    });
  }
  for (let i = 0; i < probs.length; i++) {
    if (!Number.isFinite(probs[i]!)) {
      throw new FlexiModalError(`probs value ${i} (row ${Math.floor(i / cols)}) is ${probs[i]}`, {
        where,
        hint: 'check the model output for NaN/Infinity before evaluating',
      });
    }
  }
  return n;
}

/** Checks integer class labels in [0, numClasses). */
export function checkClassLabels(labels: Labels, numClasses: number, where: string): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new FlexiModalError(`label ${i} is ${y}; class labels must be integers in [0, ${numClasses})`, {
        where,
        hint: 'check numClasses in the task, or map the labels to 0..C-1',
      });
    }
  }
}

/** Checks that every multi-label target is 0 or 1. */
export function checkBinaryMatrix(labels: Labels, where: string): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y !== 0 && y !== 1) {
      throw new FlexiModalError(`label value ${i} is ${y}; multi-label targets must be 0 or 1`, {
        where,
        hint: 'pass a [N, L] 0/1 matrix flattened row-major',
      });
    }
  }
}

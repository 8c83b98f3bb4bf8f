/**
 * Helpers for macro averaging: column extraction from row-major [N, C] matrices and the
 * `MacroResult` returned by every multi-class / multi-label metric.
 */
import type { Scores } from './validate.js';

/** A macro average plus how many columns (classes or labels) went into it and how many were skipped. */
export interface MacroResult {
  /** Unweighted mean over the used columns; NaN when none could be used. */
  value: number;
  /** Per-column values (NaN for a skipped column). */
  perColumn: number[];
  /** Number of columns averaged. */
  used: number;
  /** Number of columns skipped because the metric is undefined for them. */
  skipped: number;
}

/** Column `c` of a row-major [N, C] matrix. */
export function column(matrix: Scores, cols: number, c: number): Float64Array {
  const n = Math.floor(matrix.length / cols);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = matrix[i * cols + c]!;
  return out;
}

/** One-vs-rest 0/1 labels for class `c` from integer class labels. */
export function oneVsRest(labels: ArrayLike<number>, c: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] === c ? 1 : 0;
  return out;
}

/** Macro mean of per-column values, skipping NaN entries (which count as skipped). */
export function macroOf(perColumn: number[]): MacroResult {
  let sum = 0;
  let used = 0;
  for (const v of perColumn) {
    if (!Number.isNaN(v)) {
      sum += v;
      used++;
    }
  }
  return { value: used > 0 ? sum / used : NaN, perColumn, used, skipped: perColumn.length - used };
}

/** Row-wise argmax of a row-major [N, C] matrix (ties go to the lowest index). */
export function argmaxRows(probs: Scores, cols: number): Int32Array {
  const n = Math.floor(probs.length / cols);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = probs[i * cols]!;
    for (let c = 1; c < cols; c++) {
      const v = probs[i * cols + c]!;
      if (v > bv) {
        bv = v;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Counts of label value 1 and 0 in a 0/1 vector. */
export function classCounts(labels: ArrayLike<number>): { pos: number; neg: number } {
  let pos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) pos++;
  return { pos, neg: labels.length - pos };
}

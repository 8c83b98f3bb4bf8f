/**
 * `computeMetrics` (all metrics of one evaluation) and `evaluateByGroup` (overall + one entry per
 * modality-combination group). Definitions: docs/METRICS.md.
 */
import { FlexiModalError } from '../errors.js';
import type { Metrics, Task } from './task.js';
import type { Labels, Scores } from './metrics/validate.js';
import { checkBinary, checkBinaryMatrix, checkClassLabels, checkMatrix, checkProbabilities } from './metrics/validate.js';
import { auroc, aurocMulticlass, aurocMultilabel } from './metrics/auroc.js';
import { auprc, auprcMulticlass, auprcMultilabel } from './metrics/auprc.js';
import { f1AtThreshold, f1Multiclass, f1Multilabel, macroF1Binary } from './metrics/f1.js';
import { accuracy, accuracyMulticlass, accuracyMultilabel } from './metrics/accuracy.js';
import { brier, brierMulticlass, brierMultilabel } from './metrics/brier.js';
import { ece, eceMulticlass, eceMultilabel } from './metrics/calibration.js';

/** Options of `computeMetrics` / `evaluateByGroup`. */
export interface EvalOptions {
  /**
   * Decision threshold chosen on validation (`bestF1Threshold`). Binary: one number; multi-label:
   * one number or one per label. When given, `f1_at_val_threshold` (and
   * `accuracy_at_val_threshold`) are reported. Ignored for multi-class (argmax has no threshold).
   */
  threshold?: number | ArrayLike<number>;
}

/** Number of samples implied by the labels for `task`. */
function sampleCount(task: Task, labels: Labels): number {
  return task.kind === 'multilabel' ? labels.length / task.numLabels : labels.length;
}

/**
 * All metrics of one evaluation. Binary: `probs` [N] probabilities of class 1, `labels` [N] 0/1.
 * Multi-class: `probs` [N, C] row-major (rows sum to 1), `labels` [N] class ids. Multi-label:
 * `probs` [N, L] and `labels` [N, L] 0/1, row-major. Rank metrics (auroc, auprc) are NaN when
 * n < 2 or only one class is present (per class/label for the macro variants).
 */
export function computeMetrics(task: Task, probs: Scores, labels: Labels, opts: EvalOptions = {}): Metrics {
  const where = `computeMetrics(${task.kind})`;
  checkProbabilities(probs, where);
  if (task.kind === 'binary') {
    checkBinary(probs, labels, where);
    let pos = 0;
    for (let i = 0; i < labels.length; i++) pos += labels[i]!;
    const n = labels.length;
    const ranked = n >= 2 && pos > 0 && pos < n;
    const m: Metrics = {
      auroc: ranked ? auroc(probs, labels) : NaN,
      auprc: ranked ? auprc(probs, labels) : NaN,
      f1: f1AtThreshold(probs, labels, 0.5),
      macro_f1: macroF1Binary(probs, labels, 0.5),
      accuracy: accuracy(probs, labels, 0.5),
      brier: brier(probs, labels),
      ece: ece(probs, labels),
      n,
      positives: pos,
    };
    if (opts.threshold !== undefined) {
      if (typeof opts.threshold !== 'number') {
        throw new FlexiModalError('a binary task takes one threshold, got an array', {
          where,
          hint: 'pass opts.threshold as a number',
        });
      }
      m.f1_at_val_threshold = f1AtThreshold(probs, labels, opts.threshold);
      m.macro_f1_at_val_threshold = macroF1Binary(probs, labels, opts.threshold);
      m.accuracy_at_val_threshold = accuracy(probs, labels, opts.threshold);
      m.val_threshold = opts.threshold;
    }
    return m;
  }
  if (task.kind === 'multiclass') {
    const C = task.numClasses;
    const n = checkMatrix(probs, C, labels.length, where);
    checkClassLabels(labels, C, where);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += probs[i * C + c]!;
      if (Math.abs(s - 1) > 1e-3) {
        throw new FlexiModalError(`probability row ${i} sums to ${s}, not 1`, {
          where,
          hint: 'apply softmax to the logits before evaluating',
        });
      }
    }
    const small = n < 2;
    const a = aurocMulticlass(probs, labels, C);
    const p = auprcMulticlass(probs, labels, C);
    const f = f1Multiclass(probs, labels, C);
    return {
      auroc: small ? NaN : a.value,
      auprc: small ? NaN : p.value,
      f1: f.value,
      accuracy: accuracyMulticlass(probs, labels, C),
      brier: brierMulticlass(probs, labels, C),
      ece: eceMulticlass(probs, labels, C),
      n,
      classes_skipped: a.skipped,
    };
  }
  const L = task.numLabels;
  if (labels.length !== probs.length) {
    throw new FlexiModalError(`probs has ${probs.length} values but labels has ${labels.length}`, {
      where,
      hint: 'pass [N, L] probabilities and [N, L] 0/1 labels, both flattened row-major',
    });
  }
  const n = checkMatrix(probs, L, undefined, where);
  checkBinaryMatrix(labels, where);
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += labels[i]!;
  const small = n < 2;
  const a = aurocMultilabel(probs, labels, L);
  const p = auprcMultilabel(probs, labels, L);
  const f = f1Multilabel(probs, labels, L, 0.5);
  const m: Metrics = {
    auroc: small ? NaN : a.value,
    auprc: small ? NaN : p.value,
    f1: f.value,
    accuracy: accuracyMultilabel(probs, labels, L, 0.5).value,
    brier: brierMultilabel(probs, labels, L),
    ece: eceMultilabel(probs, labels, L).value,
    n,
    positives: pos,
    labels_skipped: small ? L : a.skipped,
    labels_skipped_f1: f.skipped,
  };
  if (opts.threshold !== undefined) {
    m.f1_at_val_threshold = f1Multilabel(probs, labels, L, opts.threshold).value;
    m.accuracy_at_val_threshold = accuracyMultilabel(probs, labels, L, opts.threshold).value;
  }
  return m;
}

/** Overall metrics plus one entry per group key. */
export interface GroupedMetrics {
  overall: Metrics;
  groups: Record<string, Metrics>;
}

/**
 * Metrics overall and per group. `groupKeys[i]` is the group of sample i: a human-readable
 * modality-combination name such as "static+vitals+labs" (see `modalityComboKey`). Groups with
 * n < 2 or a single class get NaN for the rank metrics (serialised as null in metrics.json).
 */
export function evaluateByGroup(
  task: Task,
  probs: Scores,
  labels: Labels,
  groupKeys: readonly string[],
  opts: EvalOptions = {},
): GroupedMetrics {
  const n = sampleCount(task, labels);
  if (groupKeys.length !== n) {
    throw new FlexiModalError(`got ${groupKeys.length} group keys for ${n} samples`, {
      where: 'evaluateByGroup',
      hint: 'pass one modality-combination key per sample, in sample order',
    });
  }
  const overall = computeMetrics(task, probs, labels, opts);
  const rowsP = task.kind === 'binary' ? 1 : task.kind === 'multiclass' ? task.numClasses : task.numLabels;
  const rowsY = task.kind === 'multilabel' ? task.numLabels : 1;
  const members = new Map<string, number[]>();
  groupKeys.forEach((k, i) => {
    const list = members.get(k);
    if (list) list.push(i);
    else members.set(k, [i]);
  });
  const groups: Record<string, Metrics> = {};
  for (const [key, idx] of members) {
    const p = new Float64Array(idx.length * rowsP);
    const y = new Float64Array(idx.length * rowsY);
    idx.forEach((i, j) => {
      for (let c = 0; c < rowsP; c++) p[j * rowsP + c] = probs[i * rowsP + c]!;
      for (let c = 0; c < rowsY; c++) y[j * rowsY + c] = labels[i * rowsY + c]!;
    });
    groups[key] = computeMetrics(task, p, y, opts);
  }
  return { overall, groups };
}

/**
 * Human-readable modality-combination name: the present modalities joined by "+", in the order
 * given (e.g. ["static", "vitals", "labs"] → "static+vitals+labs"); "none" when nothing is present.
 * With `order`, names are sorted by it (names not in `order` follow, in their own order).
 * `present` is either the list of present names or a name → present map (then `order` fixes the order).
 */
export function modalityComboKey(present: readonly string[] | Record<string, boolean>, order?: readonly string[]): string {
  let names: string[];
  if (Array.isArray(present)) names = [...present];
  else {
    const map = present as Record<string, boolean>;
    names = (order ?? Object.keys(map)).filter((k) => map[k]);
  }
  if (order && Array.isArray(present)) {
    names = [...order.filter((k) => names.includes(k)), ...names.filter((k) => !order.includes(k))];
  }
  return names.length ? names.join('+') : 'none';
}

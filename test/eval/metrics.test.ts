import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { FlexiModalError } from '../../src/errors.js';
import { auroc, aurocMulticlass, aurocMultilabel, midranks } from '../../src/eval/metrics/auroc.js';
import { auprc, auprcMulticlass, auprcMultilabel } from '../../src/eval/metrics/auprc.js';
import {
  bestF1Threshold,
  bestF1ThresholdsMultilabel,
  f1AtThreshold,
  macroF1Binary,
  f1Multiclass,
  f1Multilabel,
} from '../../src/eval/metrics/f1.js';
import { accuracy, accuracyMulticlass, accuracyMultilabel } from '../../src/eval/metrics/accuracy.js';
import { brier, brierMulticlass, brierMultilabel } from '../../src/eval/metrics/brier.js';
import { ece, eceMulticlass } from '../../src/eval/metrics/calibration.js';
import { column, oneVsRest } from '../../src/eval/metrics/macro.js';
import { computeMetrics } from '../../src/eval/evaluate.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** Independent O(n²) AUROC: fraction of (positive, negative) pairs ranked correctly, ties ½. */
function pairwiseAuroc(s: ArrayLike<number>, y: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < s.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < s.length; j++) {
      if (y[j] !== 0) continue;
      den++;
      num += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return num / den;
}

/** Independent O(n²) average precision: mean over positives of the precision at their score. */
function pairwiseAp(s: ArrayLike<number>, y: ArrayLike<number>): number {
  let sum = 0;
  let pos = 0;
  for (let i = 0; i < s.length; i++) {
    if (y[i] !== 1) continue;
    pos++;
    let tp = 0;
    let all = 0;
    for (let j = 0; j < s.length; j++) {
      if (s[j]! >= s[i]!) {
        all++;
        tp += y[j]!;
      }
    }
    sum += tp / all;
  }
  return sum / pos;
}

function randomBinary(rng: Rng, n: number, levels = 0): { s: number[]; y: number[] } {
  const y = Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
  const s = y.map((v) => {
    const r = Math.min(1, Math.max(0, 0.35 + 0.25 * v + 0.2 * rng.normal()));
    return levels ? Math.round(r * levels) / levels : r;
  });
  return { s, y };
}

function randomMulticlass(rng: Rng, n: number, C: number): { p: Float32Array; y: Int32Array } {
  const p = new Float32Array(n * C);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.int(C);
    let z = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(rng.normal() + (c === y[i] ? 1 : 0));
      p[i * C + c] = e;
      z += e;
    }
    for (let c = 0; c < C; c++) p[i * C + c]! /= z;
  }
  return { p, y };
}

test('auroc: hand case and ties', () => {
  assert.equal(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(auroc([0.5, 0.5], [0, 1]), 0.5);
  // pos 0.5 beats 0.2, ties 0.5 (½); pos 0.9 beats both → 3.5/4
  assert.equal(auroc([0.2, 0.5, 0.5, 0.9], [0, 1, 0, 1]), 0.875);
  assert.equal(auroc(new Float32Array([0.9, 0.1]), [1, 0]), 1);
  assert.equal(auroc([0.9, 0.1], [0, 1]), 0);
  assert.deepEqual(Array.from(midranks([3, 1, 3, 2])), [3.5, 1, 3.5, 2]);
});

test('auroc: NaN with a single class; bad input throws', () => {
  assert.ok(Number.isNaN(auroc([0.1, 0.2], [1, 1])));
  assert.ok(Number.isNaN(auroc([], [])));
  assert.throws(() => auroc([0.1, 0.2], [1]), FlexiModalError);
  assert.throws(() => auroc([0.1, NaN], [0, 1]), FlexiModalError);
  assert.throws(() => auroc([0.1, 0.2], [0, 2]), FlexiModalError);
});

test('auroc matches the O(n²) pairwise formula on random data (with and without ties)', () => {
  const rng = new Rng(7);
  for (const levels of [0, 10, 3]) {
    for (let rep = 0; rep < 5; rep++) {
      const { s, y } = randomBinary(rng, 200, levels);
      close(auroc(s, y), pairwiseAuroc(s, y), 1e-12);
    }
  }
});

test('auprc: hand cases (sklearn average_precision_score step-wise)', () => {
  // desc: 0.8(+) P=1 R=.5; 0.4(−); 0.35(+) P=2/3 R=1 → .5·1 + .5·2/3
  close(auprc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.5 + 0.5 * (2 / 3));
  // tie group {0.5(+), 0.5(−)} enters together: .5·1 + .5·2/3
  close(auprc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]), 0.5 + 0.5 * (2 / 3));
  assert.equal(auprc([0.3, 0.2], [1, 1]), 1);
  assert.ok(Number.isNaN(auprc([0.3, 0.2], [0, 0])));
});

test('auprc matches the independent mean-precision-at-positives formula', () => {
  const rng = new Rng(11);
  for (const levels of [0, 5]) {
    for (let rep = 0; rep < 5; rep++) {
      const { s, y } = randomBinary(rng, 150, levels);
      close(auprc(s, y), pairwiseAp(s, y), 1e-12);
    }
  }
});

test('f1 at a threshold and best threshold on validation', () => {
  const s = [0.9, 0.6, 0.4, 0.2, 0.7];
  const y = [1, 0, 1, 0, 1];
  close(f1AtThreshold(s, y, 0.5), 4 / 6); // TP 2, FP 1, FN 1
  close(f1AtThreshold(s, y, 0.3), 6 / 7); // TP 3, FP 1, FN 0
  close(f1AtThreshold(s, y, 0.4), 6 / 7); // score ≥ threshold counts as positive
  // candidates: .9→.5, .7→.8, .6→4/6, .4→6/7, .2→.75
  const best = bestF1Threshold(s, y);
  assert.equal(best.threshold, 0.4);
  close(best.f1, 6 / 7);
  assert.ok(Number.isNaN(f1AtThreshold([0.1, 0.2], [0, 0], 0.5)));
  assert.deepEqual(bestF1Threshold([0.1, 0.2], [0, 0]), { threshold: 0.5, f1: NaN });
  // all positive: .8 → 2/3, .7 → 1
  const b2 = bestF1Threshold([0.8, 0.7], [1, 1]);
  assert.equal(b2.threshold, 0.7);
  assert.equal(b2.f1, 1);
});

test('binary macro F1: mean of the positive and negative class F1 (sklearn average="macro")', () => {
  const s = [0.9, 0.6, 0.4, 0.2, 0.7];
  const y = [1, 0, 1, 0, 1];
  // at 0.5: TP 2, FP 1, FN 1, TN 1 → F1+ = 4/6, F1− = 2·1/(2·1 + 1 + 1) = 1/2
  close(macroF1Binary(s, y, 0.5), (4 / 6 + 1 / 2) / 2);
  // at 0.3: TP 3, FP 1, FN 0, TN 1 → F1+ = 6/7, F1− = 2/3
  close(macroF1Binary(s, y, 0.3), (6 / 7 + 2 / 3) / 2);
  // every sample predicted negative with no positive label: F1+ undefined → NaN
  assert.ok(Number.isNaN(macroF1Binary([0.1, 0.2], [0, 0], 0.5)));
  const m = computeMetrics({ kind: 'binary' }, [0.9, 0.6, 0.4, 0.2, 0.7], [1, 0, 1, 0, 1], { threshold: 0.3 });
  close(m.macro_f1!, (4 / 6 + 1 / 2) / 2);
  close(m.macro_f1_at_val_threshold!, (6 / 7 + 2 / 3) / 2);
});

test('bestF1Threshold agrees with a brute-force scan over candidate thresholds', () => {
  const rng = new Rng(3);
  const { s, y } = randomBinary(rng, 120, 20);
  const best = bestF1Threshold(s, y);
  let bf = -1;
  for (const t of new Set(s)) bf = Math.max(bf, f1AtThreshold(s, y, t));
  close(best.f1, bf, 1e-12);
  close(f1AtThreshold(s, y, best.threshold), best.f1, 1e-12);
});

test('accuracy, brier and ECE by hand', () => {
  assert.equal(accuracy([0.9, 0.6, 0.4, 0.2, 0.5], [1, 0, 1, 0, 1]), 3 / 5); // 0.5 ≥ 0.5 → 1
  close(brier([0.9, 0.2], [1, 0]), (0.01 + 0.04) / 2);
  // bins: {0.05}→|0−.05|, {.15,.12}→|.5−.135|, {.95}→|1−.95|
  close(ece([0.05, 0.15, 0.12, 0.95], [0, 1, 0, 1]), 0.25 * 0.05 + 0.5 * 0.365 + 0.25 * 0.05);
  close(ece([1, 0], [1, 0]), 0); // p = 1 falls in the last (closed) bin
});

test('multi-class: Brier, accuracy, ECE by hand', () => {
  const p = [0.7, 0.2, 0.1, 0.1, 0.3, 0.6];
  const y = [0, 1];
  close(brierMulticlass(p, y, 3), (0.14 + 0.86) / 2);
  assert.equal(accuracyMulticlass(p, y, 3), 0.5);
  // top-label: conf .7 correct (bin 7), conf .6 wrong (bin 6) → (.3 + .6)/2
  close(eceMulticlass(p, y, 3), (0.3 + 0.6) / 2);
  // C = 2: the multi-class Brier is twice the binary one
  close(brierMulticlass([0.8, 0.2, 0.3, 0.7], [0, 1], 2), 2 * brier([0.2, 0.7], [0, 1]), 1e-15);
});

test('multi-class macro metrics equal the average of binary one-vs-rest metrics', () => {
  const rng = new Rng(5);
  const C = 4;
  const { p, y } = randomMulticlass(rng, 300, C);
  const a = aurocMulticlass(p, y, C);
  const ap = auprcMulticlass(p, y, C);
  let sa = 0;
  let sp = 0;
  for (let c = 0; c < C; c++) {
    sa += pairwiseAuroc(column(p, C, c), oneVsRest(y, c));
    sp += pairwiseAp(column(p, C, c), oneVsRest(y, c));
  }
  close(a.value, sa / C, 1e-12);
  close(ap.value, sp / C, 1e-12);
  assert.equal(a.skipped, 0);
  // macro F1 of argmax = mean of per-class binary F1 of (pred == c)
  const pred = Array.from({ length: y.length }, (_, i) => {
    let b = 0;
    for (let c = 1; c < C; c++) if (p[i * C + c]! > p[i * C + b]!) b = c;
    return b;
  });
  let sf = 0;
  for (let c = 0; c < C; c++) {
    sf += f1AtThreshold(
      pred.map((v) => (v === c ? 1 : 0)),
      Array.from(oneVsRest(y, c)),
      0.5,
    );
  }
  close(f1Multiclass(p, y, C).value, sf / C, 1e-12);
});

test('multi-class: absent classes are skipped for rank metrics and F1 uses labels ∪ predictions', () => {
  // class 2 never occurs in labels nor as argmax
  const p = [0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.4, 0.5, 0.1];
  const y = [0, 1, 0];
  const a = aurocMulticlass(p, y, 3);
  assert.equal(a.skipped, 1);
  assert.equal(a.used, 2);
  // class 0: pos scores .6,.4 vs neg .2 → 1; class 1: pos .7 vs neg .3,.5 → 1
  assert.equal(a.value, 1);
  // preds [0,1,1]: class0 TP1 FN1 → 2/3; class1 TP1 FP1 → 2/3
  const f = f1Multiclass(p, y, 3);
  close(f.value, 2 / 3);
  assert.equal(f.skipped, 1);
});

test('multi-label: macro over labels, single-class labels skipped and counted', () => {
  // 4 samples × 3 labels; label 2 is all zeros
  const y = [1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0];
  const p = [0.9, 0.2, 0.1, 0.3, 0.8, 0.4, 0.6, 0.1, 0.2, 0.2, 0.7, 0.3];
  const a = aurocMultilabel(p, y, 3);
  assert.equal(a.skipped, 1);
  const l0 = auroc(column(p, 3, 0), column(y, 3, 0));
  const l1 = auroc(column(p, 3, 1), column(y, 3, 1));
  close(a.value, (l0 + l1) / 2);
  const ap = auprcMultilabel(p, y, 3);
  assert.equal(ap.skipped, 1);
  close(ap.value, (auprc(column(p, 3, 0), column(y, 3, 0)) + auprc(column(p, 3, 1), column(y, 3, 1))) / 2);
  // F1 at .5: label 2 has no positive label nor prediction → skipped
  const f = f1Multilabel(p, y, 3, 0.5);
  assert.equal(f.skipped, 1);
  close(f.value, (f1AtThreshold(column(p, 3, 0), column(y, 3, 0)) + f1AtThreshold(column(p, 3, 1), column(y, 3, 1))) / 2);
  // label 1: p [.2,.8,.1,.7] vs y [0,1,1,0] → 2/4 right
  close(accuracyMultilabel(p, y, 3).value, (1 + 0.5 + 1) / 3);
  let sq = 0;
  for (let i = 0; i < 12; i++) sq += (p[i]! - y[i]!) ** 2;
  close(brierMultilabel(p, y, 3), sq / 12);
  const th = bestF1ThresholdsMultilabel(p, y, 3);
  assert.equal(th.length, 3);
  assert.equal(th[0]!.f1, 1);
  assert.throws(() => f1Multilabel(p, y, 3, [0.5, 0.5]), FlexiModalError);
});

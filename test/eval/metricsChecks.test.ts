/**
 * The metric helpers and input checks that the hand-value tests of metrics.test.ts do not pin:
 * written to kill the mutants Stryker found surviving there (docs/CONTRIBUTING.md, "Mutation
 * testing"). Every expected value below is computed by hand in the comment beside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlexiModalError } from '../../src/errors.js';
import { accuracy, accuracyMulticlass, accuracyMultilabel } from '../../src/eval/metrics/accuracy.js';
import { auprc, auprcMulticlass, auprcMultilabel, singleClass } from '../../src/eval/metrics/auprc.js';
import { auroc, aurocMulticlass, aurocMultilabel } from '../../src/eval/metrics/auroc.js';
import { brier, brierMulticlass, brierMultilabel } from '../../src/eval/metrics/brier.js';
import { ece, eceMulticlass, eceMultilabel, reliabilityBins } from '../../src/eval/metrics/calibration.js';
import { bestF1Threshold, bestF1ThresholdsMultilabel, confusionAt, f1Multiclass, f1Multilabel, thresholdsFor } from '../../src/eval/metrics/f1.js';
import { argmaxRows, classCounts } from '../../src/eval/metrics/macro.js';
import { checkMatrix, checkProbabilities } from '../../src/eval/metrics/validate.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** `fn` throws a FlexiModalError whose message matches `message`, naming `where`, with a hint matching `hint`. */
function refuses(fn: () => unknown, where: string, message: RegExp, hint: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FlexiModalError, String(e));
    assert.equal(e.where, where);
    assert.match(e.message, message);
    assert.match(e.hint ?? '', hint);
    return true;
  });
}

test('argmaxRows: one index per row, ties to the lowest index; classCounts and singleClass', () => {
  // rows (0.2, 0.5, 0.3) → 1; (0.4, 0.4, 0.2) → tie → 0; (0.1, 0.2, 0.7) → 2
  assert.deepEqual(Array.from(argmaxRows([0.2, 0.5, 0.3, 0.4, 0.4, 0.2, 0.1, 0.2, 0.7], 3)), [1, 0, 2]);
  assert.deepEqual(classCounts([1, 0, 1, 1]), { pos: 3, neg: 1 });
  assert.deepEqual(classCounts([]), { pos: 0, neg: 0 });
  assert.equal(singleClass([]), true);
  assert.equal(singleClass([0, 0]), true);
  assert.equal(singleClass([1, 1, 1]), true);
  assert.equal(singleClass([1, 0, 1]), false);
});

test('accuracyMulticlass: 2 of 3 argmax predictions right (a value that is not its own complement)', () => {
  // argmax rows: 1, 0, 2 against labels 1, 2, 2 → 2/3
  close(accuracyMulticlass([0.2, 0.5, 0.3, 0.4, 0.4, 0.2, 0.1, 0.2, 0.7], [1, 2, 2], 3), 2 / 3);
});

test('multi-label AUPRC: an all-positive label is skipped and counted, not scored 1', () => {
  // label 0: scores (0.9, 0.2, 0.6) vs (1, 0, 0): AP = 1; label 1: all positive → skipped
  const r = auprcMultilabel([0.9, 0.5, 0.2, 0.4, 0.6, 0.3], [1, 1, 0, 1, 0, 1], 2);
  assert.equal(r.used, 1);
  assert.equal(r.skipped, 1);
  assert.ok(Number.isNaN(r.perColumn[1]!));
  close(r.value, 1);
  // multi-class: only the classes that occur and do not fill every row count; C = 3, class 2 absent
  const m = auprcMulticlass([0.7, 0.2, 0.1, 0.3, 0.6, 0.1], [0, 1], 3);
  assert.equal(m.used, 2);
  assert.equal(m.skipped, 1);
  assert.equal(m.perColumn.length, 3);
});

test('reliability bins: ranges, counts, means, p = 1 in the last bin, empty bins NaN', () => {
  // p: 0 and 0.05 → bin 0 (mean 0.025, observed 0); 0.1 → bin 1 (observed 1); 0.95 and 1.0 → bin 9
  const bins = reliabilityBins([0, 0.05, 0.1, 0.95, 1], [0, 0, 1, 1, 0], 10);
  assert.equal(bins.length, 10);
  bins.forEach((b, i) => {
    close(b.lo, i / 10);
    close(b.hi, (i + 1) / 10);
  });
  assert.deepEqual(
    bins.map((b) => b.count),
    [2, 1, 0, 0, 0, 0, 0, 0, 0, 2],
  );
  close(bins[0]!.meanPredicted, 0.025);
  assert.equal(bins[0]!.observed, 0);
  close(bins[1]!.meanPredicted, 0.1);
  assert.equal(bins[1]!.observed, 1);
  close(bins[9]!.meanPredicted, 0.975);
  close(bins[9]!.observed, 0.5);
  assert.ok(Number.isNaN(bins[5]!.meanPredicted) && Number.isNaN(bins[5]!.observed));
  // 4 bins: ranges of a quarter
  const four = reliabilityBins([0.3], [1], 4);
  assert.deepEqual(
    four.map((b) => [b.lo, b.hi, b.count]),
    [
      [0, 0.25, 0],
      [0.25, 0.5, 1],
      [0.5, 0.75, 0],
      [0.75, 1, 0],
    ],
  );
});

test('eceMultilabel: macro mean of the per-label binary ECE', () => {
  // label 0: p (0.2, 0.8), y (0, 1): bins 2 and 8, each ½·|y − p| = ½·0.2 → ECE 0.2
  // label 1: p (0.6, 0.6), y (1, 0): bin 6, observed 0.5 vs mean 0.6 → ECE 0.1
  const r = eceMultilabel([0.2, 0.6, 0.8, 0.6], [0, 1, 1, 0], 2);
  assert.equal(r.perColumn.length, 2);
  close(r.perColumn[0]!, 0.2);
  close(r.perColumn[1]!, 0.1);
  close(r.value, 0.15);
  assert.equal(r.used, 2);
});

test('bestF1Threshold: among equal F1 the highest threshold wins (as documented)', () => {
  // P = 2; threshold 0.9: TP 1 FP 0 → 2/(1+0+2) = 2/3; 0.8: 2/4; 0.7: 2/5; 0.6: TP 2 FP 2 → 4/6 = 2/3
  const best = bestF1Threshold([0.9, 0.8, 0.7, 0.6], [1, 0, 0, 1]);
  assert.equal(best.threshold, 0.9);
  close(best.f1, 2 / 3);
});

test('thresholdsFor: one number for every label, or one per label; a wrong count is refused', () => {
  assert.deepEqual(thresholdsFor(0.3, 3, 'x'), [0.3, 0.3, 0.3]);
  const given = new Float32Array([0.25, 0.75]);
  const out = thresholdsFor(given, 2, 'x');
  assert.deepEqual(out, [0.25, 0.75]);
  assert.ok(Array.isArray(out), 'a plain copy');
  refuses(() => thresholdsFor([0.1], 2, 'f1Multilabel'), 'f1Multilabel', /got 1 thresholds for 2 labels/, /one threshold, or one per label/);
  refuses(() => f1Multilabel([0.9, 0.1], [1, 0], 2, [0.5, 0.5, 0.5]), 'f1Multilabel', /got 3 thresholds for 2 labels/, /per label/);
  refuses(() => accuracyMultilabel([0.9, 0.1], [1, 0], 2, [0.5]), 'accuracyMultilabel', /got 1 thresholds for 2 labels/, /per label/);
});

test('binary checks: every binary metric names itself, the index and the fix', () => {
  const binary: [string, (s: number[], y: number[]) => unknown][] = [
    ['auroc', auroc],
    ['auprc', auprc],
    ['brier', brier],
    ['accuracy', (s, y) => accuracy(s, y)],
    ['confusionAt', (s, y) => confusionAt(s, y, 0.5)],
    ['bestF1Threshold', bestF1Threshold],
    ['reliabilityBins', (s, y) => reliabilityBins(s, y)],
  ];
  for (const [name, fn] of binary) {
    refuses(() => fn([0.1, 0.2], [1]), name, /scores has 2 entries but labels has 1/, /one score per label/);
    refuses(() => fn([0.1, Infinity], [0, 1]), name, /score 1 is Infinity \(not finite\)/, /NaN\/Infinity/);
    refuses(() => fn([0.1, 0.2], [0, 2]), name, /label 1 is 2; binary labels must be 0 or 1/, /binarise/);
  }
});

test('matrix checks: every multi-class / multi-label metric names itself, the row and the fix', () => {
  const multiclass: [string, (p: number[], y: number[], c: number) => unknown][] = [
    ['aurocMulticlass', aurocMulticlass],
    ['auprcMulticlass', auprcMulticlass],
    ['brierMulticlass', brierMulticlass],
    ['accuracyMulticlass', accuracyMulticlass],
    ['eceMulticlass', (p, y, c) => eceMulticlass(p, y, c)],
    ['f1Multiclass', f1Multiclass],
  ];
  for (const [name, fn] of multiclass) {
    refuses(() => fn([0.5, 0.5], [0], 1.5), name, /number of columns is 1\.5; it must be a positive integer/, /numClasses/);
    refuses(() => fn([], [], 0), name, /number of columns is 0/, /numClasses/);
    refuses(() => fn([0.5, 0.5, 0.5], [0], 2), name, /probs has 3 values, not a multiple of 2 columns/, /row-major/);
    refuses(() => fn([0.5, 0.5, 0.5, 0.5], [0], 2), name, /probs has 2 rows but there are 1 label rows/, /one probability row per sample/);
    // value 3 is in row 1 (of 2 columns)
    refuses(() => fn([0.5, 0.5, 0.5, NaN], [0, 1], 2), name, /probs value 3 \(row 1\) is NaN/, /NaN\/Infinity/);
    refuses(() => fn([0.5, 0.5, 0.5, 0.5], [0, 2], 2), name, /label 1 is 2; class labels must be integers in \[0, 2\)/, /map the labels to 0\.\.C-1/);
    refuses(() => fn([0.5, 0.5, 0.5, 0.5], [-1, 0], 2), name, /label 0 is -1/, /numClasses/);
    refuses(() => fn([0.5, 0.5, 0.5, 0.5], [0.5, 0], 2), name, /label 0 is 0\.5/, /numClasses/);
  }
  const multilabel: [string, (p: number[], y: number[], l: number) => unknown][] = [
    ['aurocMultilabel', aurocMultilabel],
    ['auprcMultilabel', auprcMultilabel],
    ['brierMultilabel', brierMultilabel],
    ['accuracyMultilabel', (p, y, l) => accuracyMultilabel(p, y, l)],
    ['eceMultilabel', (p, y, l) => eceMultilabel(p, y, l)],
    ['f1Multilabel', (p, y, l) => f1Multilabel(p, y, l)],
    ['bestF1ThresholdsMultilabel', bestF1ThresholdsMultilabel],
  ];
  for (const [name, fn] of multilabel) {
    refuses(() => fn([0.5, 0.5, 0.5, 0.5], [0, 1, 2, 0], 2), name, /label value 2 is 2; multi-label targets must be 0 or 1/, /0\/1 matrix/);
    refuses(() => fn([0.5, 0.5, 0.5], [0, 1, 1, 0], 2), name, /not a multiple of 2 columns/, /row-major/);
  }
});

test('checkProbabilities: [0, 1] with a 1e-6 float32 tolerance, NaN refused', () => {
  checkProbabilities([0, 1, -1e-7, 1 + 1e-7, 0.5], 'p');
  refuses(() => checkProbabilities([0.5, -1e-5], 'p'), 'p', /value 1 is -0\.00001, not a probability in \[0, 1\]/, /sigmoid\/softmax/);
  refuses(() => checkProbabilities([1 + 1e-5], 'p'), 'p', /value 0 is 1\.00001/, /sigmoid/);
  refuses(() => checkProbabilities([0.2, NaN], 'p'), 'p', /value 1 is NaN/, /sigmoid/);
});

test('boundaries: the probability tolerance is inclusive, one column is a matrix, rows unchecked when not given, empty ECE is NaN', () => {
  checkProbabilities([-1e-6, 1 + 1e-6], 'p');
  assert.equal(checkMatrix([0.2, 0.4, 0.9], 1, 3, 'w'), 3);
  assert.equal(checkMatrix([0.2, 0.4, 0.9, 0.1], 2, undefined, 'w'), 2);
  assert.ok(Number.isNaN(ece([], [])), 'no sample: undefined, not 0');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlexiModalError } from '../../src/errors.js';
import { computeMetrics, evaluateByGroup, modalityComboKey } from '../../src/eval/evaluate.js';
import { auroc } from '../../src/eval/metrics/auroc.js';
import { f1AtThreshold } from '../../src/eval/metrics/f1.js';

const close = (a: number | undefined, b: number, tol = 1e-12) => assert.ok(Math.abs(a! - b) <= tol, `${a} vs ${b}`);

test('computeMetrics binary: every metric and the validation threshold', () => {
  const p = [0.9, 0.6, 0.4, 0.2, 0.7];
  const y = [1, 0, 1, 0, 1];
  const m = computeMetrics({ kind: 'binary' }, p, y, { threshold: 0.4 });
  // pairs (pos, neg): .9>.6,.2; .4<.6, .4>.2; .7>.6,.2 → 5/6
  close(m.auroc, 5 / 6);
  close(m.f1, 4 / 6);
  close(m.f1_at_val_threshold, 6 / 7);
  close(m.accuracy, 3 / 5);
  close(m.brier, (0.01 + 0.36 + 0.36 + 0.04 + 0.09) / 5);
  assert.equal(m.n, 5);
  assert.equal(m.positives, 3);
  assert.equal(m.val_threshold, 0.4);
  assert.equal(computeMetrics({ kind: 'binary' }, p, y).f1_at_val_threshold, undefined);
});

test('computeMetrics rejects non-probabilities and non-normalised multi-class rows', () => {
  assert.throws(() => computeMetrics({ kind: 'binary' }, [1.5, 0.2], [1, 0]), FlexiModalError);
  assert.throws(() => computeMetrics({ kind: 'multiclass', numClasses: 2 }, [0.5, 0.6, 0.5, 0.5], [0, 1]), FlexiModalError);
});

test('computeMetrics multi-class and multi-label report skipped counts', () => {
  const mc = computeMetrics({ kind: 'multiclass', numClasses: 3 }, [0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.4, 0.5, 0.1], [0, 1, 0]);
  assert.equal(mc.auroc, 1);
  assert.equal(mc.classes_skipped, 1);
  assert.equal(mc.n, 3);
  const ml = computeMetrics(
    { kind: 'multilabel', numLabels: 2 },
    [0.9, 0.1, 0.2, 0.3, 0.7, 0.2],
    [1, 0, 0, 0, 1, 0],
    { threshold: [0.5, 0.25] },
  );
  assert.equal(ml.n, 3);
  assert.equal(ml.positives, 2);
  assert.equal(ml.labels_skipped, 1);
  assert.equal(ml.auroc, 1);
  assert.equal(ml.f1, 1); // label 1 (no positive, no prediction at .5) skipped
  close(ml.f1_at_val_threshold, 1 / 2); // label 1 at .25: 1 FP → F1 0; mean(1, 0)
});

test('evaluateByGroup: group metrics equal metrics on the subset; tiny/single-class groups give NaN rank metrics', () => {
  const p = [0.9, 0.6, 0.4, 0.2, 0.7, 0.3, 0.8];
  const y = [1, 0, 1, 0, 1, 0, 1];
  const g = ['static+vitals', 'static', 'static+vitals', 'static+vitals', 'static', 'static+vitals', 'static+vitals+notes'];
  const r = evaluateByGroup({ kind: 'binary' }, p, y, g, { threshold: 0.5 });
  assert.deepEqual(Object.keys(r.groups).sort(), ['static', 'static+vitals', 'static+vitals+notes']);
  const sv = r.groups['static+vitals']!;
  assert.equal(sv.n, 4);
  close(sv.auroc, auroc([0.9, 0.4, 0.2, 0.3], [1, 1, 0, 0]));
  close(sv.f1, f1AtThreshold([0.9, 0.4, 0.2, 0.3], [1, 1, 0, 0], 0.5));
  assert.equal(r.groups['static']!.auroc, 1);
  const one = r.groups['static+vitals+notes']!;
  assert.equal(one.n, 1);
  assert.ok(Number.isNaN(one.auroc) && Number.isNaN(one.auprc));
  assert.equal(one.accuracy, 1);
  close(r.overall.auroc, auroc(p, y));
  assert.throws(() => evaluateByGroup({ kind: 'binary' }, p, y, g.slice(1)), FlexiModalError);
});

test('evaluateByGroup multi-label slices whole rows', () => {
  const p = [0.9, 0.1, 0.2, 0.8, 0.3, 0.3, 0.6, 0.6];
  const y = [1, 0, 0, 1, 0, 0, 1, 1];
  const r = evaluateByGroup({ kind: 'multilabel', numLabels: 2 }, p, y, ['a', 'b', 'a', 'b']);
  assert.equal(r.groups['a']!.n, 2);
  assert.equal(r.groups['a']!.labels_skipped, 1); // group a = rows 0, 2: label 1 all zero
  assert.equal(r.groups['b']!.labels_skipped, 1); // group b = rows 1, 3: label 1 all one
  assert.equal(r.groups['a']!.auroc, 1);
});

test('modalityComboKey', () => {
  assert.equal(modalityComboKey(['static', 'vitals', 'labs']), 'static+vitals+labs');
  assert.equal(modalityComboKey(['labs', 'static'], ['static', 'vitals', 'labs']), 'static+labs');
  assert.equal(modalityComboKey({ static: true, vitals: false, labs: true }), 'static+labs');
  assert.equal(modalityComboKey([]), 'none');
});

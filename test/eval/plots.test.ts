import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { FlexiModalError } from '../../src/errors.js';
import { auroc } from '../../src/eval/metrics/auroc.js';
import {
  barChartWithErrors,
  fitLine,
  heatmap,
  lineChart,
  logLogFit,
  rocCurvePlot,
  rocCurvePoints,
  trapezoidArea,
} from '../../src/eval/plots/index.js';

/** XML-ish sanity: starts with <svg, ends with </svg>, contains each label (XML-escaped). */
function assertSvg(svg: string, labels: string[]): void {
  assert.ok(svg.startsWith('<svg'), svg.slice(0, 40));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.equal((svg.match(/<svg/g) ?? []).length, (svg.match(/<\/svg>/g) ?? []).length);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  for (const l of labels) assert.ok(svg.includes(esc(l)), `missing label "${l}"`);
}

test('fitLine recovers an exact power law', () => {
  const x = [10, 100, 1000, 10000];
  const f = fitLine(x, x.map((v) => 3 * v ** -0.5), { logX: true, logY: true });
  assert.ok(Math.abs(f.slope + 0.5) < 1e-12 && Math.abs(f.r2 - 1) < 1e-12);
  assert.ok(Math.abs(f.predict(400) - 3 / 20) < 1e-12);
  assert.throws(() => fitLine([1, 1], [2, 3]), FlexiModalError);
});

test('lineChart: labels, log axes, fitted line; rejects non-positive values on a log axis', async () => {
  const svg = await lineChart(
    [
      { name: 'fusemoe', x: [1, 2, 4, 8], y: [0.5, 0.3, 0.2, 0.12] },
      { name: 'baseline', x: [1, 2, 4, 8], y: [0.6, NaN, 0.3, 0.2] },
    ],
    { title: 'Loss vs steps', xLabel: 'steps', yLabel: 'val loss', logX: true, logY: true, fit: true, mark: 'both' },
  );
  assertSvg(svg, ['Loss vs steps', 'steps', 'val loss', 'fusemoe', 'baseline', 'fusemoe fit (slope']);
  await assert.rejects(lineChart([{ name: 'a', x: [0, 1], y: [1, 2] }], { logX: true }), FlexiModalError);
});

test('logLogFit: points, fit with slope in the legend and a reference line', async () => {
  const n = [100, 200, 400, 800, 1600];
  const svg = await logLogFit(n, n.map((v) => 2 / Math.sqrt(v)), { xLabel: 'sample size n', yLabel: 'parameter error', referenceSlope: -0.5 });
  assertSvg(svg, ['sample size n', 'parameter error', 'fit: slope -0.500', 'reference slope -0.5']);
});

test('heatmap: row/column labels and values', async () => {
  const svg = await heatmap(
    [
      [0.7, 0.2, 0.1],
      [0.1, 0.5, 0.4],
    ],
    { rowLabels: ['expert 0', 'expert 1'], colLabels: ['vitals', 'labs', 'notes'], title: 'Expert usage', legendTitle: 'share' },
  );
  assertSvg(svg, ['Expert usage', 'expert 0', 'expert 1', 'vitals', 'labs', 'notes', '0.70', 'share']);
  await assert.rejects(heatmap([[1, 2], [3]]), FlexiModalError);
});

test('barChartWithErrors: grouped bars with error bars', async () => {
  const svg = await barChartWithErrors(
    [
      { label: 'static+vitals', group: 'baseline', mean: 0.8, std: 0.02 },
      { label: 'static+vitals', group: 'fusemoe', mean: 0.84, std: 0.01 },
      { label: 'static', group: 'baseline', mean: 0.7, std: 0.03 },
      { label: 'static', group: 'fusemoe', mean: 0.72 },
    ],
    { yLabel: 'AUROC', title: 'AUROC by group' },
  );
  assertSvg(svg, ['AUROC by group', 'AUROC', 'static+vitals', 'baseline', 'fusemoe']);
  await assert.rejects(barChartWithErrors([{ label: 'a', mean: NaN }]), FlexiModalError);
});

test('rocCurvePoints: trapezoid area equals rank AUROC (ties included); plot has legend', async () => {
  const rng = new Rng(9);
  const y = Array.from({ length: 200 }, () => (rng.next() < 0.4 ? 1 : 0));
  const s = y.map((v) => Math.round((0.4 + 0.2 * v + 0.2 * rng.normal()) * 10) / 10);
  const r = rocCurvePoints(s, y);
  assert.deepEqual([r.fpr[0], r.tpr[0], r.fpr.at(-1), r.tpr.at(-1)], [0, 0, 1, 1]);
  assert.ok(Math.abs(trapezoidArea(r.fpr, r.tpr) - auroc(s, y)) < 1e-12);
  const hand = rocCurvePoints([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
  assert.deepEqual(hand.fpr, [0, 0, 0.5, 0.5, 1]);
  assert.deepEqual(hand.tpr, [0, 0.5, 0.5, 1, 1]);
  const svg = await rocCurvePlot([{ name: 'test', scores: s, labels: y }], { title: 'ROC (test)' });
  assertSvg(svg, ['ROC (test)', 'false positive rate', `test (AUROC ${auroc(s, y).toFixed(3)})`]);
});

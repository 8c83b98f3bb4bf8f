import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateSeeds, type SeedResult } from '../../src/eval/aggregate.js';
import { compareTable, metricsReport } from '../../src/eval/report.js';

function fixture(shift: number) {
  const m = (auroc: number, n: number) => ({ auroc: auroc + shift, auprc: 0.4, f1: 0.5, accuracy: 0.8, brier: 0.1, ece: 0.05, n });
  const seeds: SeedResult[] = [
    { splits: { val: m(0.8, 50), test: m(0.85, 100) }, groups: { test: { static: m(0.7, 5), 'static+vitals+labs': m(0.9, 80), 'static+labs': m(NaN, 10) } } },
    { splits: { val: m(0.82, 50), test: m(0.86, 100) }, groups: { test: { static: m(0.72, 5), 'static+vitals+labs': m(0.88, 80), 'static+labs': m(NaN, 10) } } },
  ];
  return aggregateSeeds(seeds);
}

test('metricsReport: overall table per split and group tables sorted by n', () => {
  const md = metricsReport(fixture(0));
  assert.match(md, /\| split \| n \| auroc \| auprc \| f1 \| accuracy \| brier \| ece \|/);
  assert.match(md, /\| test \| 100 \| 0\.855 ± 0\.007 \|/);
  assert.match(md, /\| val \| 50 \| 0\.810 ± 0\.014 \|/);
  assert.ok(md.indexOf('| val |') < md.indexOf('| test |'));
  const g = md.slice(md.indexOf('## Groups — test'));
  const order = ['static+vitals+labs', 'static+labs', 'static'].map((k) => g.indexOf(`| ${k} |`));
  assert.ok(order.every((i) => i > 0) && order[0]! < order[1]! && order[1]! < order[2]!, order.join());
  assert.match(g, /\| static\+labs \| 10 \| — \|/);
  assert.match(md, /over 2 seeds/);
});

test('compareTable: variants × metrics overall and per group', () => {
  const md = compareTable({ baseline: fixture(0), fusemoe: fixture(0.05) }, { metrics: ['auroc', 'f1'] });
  assert.match(md, /\| variant \| n \| auroc \| f1 \|/);
  assert.match(md, /\| baseline \| 100 \| 0\.855 ± 0\.007 \| 0\.500 ± 0\.000 \|/);
  assert.match(md, /\| fusemoe \| 100 \| 0\.905 ± 0\.007 \|/);
  assert.match(md, /\| static\+vitals\+labs \| fusemoe \| 80 \| 0\.940 ± 0\.014 \|/);
  assert.ok(md.indexOf('| static+vitals+labs | baseline') < md.indexOf('| static | baseline'));
});

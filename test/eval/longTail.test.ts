import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateSeeds, validateMetricsJson, type MetricsJson } from '../../src/eval/aggregate.js';
import { aggregateLongTail, headTailGroups, longTailOfSeed, partMetrics } from '../../src/eval/longTail.js';
import { compareTable } from '../../src/eval/report.js';
import type { GroupedMetrics } from '../../src/eval/evaluate.js';
import type { Metrics } from '../../src/eval/task.js';

const names = (counts: Record<string, number>) => Object.entries(counts).flatMap(([g, n]) => Array<string>(n).fill(g));

test('headTailGroups: tail = groups under the threshold share of the training samples', () => {
  const ht = headTailGroups(names({ a: 60, b: 15, c: 14, d: 7, e: 4 }));
  assert.deepEqual(ht.head, ['a', 'b'], '15 % exactly is head');
  assert.deepEqual(ht.tail, ['c', 'd', 'e']);
  assert.deepEqual(headTailGroups(names({ a: 60, b: 15, c: 14, d: 7, e: 4 }), 0.1).tail, ['d', 'e']);
  assert.throws(() => headTailGroups(['a'], 1.5), /evaluation\.tailThreshold/);
});

const m = (auroc: number, f1: number, n: number): Metrics => ({ auroc, auprc: 0.5, f1, accuracy: f1, brier: 0.2, ece: 0.1, n, positives: 1 });

test('partMetrics: mean over the part’s groups of each group’s metric (not pooled), NaN groups skipped', () => {
  const grouped: GroupedMetrics = { overall: m(0.8, 0.7, 110), groups: { a: m(0.9, 0.8, 100), c: m(0.6, 0.5, 6), d: m(NaN, 0.3, 4) } };
  const tail = partMetrics(grouped, ['c', 'd', 'e']);
  assert.equal(tail.auroc, 0.6, 'd has no AUROC: mean over c only');
  assert.ok(Math.abs(tail.f1! - 0.4) < 1e-12, '(0.5 + 0.3) / 2, not the sample-weighted 0.42');
  assert.equal(tail.n, 10);
  assert.equal(tail.groups, 2, 'e absent from the split');
  assert.equal(tail.positives, undefined, 'counts are not averaged');
  assert.ok(Number.isNaN(partMetrics(grouped, ['d']).auroc!));
});

function seed(tailAuroc: number): GroupedMetrics {
  return { overall: m(0.8, 0.7, 110), groups: { a: m(0.9, 0.8, 100), c: m(tailAuroc, 0.5, 6), d: m(tailAuroc + 0.1, 0.3, 4) } };
}

test('aggregateLongTail: { mean, std, seeds } per split, part and metric; tailGroups listed; metrics.json stays valid', () => {
  const groups = headTailGroups(names({ a: 80, c: 12, d: 8 }));
  const lt = aggregateLongTail([longTailOfSeed({ test: seed(0.5) }, groups), longTailOfSeed({ test: seed(0.7) }, groups)]);
  assert.deepEqual(lt.tailGroups, ['c', 'd']);
  assert.deepEqual(lt.headGroups, ['a']);
  assert.deepEqual(lt.test!.tail.auroc!.seeds.map((x) => +x!.toFixed(6)), [0.55, 0.75]);
  assert.ok(Math.abs(lt.test!.tail.auroc!.mean! - 0.65) < 1e-12);
  assert.ok(Math.abs(lt.test!.tail.auroc!.std! - Math.sqrt(0.02)) < 1e-12);
  assert.equal(lt.test!.head.auroc!.mean, 0.9);
  const metrics: MetricsJson = { ...aggregateSeeds([{ splits: { test: seed(0.5).overall } }]), longTail: lt };
  assert.doesNotThrow(() => validateMetricsJson(JSON.parse(JSON.stringify(metrics))));
});

test('compareTable: head / tail / whole rows, and per-group rows only for groups with ≥ minGroupN samples', () => {
  const groups = headTailGroups(names({ a: 80, c: 12, d: 8 }));
  const run = (t: number): MetricsJson => ({
    ...aggregateSeeds([{ splits: { test: seed(t).overall }, groups: { test: seed(t).groups } }]),
    longTail: aggregateLongTail([longTailOfSeed({ test: seed(t) }, groups)]),
  });
  const md = compareTable({ softmoe: run(0.5), remind: run(0.7) }, { metrics: ['auroc'], minGroupN: 5 });
  assert.match(md, /\| tail \| remind \| 10 \(2 groups\) \| 0\.750 \|/);
  assert.match(md, /\| head \| softmoe \| 100 \(1 groups\) \| 0\.900 \|/);
  assert.match(md, /\| whole \| softmoe \| 110 \| 0\.800 \|/);
  assert.match(md, /Tail = groups with < 15 % of the training samples \(c, d\)/);
  assert.match(md, /\| c \| remind \| 6 \|/);
  assert.doesNotMatch(md, /\| d \| remind \|/, 'd has 4 < 5 test samples');
  assert.match(md, /1 group with fewer than 5 test samples omitted/);
});

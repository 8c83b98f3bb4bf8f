import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlexiModalError } from '../../src/errors.js';
import {
  aggregateSeeds,
  formatMeanStd,
  metricOf,
  metricsJsonString,
  seedResultFromEvaluations,
  summarize,
  validateMetricsJson,
  type SeedResult,
} from '../../src/eval/aggregate.js';
import { evaluateByGroup } from '../../src/eval/evaluate.js';

const close = (a: number | null | undefined, b: number, tol = 1e-12) => assert.ok(Math.abs(a! - b) <= tol, `${a} vs ${b}`);

const base = { auprc: 0.5, f1: 0.5, accuracy: 0.5, brier: 0.2, ece: 0.1 };

test('summarize: mean and sample std by hand; one seed → std 0; NaN → null', () => {
  const s = summarize([0.8, 0.9, 1.0]);
  close(s.mean, 0.9);
  close(s.std, 0.1); // ((.01 + 0 + .01)/2)^½
  const t = summarize([1, 2, 3, 4]);
  close(t.std, Math.sqrt(5 / 3));
  assert.deepEqual(summarize([0.7]), { mean: 0.7, std: 0, seeds: [0.7] });
  const u = summarize([NaN, 0.6, 0.8]);
  assert.deepEqual(u.seeds, [null, 0.6, 0.8]);
  close(u.mean, 0.7);
  assert.deepEqual(summarize([NaN]), { mean: null, std: null, seeds: [null] });
});

test('aggregateSeeds produces the metrics.json contract', () => {
  const seeds: SeedResult[] = [
    {
      splits: { val: { ...base, auroc: 0.8, n: 10 }, test: { ...base, auroc: 0.7, n: 20 } },
      groups: { test: { 'static+vitals': { ...base, auroc: 0.6, n: 12 }, static: { ...base, auroc: NaN, n: 1 } } },
    },
    {
      splits: { val: { ...base, auroc: 0.9, n: 10 }, test: { ...base, auroc: 0.9, n: 20 } },
      groups: { test: { 'static+vitals': { ...base, auroc: 0.8, n: 12 } } },
    },
  ];
  const m = aggregateSeeds(seeds);
  assert.deepEqual(Object.keys(m).sort(), ['groups', 'test', 'val']);
  close(m.test!.auroc!.mean, 0.8);
  close(m.test!.auroc!.std, Math.sqrt(0.02));
  assert.deepEqual(m.test!.auroc!.seeds, [0.7, 0.9]);
  assert.deepEqual(m.test!.n, { mean: 20, std: 0, seeds: [20, 20] });
  const sv = m.groups.test!['static+vitals']!;
  assert.equal(sv.n, 12);
  assert.equal(sv.n_seeds, 2);
  close(metricOf(sv, 'auroc')!.mean, 0.7);
  // group only in seed 0, with NaN AUROC → null; other metrics aggregated over the one seed
  const st = m.groups.test!['static']!;
  assert.equal(st.n, 1);
  assert.equal(st.n_seeds, 1);
  assert.deepEqual(st.auroc, { mean: null, std: null, seeds: [null, null] });
  assert.deepEqual(st.f1, { mean: 0.5, std: 0, seeds: [0.5, null] });
  const json = metricsJsonString(m);
  assert.ok(!json.includes('NaN'));
  const back = validateMetricsJson(JSON.parse(json));
  assert.deepEqual(back, JSON.parse(JSON.stringify(m)));
});

test('aggregateSeeds rejects unknown splits and empty input', () => {
  assert.throws(() => aggregateSeeds([]), FlexiModalError);
  assert.throws(() => aggregateSeeds([{ splits: { dev: { ...base, auroc: 1, n: 1 } } } as unknown as SeedResult]), FlexiModalError);
  assert.throws(() => validateMetricsJson({ test: { auroc: 0.5 }, groups: {} }), FlexiModalError);
});

test('seedResultFromEvaluations + aggregate from evaluateByGroup', () => {
  const p = [0.9, 0.6, 0.4, 0.2];
  const y = [1, 0, 1, 0];
  const ev = evaluateByGroup({ kind: 'binary' }, p, y, ['a', 'a', 'b', 'b']);
  const m = aggregateSeeds([seedResultFromEvaluations({ test: ev }), seedResultFromEvaluations({ test: ev })]);
  close(m.test!.auroc!.mean, 0.75);
  assert.equal(m.test!.auroc!.std, 0);
  assert.equal(m.groups.test!['a']!.n, 2);
});

test('formatMeanStd', () => {
  assert.equal(formatMeanStd({ mean: 0.8534, std: 0.0041, seeds: [] }), '0.853 ± 0.004');
  assert.equal(formatMeanStd({ mean: 0.5, std: 0, seeds: [0.5] }, 2), '0.50', 'one seed: no ± 0');
  assert.equal(formatMeanStd({ mean: 0.5, std: 0, seeds: [0.5, 0.5] }, 2), '0.50 ± 0.00', 'two equal seeds: a measured 0');
  // defined for one seed of three: say so instead of a misleading ± 0
  assert.equal(formatMeanStd({ mean: 1, std: 0, seeds: [1, null, null] }), '1.000 (1/3 seeds)');
  assert.equal(formatMeanStd({ mean: null, std: null, seeds: [null] }), '—');
  assert.equal(formatMeanStd(undefined), '—');
});

test('the metrics.json example in docs/METRICS.md satisfies the contract', async () => {
  const { readFile } = await import('node:fs/promises');
  // dist/test/eval/ → repo root
  const md = await readFile(new URL('../../../docs/METRICS.md', import.meta.url), 'utf8');
  const block = /```json\n([\s\S]*?)```/.exec(md);
  assert.ok(block, 'no json example in docs/METRICS.md');
  const m = validateMetricsJson(JSON.parse(block[1]!));
  for (const k of ['auroc', 'auprc', 'f1', 'accuracy', 'brier']) assert.ok(metricOf(m.test, k), k);
  assert.deepEqual(metricOf(m.groups.test!['static'], 'auroc'), { mean: null, std: null, seeds: [null, null] });
  assert.deepEqual(Object.keys(aggregateSeeds([{ splits: { test: { ...base, auroc: 1, n: 2 } } }])), ['test', 'groups']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { generateSynthetic, longTailOrder, normInv } from '../../src/data/synthetic.js';
import { stratifiedSplit, writeSplitFile, readSplitFile, splitSamples, stratumOf } from '../../src/data/split.js';
import { groupCounts } from '../../src/data/groups.js';
import { hasModality } from '../../src/data/schema.js';
import { assertDataError, tmpDir } from './fixtures.js';

test('synthetic: deterministic for a seed, different for another', () => {
  const a = generateSynthetic({ n: 200, seed: 7 });
  const b = generateSynthetic({ n: 200, seed: 7 });
  const c = generateSynthetic({ n: 200, seed: 8 });
  assert.deepEqual(a.samples, b.samples);
  assert.notDeepEqual(a.samples, c.samples);
  assert.equal(a.samples.length, 200);
  assert.deepEqual(a.spec.modalities.map((m) => m.name), ['demo', 'vitals', 'labs', 'notes']);
});

test('synthetic: per-modality missing rates and binary prevalence', () => {
  const n = 3000;
  const d = generateSynthetic({ n, seed: 1, missingness: { demo: 0, vitals: 0.2, labs: 0.5, notes: 0.7 } });
  const rate = (m: string) => d.samples.filter((s) => !hasModality(s, m)).length / n;
  assert.equal(rate('demo'), 0);
  // binomial sd at n=3000 is ≤ 0.0092; allow 4 sd
  assert.ok(Math.abs(rate('vitals') - 0.2) < 0.037, `vitals ${rate('vitals')}`);
  assert.ok(Math.abs(rate('labs') - 0.5) < 0.037, `labs ${rate('labs')}`);
  assert.ok(Math.abs(rate('notes') - 0.7) < 0.037, `notes ${rate('notes')}`);
  assert.equal(d.report.byVariable['modality missing (by design)']?.['notes'], d.samples.filter((s) => !hasModality(s, 'notes')).length);
  const prev = d.samples.filter((s) => s.label === 1).length / n;
  assert.ok(prev > 0.2 && prev < 0.32, `prevalence ${prev}`);
  // no sample without any modality
  assert.ok(d.samples.every((s) => d.spec.modalities.some((m) => hasModality(s, m.name))));
  // the label depends on the latents as documented: positives have higher 1.6 z + 1.2 w
  const score = (i: number) => 1.6 * d.latents.z[i]! + 1.2 * d.latents.w[i]!;
  const pos = d.samples.map((s, i) => (s.label === 1 ? score(i) : NaN)).filter((x) => !Number.isNaN(x));
  const neg = d.samples.map((s, i) => (s.label === 0 ? score(i) : NaN)).filter((x) => !Number.isNaN(x));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(pos) - mean(neg) > 1.5);
});

test('synthetic: long-tail combinations follow rank order; other tasks', () => {
  assert.deepEqual(longTailOrder(2), [3, 1, 2]);
  assert.ok(Math.abs(normInv(0.975) - 1.959964) < 1e-5);
  const d = generateSynthetic({ n: 2000, seed: 3, missingness: 'long-tail' });
  const g = groupCounts(d);
  assert.equal(g[0]!.name, 'demo+vitals+labs+notes');
  // P(full) = 1 / sum_{r=1..15} r^-1.5
  let z = 0;
  for (let r = 1; r <= 15; r++) z += r ** -1.5;
  assert.ok(Math.abs(g[0]!.count / 2000 - 1 / z) < 0.05);
  assert.ok(g.length >= 12);
  const mc = generateSynthetic({ n: 600, seed: 2, task: 'multiclass', classes: 3 });
  const counts = [0, 1, 2].map((k) => mc.samples.filter((s) => s.label === k).length);
  assert.ok(counts.every((c) => c > 150), `classes ${counts}`);
  const ml = generateSynthetic({ n: 100, seed: 2, task: 'multilabel', labels: 5 });
  assert.ok(ml.samples.every((s) => Array.isArray(s.label) && s.label.length === 5));
});

test('split: stratified within ±1 per class, deterministic, file round trip, errors', async () => {
  const d = generateSynthetic({ n: 503, seed: 4 });
  const split = stratifiedSplit(d, { seed: 11 });
  assert.deepEqual(split, stratifiedSplit(d, { seed: 11 }));
  assert.equal(split.train.length + split.val.length + split.test.length, 503);
  const labelOf = new Map(d.samples.map((s) => [s.id, s.label as number]));
  for (const cls of [0, 1]) {
    const nc = d.samples.filter((s) => s.label === cls).length;
    (['train', 'val', 'test'] as const).forEach((part, k) => {
      const got = split[part].filter((id) => labelOf.get(id) === cls).length;
      assert.ok(Math.abs(got - split.fractions[k]! * nc) <= 1, `${part} class ${cls}: ${got} vs ${split.fractions[k]! * nc}`);
    });
  }
  const dir = tmpDir();
  const p = join(dir, 'split.json');
  await writeSplitFile(p, split);
  assert.deepEqual(await readSplitFile(p, d), split);
  const parts = splitSamples(d, split);
  assert.equal(parts.train.length, split.train.length);
  assert.deepEqual(parts.unassigned, []);

  writeFileSync(p, JSON.stringify({ ...split, test: [...split.test, 'nope'] }));
  await assertDataError(() => readSplitFile(p, d), 'split.json', '"nope"', 'not in the dataset');
  writeFileSync(p, JSON.stringify({ ...split, val: [...split.val, split.train[0]] }));
  await assertDataError(() => readSplitFile(p, d), `"${split.train[0]}"`, 'two splits');
  writeFileSync(p, JSON.stringify({ seed: 1, fractions: [0.7, 0.15, 0.15], train: [1] }));
  await assertDataError(() => readSplitFile(p, d), 'invalid split file');
});

test('split: multiclass and multilabel strata', () => {
  const mc = generateSynthetic({ n: 300, seed: 5, task: 'multiclass', classes: 4 });
  const s = stratifiedSplit(mc, { seed: 1, fractions: [0.5, 0.25, 0.25] });
  const lab = new Map(mc.samples.map((x) => [x.id, x.label as number]));
  for (let k = 0; k < 4; k++) {
    const nk = mc.samples.filter((x) => x.label === k).length;
    assert.ok(Math.abs(s.val.filter((id) => lab.get(id) === k).length - nk / 4) <= 1);
  }
  const ml = generateSynthetic({ n: 10, seed: 5, task: 'multilabel' });
  assert.equal(stratumOf({ ...ml.samples[0]!, label: [1, 1, 0, 1] }), '3');
  assert.equal(stratumOf({ ...ml.samples[0]!, label: [0, 1, 0, 1] }, 'first'), '0');
});

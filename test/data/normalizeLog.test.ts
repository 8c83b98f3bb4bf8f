import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitNormalizer, normalizeValue, denormalizeValue, normalizerFromJson, normalizerToJson, skewness } from '../../src/data/normalize.js';
import { makeBatch } from '../../src/data/batch.js';
import type { DatasetSpec, Sample } from '../../src/data/schema.js';

const spec: DatasetSpec = {
  name: 't',
  horizonHours: 48,
  task: { kind: 'binary', name: 'y' },
  modalities: [{ name: 'labs', kind: 'timeseries', variables: ['ALT', 'Na'] }],
};
// ALT: right-skewed, non-negative; Na: symmetric
const alt = [10, 12, 15, 20, 25, 30, 40, 60, 200, 1500];
const na = [135, 137, 138, 139, 140, 140, 141, 142, 143, 145];
const samples: Sample[] = alt.map((a, i) => ({
  id: `s${i}`,
  label: i % 2,
  modalities: {
    labs: { kind: 'timeseries', times: Float64Array.from([1, 1]), variables: Int32Array.from([0, 1]), values: Float64Array.from([a, na[i]!]) },
  },
}));

test('skewness matches the hand-computed moment ratio', () => {
  // values 0,0,3: mean 1, m2 = (1+1+4)/3 = 2, m3 = (−1−1+8)/3 = 2 → 2 / 2^1.5
  assert.ok(Math.abs(skewness([0, 0, 3]) - 2 / Math.pow(2, 1.5)) < 1e-12);
  assert.equal(skewness([1, 2]), 0);
});

test('logSkewed log1p-transforms only skewed non-negative variables; statistics on the log scale', () => {
  const n = fitNormalizer(spec, samples, { logSkewed: 2 });
  assert.deepEqual(n.modalities.labs!.log, [true, false]);
  const logs = alt.map((x) => Math.log1p(x));
  const mu = logs.reduce((a, b) => a + b) / logs.length;
  assert.ok(Math.abs(n.modalities.labs!.mean[0]! - mu) < 1e-9);
  const z = normalizeValue(n, 'labs', 0, 200);
  assert.ok(Math.abs(z - (Math.log1p(200) - mu) / n.modalities.labs!.std[0]!) < 1e-9);
  assert.ok(Math.abs(denormalizeValue(n, 'labs', 0, z) - 200) < 1e-9);
  const batch = makeBatch(spec, samples.slice(8, 9), n);
  assert.ok(Math.abs(batch.modalities.labs!.kind === 'timeseries' ? (batch.modalities.labs as { values: Float32Array }).values[0]! - z : 1) < 1e-5);
  const back = normalizerFromJson(JSON.parse(JSON.stringify(normalizerToJson(n))), spec);
  assert.deepEqual(back.modalities.labs!.log, [true, false]);
  assert.equal(fitNormalizer(spec, samples).modalities.labs!.log, undefined, 'off by default');
});

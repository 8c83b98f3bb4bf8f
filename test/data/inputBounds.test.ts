/**
 * Issue 19 §4: robust training bounds per variable and of time (src/data/inputBounds.ts), by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyInputBounds, fitInputBounds, robustBounds } from '../../src/data/inputBounds.js';
import type { DatasetSpec, Sample } from '../../src/data/schema.js';

test('robustBounds: [q1 − 3w, q99 + 3w] with w = q99 − q1, by hand', () => {
  // 0..100: q1 = 1, q99 = 99, w = 98
  assert.deepEqual(robustBounds(Array.from({ length: 101 }, (_, i) => i)), [1 - 294, 99 + 294]);
  // one wild training outlier does not widen the bounds much: 0..99 plus 1e9 → q99 = 99 + 0.01·(1e9 − 99)
  const b = robustBounds([...Array.from({ length: 100 }, (_, i) => i), 1e9])!;
  assert.ok(b[1] < 1e9, String(b));
  // a constant variable still has a non-empty window
  const c = robustBounds([5, 5, 5])!;
  assert.ok(c[0] < 5 && c[1] > 5);
  assert.equal(robustBounds([]), null);
});

const spec: DatasetSpec = {
  name: 't',
  modalities: [
    { name: 'vitals', kind: 'timeseries', variables: ['HR', 'Temp'] },
    { name: 'demo', kind: 'static', features: ['age'] },
  ],
  task: { kind: 'binary', name: 'y' },
  horizonHours: 48,
} as DatasetSpec;

function sample(id: string, hr: number, t: number, age: number): Sample {
  return {
    id,
    label: 0,
    modalities: {
      vitals: { kind: 'timeseries', times: Float64Array.from([t, t]), variables: Int32Array.from([0, 1]), values: Float64Array.from([hr, 37]) },
      demo: { kind: 'static', values: Float64Array.from([age]) },
    },
  };
}

test('fit on training samples; drop removes (and flag keeps) values and times far outside, counting each', () => {
  const train = Array.from({ length: 101 }, (_, i) => sample(`s${i}`, 60 + i * 0.5, (i * 48) / 100, 20 + i * 0.6));
  const b = fitInputBounds(spec, train);
  // HR 60..110: q1 = 60.5, q99 = 109.5, w = 49
  assert.deepEqual(b.variables['vitals/HR'], [60.5 - 147, 109.5 + 147]);
  assert.ok(b.time.vitals![1] < 500);
  const ok = applyInputBounds(spec, b, sample('ok', 80, 10, 50), 'drop');
  assert.equal(ok.mark, null);
  // the cases: a heart rate of 5e8, an observation at 1e12 h, an age of 1e6
  const wild = sample('w', 5e8, 1e12, 1e6);
  const dropped = applyInputBounds(spec, b, wild, 'drop');
  assert.deepEqual(dropped.mark, { count: 4, variables: { 'vitals/time': 2, 'vitals/HR': 1, 'demo/age': 1 } });
  assert.equal(dropped.sample.modalities.vitals, undefined, 'both observations (at 1e12 h) dropped: the modality is absent');
  assert.equal(dropped.sample.modalities.demo, undefined);
  const flagged = applyInputBounds(spec, b, wild, 'flag');
  assert.equal(flagged.mark!.count, 4);
  assert.equal(flagged.sample, wild, 'flag keeps the sample as it is');
  assert.equal(applyInputBounds(spec, b, wild, 'off').mark, null);
  // a model saved before the bounds (no inputBounds): nothing is flagged
  assert.equal(applyInputBounds(spec, undefined, wild, 'drop').mark, null);
});

test('drop removes only the rows outside, keeping times, variables and values aligned; the same bounds serve two specs', () => {
  const train = Array.from({ length: 101 }, (_, i) => sample(`s${i}`, 60 + i * 0.5, (i * 48) / 100, 20 + i * 0.6));
  const b = fitInputBounds(spec, train);
  const s: Sample = {
    id: 'p',
    label: 0,
    modalities: {
      // rows: (1 h, HR 80) kept, (2 h, Temp 37) kept, (3 h, HR 5e8) out, (1e12 h, Temp 37) out (time), (4 h, Temp 37) kept
      vitals: { kind: 'timeseries', times: Float64Array.from([1, 2, 3, 1e12, 4]), variables: Int32Array.from([0, 1, 0, 1, 1]), values: Float64Array.from([80, 37, 5e8, 37, 37]) },
    },
  };
  const r = applyInputBounds(spec, b, s, 'drop');
  assert.deepEqual(r.mark, { count: 2, variables: { 'vitals/HR': 1, 'vitals/time': 1 } });
  const v = r.sample.modalities.vitals as { times: Float64Array; variables: Int32Array; values: Float64Array };
  assert.deepEqual([...v.times], [1, 2, 4]);
  assert.deepEqual([...v.variables], [0, 1, 1]);
  assert.deepEqual([...v.values], [80, 37, 37]);
  assert.deepEqual([...(s.modalities.vitals as { values: Float64Array }).values], [80, 37, 5e8, 37, 37], 'the input sample is not changed');
  // the per-variable bounds are looked up by name: a spec listing the variables in another order gets the right ones
  const swapped = { ...spec, modalities: [{ name: 'vitals', kind: 'timeseries', variables: ['Temp', 'HR'] }, spec.modalities[1]!] } as DatasetSpec;
  const r2 = applyInputBounds(swapped, b, s, 'flag');
  // under `swapped`, index 0 is Temp (trained on 37 only: 37 ± 1e-4): 80 and 5e8 are outside; index 1 is HR ([−86.5, 256.5]): 37 is inside
  assert.deepEqual(r2.mark, { count: 3, variables: { 'vitals/Temp': 2, 'vitals/time': 1 } });
});

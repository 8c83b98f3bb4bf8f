import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { augmentSamples, augmentEnabled, type AugmentCounts } from '../../src/train/augment.js';
import type { Sample } from '../../src/data/schema.js';

function sample(id: string, n: number): Sample {
  const times = Float64Array.from({ length: n }, (_, i) => i / 2);
  return {
    id,
    label: 0,
    modalities: {
      static: { kind: 'static', values: Float64Array.from([1, NaN]) },
      vitals: { kind: 'timeseries', times, variables: Int32Array.from({ length: n }, (_, i) => i % 3), values: Float64Array.from({ length: n }, (_, i) => i) },
      notes: { kind: 'embedding', times: Float64Array.from([1, 2, 3]), vectors: [Float32Array.of(1), Float32Array.of(2), Float32Array.of(3)] },
    },
  };
}

test('observation dropout removes about p of the observations, keeps order and pairing, leaves the input untouched', () => {
  const samples = Array.from({ length: 50 }, (_, i) => sample(`s${i}`, 200));
  const counts: AugmentCounts = { observationsDropped: 0, modalitiesDropped: 0 };
  const out = augmentSamples(samples, { dropObservations: 0.3, dropModalities: 0 }, new Rng(4), counts);
  const total = 50 * (200 + 3);
  assert.ok(Math.abs(counts.observationsDropped / total - 0.3) < 0.02, `dropped share ${counts.observationsDropped / total}`);
  assert.equal(counts.modalitiesDropped, 0);
  let kept = 0;
  out.forEach((s, i) => assert.equal(s.modalities.static, samples[i]!.modalities.static, 'static data is shared, untouched'));
  for (const s of out) {
    const v = s.modalities.vitals!;
    assert.equal(v.kind, 'timeseries');
    if (v.kind !== 'timeseries') continue;
    kept += v.times.length;
    for (let i = 0; i < v.times.length; i++) {
      // value i was observed at time i/2 for variable i % 3: pairing survives
      assert.equal(v.times[i], v.values[i]! / 2);
      assert.equal(v.variables[i], v.values[i]! % 3);
      if (i > 0) assert.ok(v.times[i]! > v.times[i - 1]!);
    }
  }
  const notesKept = out.reduce((a, s) => a + (s.modalities.notes?.kind === 'embedding' ? s.modalities.notes.times.length : 0), 0);
  assert.equal(kept + notesKept + counts.observationsDropped, total);
  const v0 = samples[0]!.modalities.vitals;
  assert.equal(v0?.kind === 'timeseries' ? v0.times.length : -1, 200, 'input not modified');
});

test('modality dropout removes present modalities at rate p and never the last one', () => {
  const samples = Array.from({ length: 2000 }, (_, i) => sample(`s${i}`, 5));
  const counts: AugmentCounts = { observationsDropped: 0, modalitiesDropped: 0 };
  const out = augmentSamples(samples, { dropObservations: 0, dropModalities: 0.5 }, new Rng(1), counts);
  for (const s of out) assert.ok(Object.values(s.modalities).some((m) => m !== undefined), 'a modality survives');
  // three modalities visited in order at p = 0.5; the third may go only if one of the first two
  // survived (prob. 0.75): expected drops per sample = 0.5 + 0.5 + 0.75·0.5 = 1.375
  const perSample = counts.modalitiesDropped / samples.length;
  assert.ok(Math.abs(perSample - 1.375) < 0.05, `drops per sample ${perSample}`);
  assert.equal(counts.observationsDropped, 0);
});

test('same rng seed → same augmentation; zeros are off; bad probabilities are rejected with the config key', () => {
  const samples = [sample('a', 30), sample('b', 30)];
  const cfg = { dropObservations: 0.4, dropModalities: 0.2 };
  assert.deepEqual(augmentSamples(samples, cfg, new Rng(9)), augmentSamples(samples, cfg, new Rng(9)));
  assert.equal(augmentEnabled({ dropObservations: 0, dropModalities: 0 }), false);
  assert.equal(augmentEnabled(undefined), false);
  assert.equal(augmentEnabled(cfg), true);
  assert.throws(() => augmentSamples(samples, { dropObservations: 1, dropModalities: 0 }, new Rng(1)), /train\.augment\.dropObservations/);
});

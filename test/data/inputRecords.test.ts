/**
 * The shared input check (src/data/inputRecords.ts, issue 18 §5): a record or a caller's spec
 * that omits a modality of the model = that modality is missing (not a refusal), unless strict.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { Predictor } from '../../src/serve/predictor.js';
import { parseInputRecords } from '../../src/data/inputRecords.js';
import { FlexiModalError } from '../../src/errors.js';
import type { DatasetSpec } from '../../src/data/schema.js';

const fixture = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'model-v0.1-baseline');
let p: Predictor;
before(async () => {
  await initEngine({ backend: 'cpu' });
  p = await Predictor.load(fixture);
});

const withDemoOnly = { id: 'r1', modalities: { demo: { values: [61, 1, 27] } } };
const allNull = { id: 'r1', modalities: { demo: { values: [61, 1, 27] }, vitals: null, labs: null, notes: null } };

test('a record that omits modalities predicts as if they were missing (explicit null gives the same)', () => {
  const [a] = p.predict([withDemoOnly]);
  const [b] = p.predict([allNull]);
  assert.ok(Number.isFinite(a!.risk));
  assert.equal(a!.risk, b!.risk);
});

test('strict: a record that omits a modality is refused, naming it; null is accepted', () => {
  assert.throws(() => p.predict([withDemoOnly], { strict: true }), (e: unknown) => e instanceof FlexiModalError && /"vitals", "labs", "notes"/.test(e.message) && /sample #0/.test(e.message));
  assert.equal(p.predict([allNull], { strict: true })[0]!.risk, p.predict([withDemoOnly])[0]!.risk);
});

test("a caller's spec without some of the model's modalities: missing (was: 'the data do not match'), strict refuses", () => {
  const spec: DatasetSpec = { ...p.meta.spec, modalities: p.meta.spec.modalities.filter((m) => m.name === 'demo') };
  const [r] = p.predict([withDemoOnly], { spec });
  assert.equal(r!.risk, p.predict([withDemoOnly])[0]!.risk);
  assert.throws(() => p.predict([withDemoOnly], { spec, strict: true }), /missing in the data: modality vitals/);
  // the same shared function, used directly
  const [s] = parseInputRecords(p.meta.spec, [withDemoOnly], { spec });
  assert.deepEqual(Object.keys(s!.modalities).filter((k) => s!.modalities[k]), ['demo']);
});

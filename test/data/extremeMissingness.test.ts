import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { extremeMissingness } from '../../src/data/extremeMissingness.js';
import { groupCounts, modalityCoverage } from '../../src/data/groups.js';
import { hasModality } from '../../src/data/schema.js';

const names = ['demo', 'vitals', 'labs', 'notes'];

test('extreme protocol: starts from the complete samples and removes the modality from exactly 80 % of them', () => {
  const d = generateSynthetic({ n: 300, seed: 9, missingness: { demo: 0, vitals: 0.2, labs: 0.1, notes: 0.3 } });
  const complete = d.samples.filter((s) => names.every((n) => hasModality(s, n))).length;
  assert.ok(complete > 50 && complete < 300, `complete ${complete}`);
  const r = extremeMissingness(d, { modality: 'labs', fraction: 0.8, seed: 3, incomplete: 'drop' });
  assert.equal(r.complete, complete);
  assert.equal(r.incompleteRemoved, 300 - complete);
  assert.equal(r.dataset.samples.length, complete);
  assert.equal(r.dropped['labs'], Math.round(0.8 * complete));
  const cov = modalityCoverage(r.dataset);
  assert.equal(cov['labs'], complete - Math.round(0.8 * complete));
  for (const n of ['demo', 'vitals', 'notes']) assert.equal(cov[n], complete, `${n} untouched`);
  // exactly two groups: everything, and everything but labs
  assert.deepEqual(groupCounts(r.dataset).map((g) => [g.name, g.count]), [
    ['demo+vitals+notes', Math.round(0.8 * complete)],
    ['demo+vitals+labs+notes', complete - Math.round(0.8 * complete)],
  ]);
  assert.equal(r.dataset.report.counts['samples removed by extreme protocol (not every modality present)'], 300 - complete);
  // seeded: same seed → same samples; another seed → another choice of the same size
  const ids = (x: typeof r) => x.dataset.samples.filter((s) => !hasModality(s, 'labs')).map((s) => s.id);
  assert.deepEqual(ids(extremeMissingness(d, { modality: 'labs', fraction: 0.8, seed: 3, incomplete: 'drop' })), ids(r));
  const other = ids(extremeMissingness(d, { modality: 'labs', fraction: 0.8, seed: 4, incomplete: 'drop' }));
  assert.equal(other.length, ids(r).length);
  assert.notDeepEqual(other, ids(r));
  // the input is not modified
  assert.equal(d.samples.filter((s) => hasModality(s, 'labs')).length, modalityCoverage(d)['labs']);
});

test("extreme protocol with incomplete: 'keep' leaves the incomplete samples as they are", () => {
  const d = generateSynthetic({ n: 200, seed: 5, missingness: { demo: 0, vitals: 0.3, labs: 0, notes: 0 } });
  const complete = d.samples.filter((s) => names.every((n) => hasModality(s, n)));
  const r = extremeMissingness(d, { modality: 'labs', fraction: 0.8, seed: 1, incomplete: 'keep' });
  assert.equal(r.dataset.samples.length, 200);
  assert.equal(r.incompleteRemoved, 0);
  assert.equal(r.dropped['labs'], Math.round(0.8 * complete.length));
  const incompleteIds = new Set(d.samples.filter((s) => !names.every((n) => hasModality(s, n))).map((s) => s.id));
  for (const s of r.dataset.samples) if (incompleteIds.has(s.id)) assert.ok(hasModality(s, 'labs'), 'incomplete samples keep labs');
  assert.throws(() => extremeMissingness(d, { modality: 'xray', fraction: 0.8, seed: 1, incomplete: 'drop' }), /missingness\.modality/);
});

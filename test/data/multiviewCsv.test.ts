import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadDataset } from '../../src/data/load.js';
import { dropModalitiesAtRandom } from '../../src/data/missingness.js';
import { groupCounts } from '../../src/data/groups.js';
import { hasModality } from '../../src/data/schema.js';
import { FlexiModalError } from '../../src/errors.js';
import { sharedData, skipUnless, tmpDir, writeFiles } from './fixtures.js';

function fixture(files: Record<string, string> = {}): string {
  const dir = tmpDir('fmmv-');
  writeFiles(dir, {
    'a.csv': 'a0,a1\n1,2\n3,\n,\n5,6\n',
    'b.csv': 'b0\n0.5\n1.5\nNA\n2e1\n',
    'labels.csv': 'index,cls\n0,cat\n1,dog\n2,cat\n3,bird\n',
    ...files,
  });
  return dir;
}

const source = { type: 'multiview-csv', views: { a: 'a.csv', b: 'b.csv' }, labels: 'labels.csv' };

test('multiview-csv: views become static modalities, empty rows absent views, counted', async () => {
  const ds = await loadDataset(source, fixture());
  assert.deepEqual(
    ds.spec.modalities.map((m) => [m.name, m.kind, m.kind === 'static' ? m.features : []]),
    [
      ['a', 'static', ['a0', 'a1']],
      ['b', 'static', ['b0']],
    ],
  );
  assert.deepEqual(ds.spec.task, { kind: 'multiclass', name: 'cls', classes: ['bird', 'cat', 'dog'] });
  assert.deepEqual(ds.samples.map((s) => s.label), [1, 2, 1, 0]);
  assert.deepEqual(ds.samples.map((s) => s.id), ['0', '1', '2', '3']);
  const s1 = ds.samples[1]!.modalities.a!;
  assert.equal(s1.kind, 'static');
  assert.equal((s1 as { values: Float64Array }).values[0], 3);
  assert.ok(Number.isNaN((s1 as { values: Float64Array }).values[1]!));
  assert.equal(hasModality(ds.samples[2]!, 'a'), false);
  assert.equal(hasModality(ds.samples[2]!, 'b'), false);
  assert.equal((ds.samples[3]!.modalities.b as { values: Float64Array }).values[0], 20);
  assert.equal(ds.report.counts['view row empty (modality absent)'], 2);
  assert.deepEqual(ds.report.byVariable['view row empty (modality absent)'], { a: 1, b: 1 });
  assert.equal(ds.report.counts['missing feature value'], 1);
  assert.equal(ds.report.counts['sample with no view at all'], 1);
  assert.deepEqual(Object.keys(ds.hashes!).sort(), ['a.csv', 'b.csv', 'labels.csv']);
});

test('multiview-csv: label/id columns, explicit classes, numeric class order', async () => {
  const dir = fixture({ 'labels.csv': 'id,y,other\np,10,x\nq,2,x\nr,2,x\ns,10,x\n' });
  const ds = await loadDataset({ ...source, labelColumn: 'y', idColumn: 'id' }, dir);
  assert.deepEqual(ds.samples.map((s) => s.id), ['p', 'q', 'r', 's']);
  assert.deepEqual((ds.spec.task as { classes: string[] }).classes, ['2', '10']);
  assert.deepEqual(ds.samples.map((s) => s.label), [1, 0, 0, 1]);
  const ex = await loadDataset({ ...source, labelColumn: 'y', classes: ['10', '2', '7'] }, dir);
  assert.deepEqual(ex.samples.map((s) => s.label), [0, 1, 1, 0]);
});

test('multiview-csv: bad input names file:line and how to fix', async () => {
  const cases: [Record<string, string>, Record<string, unknown>, RegExp][] = [
    [{ 'b.csv': 'b0\n1\n2\n' }, {}, /b\.csv: view "b" has 2 data rows but labels\.csv has 4/],
    [{ 'a.csv': 'a0,a1\n1,2\n3\n,\n5,6\n' }, {}, /a\.csv:3: expected 2 fields/],
    [{ 'a.csv': 'a0,a1\n1,2\n3,x\n,\n5,6\n' }, {}, /a\.csv:3: non-numeric value "x" in column a1/],
    [{ 'a.csv': 'a0,a1\n1,2\n3,1e999\n,\n5,6\n' }, {}, /a\.csv:3: non-finite value/],
    [{ 'a.csv': 'a0,a0\n1,2\n3,4\n,\n5,6\n' }, {}, /a\.csv:1: duplicate column "a0"/],
    [{ 'labels.csv': 'index,cls\n0,cat\n1,\n2,cat\n3,bird\n' }, {}, /labels\.csv:3: empty label/],
    [{ 'labels.csv': 'id,cls\n0,cat\n0,dog\n2,cat\n3,bird\n' }, { idColumn: 'id' }, /labels\.csv:3: duplicate id "0"/],
    [{}, { labelColumn: 'nope' }, /labels\.csv:1: column "nope" not in the header.*data\.labelColumn/],
    [{}, { classes: ['cat', 'dog'] }, /labels\.csv:5: label "bird" is not one of the classes/],
    [{}, { views: {} }, /no views given/],
    [{}, { task: 'binary' }, /binary label must be 0 or 1/],
  ];
  for (const [files, extra, re] of cases) {
    await assert.rejects(loadDataset({ ...source, ...extra }, fixture(files)), (e: unknown) => e instanceof FlexiModalError && re.test(e.message), String(re));
  }
});

test('random-drop with per-modality probabilities: rates follow the profile, others untouched', async () => {
  const n = 3000;
  const rows = Array.from({ length: n }, (_, i) => `${i}`).join('\n');
  const dir = tmpDir('fmmv-');
  writeFiles(dir, { 'a.csv': `a\n${rows}\n`, 'b.csv': `b\n${rows}\n`, 'c.csv': `c\n${rows}\n`, 'l.csv': `y\n${Array.from({ length: n }, (_, i) => i % 2).join('\n')}\n` });
  const ds = await loadDataset({ type: 'multiview-csv', views: { a: 'a.csv', b: 'b.csv', c: 'c.csv' }, labels: 'l.csv' }, dir);
  const r = dropModalitiesAtRandom(ds, { p: { a: 0.1, b: 0.5 }, seed: 3 });
  assert.ok(Math.abs(r.dropped.a! / n - 0.1) < 0.02, `a ${r.dropped.a}`);
  assert.ok(Math.abs(r.dropped.b! / n - 0.5) < 0.03, `b ${r.dropped.b}`);
  assert.equal(r.dropped.c, undefined);
  const again = dropModalitiesAtRandom(ds, { p: { a: 0.1, b: 0.5 }, seed: 3 });
  assert.deepEqual(again.dropped, r.dropped, 'seeded');
  assert.throws(() => dropModalitiesAtRandom(ds, { p: { zz: 0.1 }, seed: 1 }), /unknown modality "zz"/);
  assert.throws(() => dropModalitiesAtRandom(ds, { p: { a: 1.5 }, seed: 1 }), /p must be in \[0, 1\]/);
});

test('UCI mfeat through multiview-csv (real data)', async (t) => {
  const dir = join(sharedData, 'uci-mfeat');
  const skip = skipUnless(dir);
  if (skip) return t.skip(skip);
  const views = Object.fromEntries(['fac', 'fou', 'kar', 'mor', 'pix', 'zer'].map((v) => [v, `mfeat-${v}.csv`]));
  const ds = await loadDataset({ type: 'multiview-csv', views, labels: 'labels.csv', labelColumn: 'digit', idColumn: 'index' }, dir);
  assert.equal(ds.samples.length, 2000);
  assert.deepEqual(
    ds.spec.modalities.map((m) => (m.kind === 'static' ? m.features.length : 0)),
    [216, 76, 64, 6, 240, 47],
  );
  assert.deepEqual((ds.spec.task as { classes: string[] }).classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.equal(ds.samples[0]!.label, 0);
  assert.equal(ds.samples[1999]!.label, 9);
  assert.equal(groupCounts(ds).length, 1, 'complete data: one combination');
  assert.deepEqual(ds.report.counts, {});
});

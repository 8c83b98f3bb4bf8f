import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { readJsonl, streamJsonl, writeJsonl } from '../../src/data/sources/jsonl.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import type { DatasetSpec, Sample, TimeSeriesData } from '../../src/data/schema.js';
import { assertDataError, tmpDir } from './fixtures.js';

const spec: DatasetSpec = {
  name: 'toy',
  modalities: [
    { name: 'vitals', kind: 'timeseries', variables: ['HR', 'Temp'] },
    { name: 'notes', kind: 'embedding', dim: 2 },
    { name: 'demo', kind: 'static', features: ['age', 'bmi'] },
  ],
  task: { kind: 'binary', name: 'death' },
  horizonHours: 48,
};
const header = JSON.stringify({ fleximodal: 1, spec });
const good = '{"id":"a","label":1,"modalities":{"vitals":{"times":[0.5,0.5,1],"variables":["HR",1,"HR"],"values":[80,37,90]},"notes":{"times":[2],"vectors":[[0.1,0.2]]},"demo":{"values":[63,null]}}}';

function write(lines: string[]): string {
  const p = join(tmpDir(), 'data.jsonl');
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

const strip = (ss: Sample[]) => ss.map(({ source: _s, ...rest }) => rest);

test('JSONL round trip: synthetic → write → read → identical samples and spec', async () => {
  for (const task of ['binary', 'multiclass', 'multilabel'] as const) {
    const d = generateSynthetic({ n: 40, seed: 3, task });
    const p = join(tmpDir(), 'syn.jsonl');
    await writeJsonl(d, p);
    const back = await readJsonl(p);
    assert.deepEqual(back.spec, d.spec);
    assert.deepEqual(strip(back.samples), strip(d.samples));
    assert.equal(back.samples[0]!.source, 'syn.jsonl:2');
    assert.match(back.hashes![p]!, /^[0-9a-f]{64}$/);
  }
});

test('JSONL reads names or indices, null static entries, and merges duplicates', async () => {
  const p = write([header, good, '{"id":"b","label":0,"modalities":{"vitals":{"times":[1,1],"variables":["HR","HR"],"values":[70,80]}}}']);
  const d = await readJsonl(p);
  const a = d.samples[0]!;
  const v = a.modalities['vitals'] as TimeSeriesData;
  assert.deepEqual(Array.from(v.times), [0.5, 0.5, 1]);
  assert.deepEqual(Array.from(v.variables), [0, 1, 0]);
  assert.deepEqual(Array.from(v.values), [80, 37, 90]);
  const st = a.modalities['demo'];
  assert.ok(st?.kind === 'static' && st.values[0] === 63 && Number.isNaN(st.values[1]!));
  const b = d.samples[1]!.modalities['vitals'] as TimeSeriesData;
  assert.deepEqual(Array.from(b.values), [75]);
  assert.equal(d.report.counts['duplicate (time, variable) merged'], 1);
  assert.equal(d.samples[1]!.modalities['notes'], undefined);
});

test('JSONL streamJsonl with a spec file and no header; optional labels for prediction', async () => {
  const dir = tmpDir();
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  writeFileSync(join(dir, 'x.jsonl'), '{"id":"a","modalities":{"demo":{"values":[1,2]}}}\n');
  const got: Sample[] = [];
  for await (const s of streamJsonl(join(dir, 'x.jsonl'), { specPath: join(dir, 'spec.json'), requireLabels: false })) got.push(s);
  assert.equal(got.length, 1);
  assert.ok(Number.isNaN(got[0]!.label as number));
  await assertDataError(() => readJsonl(join(dir, 'x.jsonl'), { specPath: join(dir, 'spec.json') }), 'x.jsonl:1', 'label', 'missing');
});

test('JSONL error: NaN / Infinity name file:line and the JSON path', async () => {
  await assertDataError(() => readJsonl(write([header, good, good.replace('"id":"a"', '"id":"c"').replace('[80,37,90]', '[80,37,NaN]')])), 'data.jsonl:3', 'modalities.vitals.values[2] is NaN');
  await assertDataError(() => readJsonl(write([header, good.replace('[0.1,0.2]', '[0.1,-Infinity]')])), 'data.jsonl:2', 'modalities.notes.vectors[0][1] is -Infinity');
  await assertDataError(() => readJsonl(write([header, good.replace('[80,37,90]', '[80,37,1e999]')])), 'data.jsonl:2', 'modalities.vitals.values[2] is Infinity', 'not a finite number');
});

test('JSONL error: non-numeric value, truncated line, unknown variable, missing header, duplicate id', async () => {
  await assertDataError(() => readJsonl(write([header, good.replace('[80,37,90]', '[80,"37",90]')])), 'data.jsonl:2', 'modalities.vitals.values[1]', 'not a number');
  await assertDataError(() => readJsonl(write([header, good.slice(0, 40)])), 'data.jsonl:2', 'invalid JSON');
  await assertDataError(() => readJsonl(write([header, good.replace('"HR",1', '"hr",1')])), 'data.jsonl:2', 'modalities.vitals.variables[0]', 'unknown variable "hr"');
  await assertDataError(() => readJsonl(write([good])), 'data.jsonl:1', 'missing header');
  await assertDataError(() => readJsonl(write([header, good, good])), 'data.jsonl:3', 'duplicate id "a"', 'line 2');
  await assertDataError(() => readJsonl(write([header, good.replace('"vitals":{', '"labs":{"times":[]},"vitals":{')])), 'data.jsonl:2', 'modalities.labs', 'unknown modality');
  await assertDataError(() => readJsonl(write([header, good.replace('[63,null]', '[63]')])), 'data.jsonl:2', 'modalities.demo.values', 'length 1');
  await assertDataError(() => readJsonl(write([header, good.replace('"label":1', '"label":2')])), 'data.jsonl:2', 'label', '0 or 1');
  await assertDataError(() => readJsonl(write([JSON.stringify({ fleximodal: 1, spec: { ...spec, horizonHours: -1 } })])), 'data.jsonl:1', 'spec.horizonHours');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { createGzip, gzipSync } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { readPhysioNet2012, P12_REASONS } from '../../src/data/sources/physionet2012.js';
import { groupCounts } from '../../src/data/groups.js';
import type { TimeSeriesData, StaticData } from '../../src/data/schema.js';
import { assertDataError, p12Outcomes, p12Record, sharedData, skipUnless, tmpDir, writeFiles } from './fixtures.js';

const P12 = join(sharedData, 'physionet2012');

/** Value of `variable` at `hours` in a sample's time-series modality, or undefined. */
function valueAt(ts: TimeSeriesData | undefined, vars: string[], variable: string, hours: number): number | undefined {
  if (!ts) return undefined;
  const v = vars.indexOf(variable);
  for (let i = 0; i < ts.times.length; i++) {
    if (Math.abs(ts.times[i]! - hours) < 1e-9 && ts.variables[i] === v) return ts.values[i];
  }
  return undefined;
}

async function writeTar(path: string, entries: { name: string; text: string }[]): Promise<void> {
  const pack = tarStream.pack();
  for (const e of entries) pack.entry({ name: e.name }, e.text);
  pack.finalize();
  await pipeline(pack, createGzip(), createWriteStream(path));
}

test('P12 sample dir: counts, a known value, duplicates merged, out-of-range counted', { skip: skipUnless(P12) }, async () => {
  const ds = await readPhysioNet2012({
    records: join(P12, 'sample/set-a'),
    outcomes: join(P12, 'sample/Outcomes-sample.txt'),
  });
  assert.equal(ds.samples.length, 51);
  assert.equal(ds.samples.filter((s) => s.label === 1).length, 25);
  assert.deepEqual(ds.spec.modalities.map((m) => m.name), ['static', 'vitals', 'labs']);
  const vit = ds.spec.modalities[1]!;
  assert.ok(vit.kind === 'timeseries');
  // 132539.txt line 9: 00:07,HR,73
  const s0 = ds.samples.find((s) => s.id === '132539')!;
  assert.equal(valueAt(s0.modalities['vitals'] as TimeSeriesData, vit.variables, 'HR', 7 / 60), 73);
  // static: Age 54, Gender 0, Height -1 → NaN, ICUType 4 → one-hot, Weight -1 → NaN
  const st = (s0.modalities['static'] as StaticData).values;
  assert.deepEqual(Array.from(st.slice(0, 2)), [54, 0]);
  assert.ok(Number.isNaN(st[2]!));
  assert.deepEqual(Array.from(st.slice(3, 7)), [0, 0, 0, 1]);
  assert.ok(Number.isNaN(st[7]!));
  // 132539 has two rows "27:37,Urine" (400 and 0) → averaged to 200
  assert.equal(valueAt(s0.modalities['vitals'] as TimeSeriesData, vit.variables, 'Urine', 27 + 37 / 60), 200);
  assert.ok((ds.report.byVariable[P12_REASONS.outOfRange]?.['HR'] ?? 0) >= 1);
  assert.ok((ds.report.counts['duplicate (time, variable) merged'] ?? 0) >= 1);
  // 132960.txt line 643: 47:35,HR,0 is out of range → dropped
  const s1 = ds.samples.find((s) => s.id === '132960')!;
  assert.equal(valueAt(s1.modalities['vitals'] as TimeSeriesData, vit.variables, 'HR', 47 + 35 / 60), undefined);
  // 132704 lines 490-491: 39:27 Temp 3.2 and 37.8 → 3.2 dropped first, so not averaged in
  const s2 = ds.samples.find((s) => s.id === '132704')!;
  assert.equal(valueAt(s2.modalities['vitals'] as TimeSeriesData, vit.variables, 'Temp', 39 + 27 / 60), 37.8);
  // record without time series kept with static only
  const e = ds.samples.find((s) => s.id === '140501')!;
  assert.equal(e.modalities['vitals'], undefined);
  assert.equal(e.modalities['labs'], undefined);
  assert.ok(e.modalities['static']);
  assert.equal(ds.report.counts[P12_REASONS.noTimeSeries], 1);
  assert.ok(ds.report.notes.some((n) => n.includes('140501')));
  // hashes: outcomes file hash as in the README
  assert.equal(
    ds.hashes?.[join(P12, 'sample/Outcomes-sample.txt')],
    '679725184d27ba98f4c6b2f79c369ab0ec7cca9d68f55fd4734525438817d41f',
  );
  // every row of the sample is accounted for: kept + dropped + merged = rows in the files
  let rows = 0;
  for (const s of ds.samples) rows += readFileSync(join(P12, 'sample/set-a', `${s.id}.txt`), 'latin1').trim().split('\n').length - 7;
  let kept = 0;
  for (const s of ds.samples) for (const m of ['vitals', 'labs']) kept += (s.modalities[m] as TimeSeriesData | undefined)?.values.length ?? 0;
  const c = ds.report.counts;
  assert.equal(kept + (c[P12_REASONS.outOfRange] ?? 0) - (ds.report.byVariable[P12_REASONS.outOfRange]?.['descriptor Height'] ?? 0) - (ds.report.byVariable[P12_REASONS.outOfRange]?.['descriptor Weight'] ?? 0) + (c['duplicate (time, variable) merged'] ?? 0), rows);
});

test('P12 seven-groups grouping yields 7 time-series modalities', { skip: skipUnless(P12) }, async () => {
  const ds = await readPhysioNet2012({
    records: join(P12, 'sample/set-a'),
    outcomes: join(P12, 'sample/Outcomes-sample.txt'),
    grouping: 'seven-groups',
  });
  assert.equal(ds.spec.modalities.length, 8);
  assert.ok(groupCounts(ds).length > 1);
});

test('P12 set-a.tar.gz: 4000 records, 554 deaths, 3 without time series, fast', { skip: skipUnless(join(P12, 'set-a.tar.gz')) }, async () => {
  // CPU time, not wall time: the bound must hold on a loaded machine too
  const cpu0 = process.cpuUsage();
  const ds = await readPhysioNet2012({ records: join(P12, 'set-a.tar.gz'), outcomes: join(P12, 'Outcomes-a.txt') });
  const used = process.cpuUsage(cpu0);
  const ms = (used.user + used.system) / 1000;
  assert.equal(ds.samples.length, 4000);
  assert.equal(ds.samples.filter((s) => s.label === 1).length, 554);
  assert.equal(ds.report.counts[P12_REASONS.noTimeSeries], 3);
  assert.equal(ds.report.byVariable[P12_REASONS.descriptorMissing]?.['Height'], 1894);
  assert.equal(
    ds.hashes?.[join(P12, 'set-a.tar.gz')],
    '6d873f735f75e942b4556fa54a06606f35ea596af41ae739eb8141f54a20be7e',
  );
  assert.ok(ms < 10000, `took ${ms.toFixed(0)} ms of CPU time`);
});

test('P12 user grouping: unlisted variables are dropped and counted', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'r/1.txt': p12Record(1), 'o.txt': p12Outcomes([[1, 0]]) });
  const ds = await readPhysioNet2012({ records: join(dir, 'r'), outcomes: join(dir, 'o.txt'), grouping: { hr: ['HR'] } });
  assert.equal(ds.report.counts[P12_REASONS.notInGrouping], 2);
  assert.deepEqual(ds.report.byVariable[P12_REASONS.notInGrouping], { Temp: 1, BUN: 1 });
  await assertDataError(
    () => readPhysioNet2012({ records: join(dir, 'r'), outcomes: join(dir, 'o.txt'), grouping: { a: ['HR'], b: ['HR'] } }),
    'HR', 'two groups',
  );
});

test('P12 FiO2 in percent is converted and counted', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'r/1.txt': p12Record(1, ['01:00,FiO2,50', '02:00,FiO2,0.4']), 'o.txt': p12Outcomes([[1, 1]]) });
  const ds = await readPhysioNet2012({ records: join(dir, 'r'), outcomes: join(dir, 'o.txt') });
  const ts = ds.samples[0]!.modalities['vitals'] as TimeSeriesData;
  assert.deepEqual(Array.from(ts.values), [0.5, 0.4]);
  assert.equal(ds.report.counts[P12_REASONS.fio2Percent], 1);
});

test('P12 error: truncated line → file:line', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'r/1.txt': p12Record(1, ['00:07,HR,73', '00:08,HR']), 'o.txt': p12Outcomes([[1, 0]]) });
  await assertDataError(() => readPhysioNet2012({ records: join(dir, 'r'), outcomes: join(dir, 'o.txt') }), '1.txt:9', 'truncated line');
});

test('P12 error: non-numeric value → file:line', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'r/1.txt': p12Record(1, ['00:07,HR,seventy']), 'o.txt': p12Outcomes([[1, 0]]) });
  await assertDataError(() => readPhysioNet2012({ records: join(dir, 'r'), outcomes: join(dir, 'o.txt') }), '1.txt:8', 'non-numeric value "seventy"');
});

test('P12 error: bad time → file:line', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'r/1.txt': p12Record(1, ['7:75,HR,70']), 'o.txt': p12Outcomes([[1, 0]]) });
  await assertDataError(() => readPhysioNet2012({ records: join(dir, 'r'), outcomes: join(dir, 'o.txt') }), '1.txt:8', 'bad time');
});

test('P12 error: unknown variable name → file:line', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'r/1.txt': p12Record(1, ['00:07,HR,73', '00:07,hr,73']), 'o.txt': p12Outcomes([[1, 0]]) });
  await assertDataError(() => readPhysioNet2012({ records: join(dir, 'r'), outcomes: join(dir, 'o.txt') }), '1.txt:9', 'unknown variable "hr"');
});

test('P12 error: missing header → file:1', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'r/1.txt': p12Record(1).split('\n').slice(1).join('\n'), 'o.txt': p12Outcomes([[1, 0]]) });
  await assertDataError(() => readPhysioNet2012({ records: join(dir, 'r'), outcomes: join(dir, 'o.txt') }), '1.txt:1', 'missing header');
});

test('P12 error: duplicate RecordID across directories names both', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'a/1.txt': p12Record(1), 'b/1.txt': p12Record(1), 'o.txt': p12Outcomes([[1, 0]]) });
  await assertDataError(
    () => readPhysioNet2012({ records: [join(dir, 'a'), join(dir, 'b')], outcomes: join(dir, 'o.txt') }),
    'duplicate RecordID 1', join('a', '1.txt'), join('b', '1.txt'),
  );
});

test('P12 tar.gz: read, and duplicate RecordID inside one tar names both entries', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'o.txt': p12Outcomes([[1, 0], [2, 1], [3, 0]]) });
  await writeTar(join(dir, 'ok.tar.gz'), [
    { name: 'set-x/1.txt', text: p12Record(1) },
    { name: 'set-x/2.txt', text: p12Record(2) },
  ]);
  const ds = await readPhysioNet2012({ records: join(dir, 'ok.tar.gz'), outcomes: join(dir, 'o.txt') });
  assert.deepEqual(ds.samples.map((s) => [s.id, s.label]), [['1', 0], ['2', 1]]);
  assert.equal(ds.report.counts[P12_REASONS.outcomeWithoutRecord], 1);
  await writeTar(join(dir, 'dup.tar.gz'), [
    { name: 'set-x/1.txt', text: p12Record(1) },
    { name: 'copy/1.txt', text: p12Record(1) },
  ]);
  await assertDataError(
    () => readPhysioNet2012({ records: join(dir, 'dup.tar.gz'), outcomes: join(dir, 'o.txt') }),
    'duplicate RecordID 1', 'dup.tar.gz:set-x/1.txt', 'dup.tar.gz:copy/1.txt',
  );
  // truncated archive
  const bytes = readFileSync(join(dir, 'ok.tar.gz'));
  writeFileSync(join(dir, 'cut.tar.gz'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assertDataError(() => readPhysioNet2012({ records: join(dir, 'cut.tar.gz'), outcomes: join(dir, 'o.txt') }), 'cut.tar.gz', 'cannot read archive');
  writeFileSync(join(dir, 'notgz.tar.gz'), gzipSync(Buffer.from('')).subarray(0, 5));
  await assertDataError(() => readPhysioNet2012({ records: join(dir, 'notgz.tar.gz'), outcomes: join(dir, 'o.txt') }), 'notgz.tar.gz');
});

test('P12 error: record without an outcome row names file and record', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'r/1.txt': p12Record(1), 'r/2.txt': p12Record(2), 'o.txt': p12Outcomes([[1, 0]]) });
  await assertDataError(() => readPhysioNet2012({ records: join(dir, 'r'), outcomes: join(dir, 'o.txt') }), 'record 2', 'o.txt', '2.txt');
});

test('P12 error: outcomes file malformed', async () => {
  const dir = tmpDir();
  writeFiles(dir, {
    'r/1.txt': p12Record(1),
    'o.txt': 'RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death\n1,10,2,5\n',
    'o2.txt': '1,10,2,5,-1,0\n',
  });
  await assertDataError(() => readPhysioNet2012({ records: join(dir, 'r'), outcomes: join(dir, 'o.txt') }), 'o.txt:2', 'truncated line');
  await assertDataError(() => readPhysioNet2012({ records: join(dir, 'r'), outcomes: join(dir, 'o2.txt') }), 'o2.txt:1', 'missing header');
});

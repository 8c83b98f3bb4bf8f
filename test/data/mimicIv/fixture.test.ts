/**
 * The mimic-iv source on the hand-written fixture (fixture.ts): cohort exclusions, labels, the
 * vitals path (chartevents), labs, ICD mappings, prior codes, embeddings, the cache and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../../src/data/load.js';
import { readMimicIv } from '../../../src/data/sources/mimicIv/reader.js';
import { mimicIvSourceSchema } from '../../../src/data/sources/mimicIv/options.js';
import { PHENOTYPES } from '../../../src/data/sources/mimicIv/phenotypes.js';
import type { Dataset, TimeSeriesData, EmbeddingData, StaticData } from '../../../src/data/schema.js';
import { assertDataError, tmpDir } from '../fixtures.js';
import { writeMimicFixture } from './fixture.js';

const quiet = () => {};

async function read(dir: string, extra: Record<string, unknown> = {}, log: (l: string) => void = quiet): Promise<Dataset> {
  const src = mimicIvSourceSchema.parse({ type: 'mimic-iv', dir, task: 'ihm', modalities: ['vitals', 'labs'], cache: false, progress: false, ...extra });
  return readMimicIv(src, { log });
}

const ts = (ds: Dataset, id: string, m: string) => ds.samples.find((s) => s.id === id)!.modalities[m] as TimeSeriesData | undefined;
const named = (ds: Dataset, m: string, d: TimeSeriesData) => {
  const spec = ds.spec.modalities.find((x) => x.name === m)!;
  return Array.from(d.times, (t, i) => [t, spec.kind === 'timeseries' ? spec.variables[d.variables[i]!] : '', d.values[i]]);
};

test('fixture: cohort exclusions counted per step; IHM and LOS labels by hand', async () => {
  const dir = writeMimicFixture();
  const ihm = await read(dir);
  assert.deepEqual(ihm.samples.map((s) => [s.id, s.subject, s.label]), [
    ['100', '1', 0],
    ['300', '3', 1],
  ]);
  assert.equal(ihm.report.samplesRead, 4);
  assert.equal(ihm.report.counts['cohort: patient younger than 18 (anchor_age)'], 1);
  assert.equal(ihm.report.counts['cohort: ICU stay shorter than 48 h'], 1);
  const note = ihm.report.notes.find((n) => n.startsWith('cohort: 4 ICU stays'))!;
  for (const step of ['ICU stay without valid intime/outtime: 0', 'ICU stay without its admission row: 0', 'ICU stay without its patient row (or anchor_age): 0', 'patient younger than 18 (anchor_age): 1', 'ICU stay shorter than 48 h: 1', '2 kept']) {
    assert.ok(note.includes(step), `${note} lists "${step}"`);
  }
  const los = await read(dir, { task: 'los' });
  // stay 100: out after 72 h ≤ 48 + 48, alive → 1; stay 300: out at 96 h but died at outtime → 0
  assert.deepEqual(los.samples.map((s) => s.label), [1, 0]);
  assert.equal(los.spec.horizonHours, 48);
  // a shorter LOS horizon: 72 h > 48 + 12 → 0
  assert.deepEqual((await read(dir, { task: 'los', losHorizonHours: 12 })).samples.map((s) => s.label), [0, 0]);
});

test('fixture: vitals from chartevents — units harmonised, ranges, duplicates and drops counted', async () => {
  const ds = await read(writeMimicFixture());
  const v = ts(ds, '100', 'vitals')!;
  const rows = named(ds, 'vitals', v);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0], [1, 'HR', 85]); // 80 and 90 at 1 h averaged
  assert.equal(rows[1]![0], 2);
  assert.equal(rows[1]![1], 'Temp');
  assert.ok(Math.abs((rows[1]![2] as number) - 37) < 1e-9, '98.6 °F = 37 °C');
  assert.deepEqual(rows[2], [5, 'GCS_motor', 6]);
  assert.deepEqual(named(ds, 'vitals', ts(ds, '300', 'vitals')!), [[0.5, 'HR', 110]]);
  const c = ds.report.counts;
  assert.equal(c['vitals: out of plausible range'], 1);
  assert.deepEqual(ds.report.byVariable['vitals: out of plausible range'], { SBP: 1 });
  assert.deepEqual(ds.report.byVariable['vitals: unit not harmonised'], { SpO2: 1 });
  assert.deepEqual(ds.report.byVariable['vitals: no numeric value'], { HR: 1 });
  assert.deepEqual(ds.report.byVariable['duplicate (time, variable) merged'], { HR: 1 });
  // labs: joined by subject and time; the lab before ICU admission is outside the window
  assert.deepEqual(named(ds, 'labs', ts(ds, '100', 'labs')!), [
    [2, 'Potassium', 4],
    [2, 'MCHC', 33],
  ]);
  assert.deepEqual(named(ds, 'labs', ts(ds, '300', 'labs')!), [[1, 'Sodium', 140]]);
  // a range override drops the 85 bpm average's inputs? No: it applies per row (80 and 90 vs [85, 300])
  const narrowed = await read(writeMimicFixture(), { ranges: { HR: [85, 300] } });
  assert.deepEqual(named(narrowed, 'vitals', ts(narrowed, '100', 'vitals')!)[0], [1, 'HR', 90]);
  assert.equal(narrowed.report.byVariable['vitals: out of plausible range']!['HR'], 1);
});

test('fixture: 25-PHE without a GEM excludes ICD-10 admissions; a GEM maps them; a $DXREF file gives exact CCS', async () => {
  const dir = writeMimicFixture();
  const idx = (name: string) => PHENOTYPES.findIndex((p) => p.name.startsWith(name));
  const positives = (y: number | number[]) => (y as number[]).flatMap((x, j) => (x ? [PHENOTYPES[j]!.name] : []));
  const plain = await read(dir, { task: 'phe' });
  assert.deepEqual(plain.samples.map((s) => s.id), ['100']);
  assert.deepEqual(positives(plain.samples[0]!.label), [PHENOTYPES[idx('Congestive heart failure')]!.name, PHENOTYPES[idx('Essential hypertension')]!.name]);
  assert.equal(plain.report.counts['label: admission coded in ICD-10 and no data.icd10Gem'], 1);
  assert.equal(plain.spec.task.kind, 'multilabel');

  const gem = join(tmpDir(), '2018_I10gem.txt');
  writeFileSync(gem, ['A419    0389     00000', 'R6521   78552    10000', 'Z0000   NoDx     11000', ''].join('\n'));
  const mapped = await read(dir, { task: 'phe', icd10Gem: gem });
  assert.deepEqual(mapped.samples.map((s) => s.id), ['100', '300']);
  assert.deepEqual(positives(mapped.samples[1]!.label), [PHENOTYPES[idx('Septicemia')]!.name, PHENOTYPES[idx('Shock')]!.name]);

  const dxref = join(tmpDir(), 'dxref2015.csv');
  writeFileSync(dxref, ['"Single Level CCS Diagnoses"', "'ICD-9-CM CODE','CCS CATEGORY','CCS CATEGORY DESCRIPTION'", "'4280 ','108 ','Congestive heart failure'", "'4019 ','98  ','Essential hypertension'", "'0389 ','2   ','Septicemia'", ''].join('\n'));
  const exact = await read(dir, { task: 'phe', icd10Gem: gem, ccsDxref: dxref });
  assert.deepEqual(positives(exact.samples[0]!.label), positives(plain.samples[0]!.label));
  assert.deepEqual(positives(exact.samples[1]!.label), [PHENOTYPES[idx('Septicemia')]!.name], '78552 is not in this small $DXREF');
  await assertDataError(() => read(dir, { task: 'phe', icd10Gem: dxref }), 'no ICD-10 → ICD-9 mapping rows', 'data.icd10Gem');
  await assertDataError(() => read(dir, { task: 'phe', ccsDxref: gem }), 'no ICD-9 → CCS rows', 'data.ccsDxref');
});

test('fixture: prior-admission codes (multi-hot) and demographics; user embeddings joined into the window', async () => {
  const dir = writeMimicFixture();
  const emb = join(tmpDir(), 'notes.csv');
  writeFileSync(emb, ['subject_id,charttime,vector', '1,2180-01-01 09:00:00,"[1, 2]"', '1,2180-01-06 09:00:00,"[9, 9]"', '3,2180-01-01 13:00:00,"[3, 4]"', '4,2180-01-01 13:00:00,"[5, 6]"', ''].join('\n'));
  const ds = await read(dir, { modalities: ['labs', 'priorCodes', 'demographics'], codeMinCount: 1, embeddings: [{ name: 'notes', path: emb }] });
  const codes = ds.spec.modalities.find((m) => m.name === 'priorCodes')!;
  assert.deepEqual(codes.kind === 'static' && codes.features, ['icd9:401']); // admission 11 ended before stay 100
  assert.deepEqual(Array.from((ds.samples[0]!.modalities['priorCodes'] as StaticData).values), [1]);
  assert.equal(ds.samples[1]!.modalities['priorCodes'], undefined, 'subject 3 has no earlier admission');
  assert.deepEqual(Array.from((ds.samples[1]!.modalities['demographics'] as StaticData).values), [70, 1]);
  const n100 = ds.samples[0]!.modalities['notes'] as EmbeddingData;
  assert.deepEqual([Array.from(n100.times), n100.vectors.map((v) => Array.from(v))], [[3], [[1, 2]]]);
  const n300 = ds.samples[1]!.modalities['notes'] as EmbeddingData;
  assert.deepEqual([Array.from(n300.times), n300.vectors.map((v) => Array.from(v))], [[1], [[3, 4]]]);
  writeFileSync(emb, ['subject_id,charttime,vector', '1,2180-01-01 09:00:00,"[1, 2]"', '3,2180-01-01 13:00:00,"[3, 4, 5]"', ''].join('\n'));
  // which row comes first is DuckDB's scan order: the error names whichever width it met second
  const widthErr = await assertDataError(() => read(dir, { embeddings: [{ name: 'notes', path: emb }] }), 'notes.csv', 'every vector of one file must have the same width');
  assert.match(widthErr.message, /width 3, expected 2|width 2, expected 3/);
  writeFileSync(emb, ['subject_id,time,vector', '1,2180-01-01 09:00:00,"[1, 2]"', ''].join('\n'));
  await assertDataError(() => read(dir, { embeddings: [{ name: 'notes', path: emb }] }), 'needs columns', 'charttime');
});

test('fixture: the cache — a second run reads it; a changed setting or file makes a new extraction', async () => {
  const dir = writeMimicFixture();
  const cacheDir = tmpDir('fm-mimic-cache-');
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  const first = await read(dir, { cache: true, cacheDir }, log);
  assert.ok(lines.some((l) => l.startsWith('cache written')));
  assert.ok(lines.some((l) => l.startsWith('vitals (chartevents)')), 'progress per table');
  lines.length = 0;
  const second = await read(dir, { cache: true, cacheDir }, log);
  assert.ok(lines.some((l) => l.startsWith('read from the cache')), lines.join('\n'));
  assert.deepEqual(second.samples, first.samples.map((s) => ({ ...s, source: second.samples.find((x) => x.id === s.id)!.source })));
  assert.deepEqual(second.spec, first.spec);
  assert.deepEqual(second.report.counts, first.report.counts);
  lines.length = 0;
  await read(dir, { cache: true, cacheDir, minAge: 16 }, log);
  assert.ok(!lines.some((l) => l.startsWith('read from the cache')), 'another config → another key');
  // the cache is plain FlexiModal JSONL with subjects
  const jsonl = await loadDataset({ type: 'jsonl', path: join(cacheDir, (await import('node:fs')).readdirSync(cacheDir)[0]!, 'samples.jsonl') });
  assert.deepEqual(new Set(jsonl.samples.map((s) => s.subject)), new Set(['1', '3']));
});

test('the release is read from the directory name when it is there', async () => {
  const { versionFromPath } = await import('../../../src/data/sources/mimicIv/layout.js');
  assert.equal(versionFromPath('/data/physionet.org/files/mimiciv/3.1'), '3.1');
  assert.equal(versionFromPath('/data/mimiciv/2.2/'), '2.2');
  assert.equal(versionFromPath('/data/mimic-iv-2.2'), '2.2');
  assert.equal(versionFromPath('/x/MIMIC_IV_v3.0'), '3.0');
  assert.equal(versionFromPath('/work/shared/data/mimic-iv-demo'), undefined);
});

test('fixture: bad input — not MIMIC-IV, v1 layout, missing tables, unknown column names, no directory', async () => {
  const empty = tmpDir();
  await assertDataError(() => read(empty), 'not a MIMIC-IV directory', 'no hosp/ and icu/ folders');
  mkdirSync(join(empty, 'core'));
  await assertDataError(() => read(empty), 'not a MIMIC-IV directory', 'v1.x');
  await assertDataError(() => read(join(empty, 'nope')), 'MIMIC-IV directory not found', 'data.dir');
  await assertDataError(() => read(writeMimicFixture({ omit: ['icu/icustays'] })), 'required table icu/icustays');
  const noCharts = writeMimicFixture({ omit: ['icu/chartevents'] });
  const lines: string[] = [];
  const skipped = await read(noCharts, {}, (l) => lines.push(l));
  assert.deepEqual(skipped.spec.modalities.map((m) => m.name), ['labs']);
  assert.ok(skipped.report.notes.some((n) => n.includes('modality vitals skipped')));
  assert.ok(lines.some((l) => l.includes('modality vitals skipped')));
  await assertDataError(() => read(noCharts, { missingTable: 'error' }), 'icu/chartevents', 'the "vitals" modality needs it', 'missingTable=skip');
  const renamed = writeMimicFixture({ headers: { 'hosp/patients': 'subject_id,gender,age_at_anchor,anchor_year,anchor_year_group,dod' } });
  const err = await assertDataError(() => read(renamed), 'patients.csv.gz has no column "anchor_age"', 'age_at_anchor', 'data.columns.patients.anchor_age');
  assert.match(err.message, /not the MIMIC-IV v2\.2\/v3\.x column layout/);
  const fixed = await read(renamed, { columns: { patients: { anchor_age: 'age_at_anchor' } } });
  assert.equal(fixed.samples.length, 2);
  const prev = process.env['MIMIC_IV_DIR'];
  delete process.env['MIMIC_IV_DIR'];
  await assertDataError(() => loadDataset({ type: 'mimic-iv', task: 'ihm' }), 'no MIMIC-IV directory given', 'MIMIC_IV_DIR');
  if (prev !== undefined) process.env['MIMIC_IV_DIR'] = prev;
  await assertDataError(() => loadDataset({ type: 'mimic-iv', task: 'mortality', dir: '.' }), 'data.task');
});

test('fixture: Parquet tables give the same dataset as csv.gz; Parquet embeddings keyed by stay_id', async () => {
  const { DuckSession } = await import('../../../src/data/sources/mimicIv/duck.js');
  const { readdirSync, rmSync } = await import('node:fs');
  const csvDir = writeMimicFixture();
  const pqDir = writeMimicFixture();
  const db = await DuckSession.open({ memoryLimit: '256MB', threads: 1 });
  try {
    for (const folder of ['hosp', 'icu']) {
      for (const f of readdirSync(join(pqDir, folder))) {
        const csv = join(pqDir, folder, f);
        await db.exec(`COPY (SELECT * FROM read_csv('${csv}', header = true)) TO '${csv.replace('.csv.gz', '.parquet')}' (FORMAT parquet)`);
        rmSync(csv);
      }
    }
    const emb = join(tmpDir(), 'cxr.parquet');
    await db.exec(`COPY (SELECT * FROM (VALUES (100, TIMESTAMP '2180-01-01 10:00:00', [0.5, 1.5]::FLOAT[]), (300, TIMESTAMP '2180-01-01 11:00:00', [2.0, 3.0]::FLOAT[])) t(stay_id, charttime, vector)) TO '${emb}' (FORMAT parquet)`);
    const fromCsv = await read(csvDir);
    const fromPq = await read(pqDir, { embeddings: [{ name: 'cxr', path: emb, dim: 2 }] });
    assert.deepEqual(fromPq.spec.modalities.slice(0, 2), fromCsv.spec.modalities);
    assert.deepEqual(fromPq.report.counts, fromCsv.report.counts);
    for (const [a, b] of fromPq.samples.map((s, i) => [s, fromCsv.samples[i]!] as const)) {
      assert.deepEqual([a.id, a.subject, a.label, a.modalities['vitals'], a.modalities['labs']], [b.id, b.subject, b.label, b.modalities['vitals'], b.modalities['labs']]);
    }
    const cxr100 = fromPq.samples[0]!.modalities['cxr'] as EmbeddingData;
    assert.deepEqual([Array.from(cxr100.times), cxr100.vectors.map((v) => Array.from(v))], [[4], [[0.5, 1.5]]]);
    assert.equal(fromPq.samples[1]!.modalities['cxr'], undefined, 'the image taken before ICU admission is outside the window');
  } finally {
    db.close();
  }
});

test('Seen §5 (issue 19): a truncated admissions.csv.gz is reported as truncated, not as a missing column', async () => {
  const dir = writeMimicFixture();
  const path = join(dir, 'hosp', 'admissions.csv.gz');
  const { readFileSync } = await import('node:fs');
  const full = readFileSync(path);
  writeFileSync(path, full.subarray(0, Math.max(12, Math.floor(full.length * 0.6))));
  await assertDataError(() => read(dir), 'admissions.csv.gz is truncated', 'gzip -t');
});

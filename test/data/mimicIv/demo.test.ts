/**
 * The mimic-iv source end to end on the openly licensed MIMIC-IV demo (../shared/data/mimic-iv-demo;
 * skipped with a reason when absent): cohort and label counts checked against an independent
 * computation from the CSVs (csv-parse, not SQL), patient-level split, and a 1-epoch FuseMoE run
 * per task (reading the extraction from the cache the count test wrote). The demo has no
 * chartevents: the vitals modality is skipped with a message (the fixture tests cover it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { loadDataset } from '../../../src/data/load.js';
import { stratifiedSplit } from '../../../src/data/split.js';
import { sampleToJson } from '../../../src/data/sources/jsonl.js';
import { parseConfig } from '../../../src/config/parse.js';
import { runExperiment } from '../../../src/run/experiment.js';
import { initEngine } from '../../../src/engine/backend.js';
import { PHENOTYPES } from '../../../src/data/sources/mimicIv/phenotypes.js';
import type { Dataset } from '../../../src/data/schema.js';
import { sharedData, skipUnless, tmpDir } from '../fixtures.js';

const DEMO = join(sharedData, 'mimic-iv-demo');
const skip = skipUnless(join(DEMO, 'icu', 'icustays.csv.gz'));
const cacheDir = tmpDir('fm-mimic-demo-cache-');
const quiet = () => {};

function csv(rel: string): Record<string, string>[] {
  return parse(gunzipSync(readFileSync(join(DEMO, rel))), { columns: true }) as Record<string, string>[];
}

/** The cohort and the IHM / LOS labels computed directly from the CSVs (independent of the SQL). */
function expected() {
  const hours = (a: string, b: string) => (Date.parse(b + 'Z') - Date.parse(a + 'Z')) / 3.6e6;
  const age = new Map(csv('hosp/patients.csv.gz').map((p) => [p['subject_id']!, Number(p['anchor_age'])]));
  const adm = new Map(csv('hosp/admissions.csv.gz').map((a) => [a['hadm_id']!, a]));
  const stays = csv('icu/icustays.csv.gz');
  const cohort = stays.filter((s) => age.get(s['subject_id']!)! >= 18 && hours(s['intime']!, s['outtime']!) >= 48);
  const ihm = new Map(cohort.map((s) => [s['stay_id']!, Number(adm.get(s['hadm_id']!)!['hospital_expire_flag'])]));
  const los = new Map(
    cohort.map((s) => {
      const death = adm.get(s['hadm_id']!)!['deathtime'];
      const diedInIcu = !!death && hours(s['outtime']!, death) <= 1;
      return [s['stay_id']!, hours(s['intime']!, s['outtime']!) <= 96 && !diedInIcu ? 1 : 0];
    }),
  );
  return { stays: stays.length, cohort, ihm, los };
}

const source = (task: string, modalities: string[]) => ({ type: 'mimic-iv', dir: DEMO, task, modalities, cacheDir, progress: false });
const loaded: Record<string, Dataset> = {};
const ALL = ['vitals', 'labs', 'inputs', 'outputs', 'procedures', 'prescriptions', 'priorCodes', 'demographics'];
const SMALL = ['labs', 'outputs', 'demographics'];

before(async () => {
  await initEngine({ backend: 'wasm' });
});
after(() => rmSync(cacheDir, { recursive: true, force: true }));

test('demo: 48-IHM cohort and label counts, every modality (vitals skipped: no chartevents)', { skip }, async () => {
  const ex = expected();
  const ds = (loaded['ihm'] = await loadDataset(source('ihm', ALL)));
  assert.equal(ex.stays, 140);
  assert.equal(ex.cohort.length, 74, 'the demo README: 74 of 140 stays last ≥ 2 days');
  assert.equal(ds.report.samplesRead, 140);
  assert.equal(ds.report.counts['cohort: ICU stay shorter than 48 h'], 66);
  assert.equal(ds.samples.length, 74);
  assert.deepEqual(new Map(ds.samples.map((s) => [s.id, s.label])), ex.ihm);
  assert.equal(ds.samples.filter((s) => s.label === 1).length, 12);
  assert.deepEqual(ds.spec.modalities.map((m) => m.name), ['labs', 'inputs', 'outputs', 'procedures', 'prescriptions', 'priorCodes', 'demographics']);
  assert.ok(ds.report.notes.some((n) => n.startsWith('modality vitals skipped')));
  const subjectOf = new Map(ex.cohort.map((s) => [s['stay_id']!, s['subject_id']!]));
  for (const s of ds.samples) assert.equal(s.subject, subjectOf.get(s.id));
  // labs: every sample has labs; one count is checked directly against the CSV
  const k = csv('hosp/labevents.csv.gz');
  const stay = ex.cohort.find((s) => s['stay_id'] === ds.samples[0]!.id)!;
  const t0 = Date.parse(stay['intime']! + 'Z');
  const potassium = k.filter((r) => r['subject_id'] === stay['subject_id'] && r['itemid'] === '50971' && r['valuenum'] !== '' && Date.parse(r['charttime']! + 'Z') >= t0 && Date.parse(r['charttime']! + 'Z') < t0 + 48 * 3.6e6);
  const labs = ds.samples[0]!.modalities['labs'];
  const kIdx = (ds.spec.modalities[0] as { variables: string[] }).variables.indexOf('Potassium');
  assert.ok(labs && labs.kind === 'timeseries');
  assert.equal(new Set(potassium.map((r) => r['charttime'])).size, Array.from(labs.variables).filter((v) => v === kIdx).length);
  // patient-level split on the real cohort
  const split = stratifiedSplit(ds, { seed: 0 });
  const parts = (['train', 'val', 'test'] as const).map((p) => new Set(split[p].map((id) => subjectOf.get(id))));
  for (const s of parts[0]!) assert.ok(!parts[1]!.has(s) && !parts[2]!.has(s));
  for (const s of parts[1]!) assert.ok(!parts[2]!.has(s));
  assert.equal(split.subjects!.train.length + split.subjects!.val.length + split.subjects!.test.length, new Set(ds.samples.map((s) => s.subject)).size);
});

test('demo: LOS and 25-PHE label counts', { skip }, async () => {
  const ex = expected();
  const los = (loaded['los'] = await loadDataset(source('los', SMALL)));
  assert.deepEqual(new Map(los.samples.map((s) => [s.id, s.label])), ex.los);
  assert.equal(los.samples.filter((s) => s.label === 1).length, 32);
  // deterministic: one DuckDB thread instead of two gives the same samples, bit for bit
  const los1 = await loadDataset({ ...source('los', SMALL), cache: false, duckdb: { threads: 1 } });
  assert.deepEqual(los1.samples.map((s) => sampleToJson(los1.spec, s)), los.samples.map((s) => sampleToJson(los.spec, s)));
  assert.deepEqual(los1.report.counts, los.report.counts);
  const phe = (loaded['phe'] = await loadDataset(source('phe', SMALL)));
  // without a GEM the cohort's ICD-10-coded admissions are excluded (counted); 39 ICD-9-coded stays remain
  assert.equal(phe.report.counts['label: admission coded in ICD-10 and no data.icd10Gem'], 35);
  assert.equal(phe.samples.length, 39);
  assert.equal((phe.samples[0]!.label as number[]).length, 25);
  // one phenotype checked against the CSV: congestive heart failure = an ICD-9 code starting 428 (or 39891)
  const dx = csv('hosp/diagnoses_icd.csv.gz');
  const chf = new Set(dx.filter((d) => d['icd_version'] === '9' && (d['icd_code']!.startsWith('428') || d['icd_code'] === '39891')).map((d) => d['hadm_id']));
  const hadmOf = new Map(ex.cohort.map((s) => [s['stay_id']!, s['hadm_id']!]));
  const j = PHENOTYPES.findIndex((p) => p.name.startsWith('Congestive heart failure'));
  for (const s of phe.samples) assert.equal((s.label as number[])[j], chf.has(hadmOf.get(s.id)!) ? 1 : 0, `stay ${s.id}`);
});

test('demo: a 1-epoch FuseMoE run per task (extraction read from the cache)', { skip }, async (t) => {
  for (const [task, modalities] of [['ihm', ALL], ['los', SMALL], ['phe', SMALL]] as const) {
    const cfg = parseConfig(
      {
        name: `mimic-${task}`,
        seeds: [1],
        data: source(task, [...modalities]),
        model: { type: 'fusemoe', d: 8, blocks: 1, heads: 1, encoder: { kind: 'mean-pool-mlp' }, moe: { numExperts: 2, topK: 1, hidden: 8 } },
        train: { epochs: 1, batchSize: 16, patience: 0 },
      },
      'test config',
    );
    const out = tmpDir('fm-mimic-run-');
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const res = await runExperiment(cfg, { baseDir: '.', outDir: out, log: quiet, progress: false, saveModels: false });
    assert.ok(res.metrics.val, `${task}: validation metrics`);
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'));
    assert.ok(split.subjects && split.subjects.train.length > 0, `${task}: split.json records subject ids`);
    assert.ok(existsSync(join(out, 'metrics.json')));
    // every sample of the task is evaluated once: counts from the CSVs (the tests above), not from another test's state
    const expectedSamples = { ihm: 74, los: 74, phe: 39 }[task];
    const ev = res.seeds[0]!.evaluations;
    assert.equal(ev.train!.overall.n + ev.val!.overall.n + (ev.test?.overall.n ?? 0), expectedSamples, `${task}: samples evaluated`);
  }
});

test('configs/fusemoe-mimic-iv-*.json validate; the directory comes from --set data.dir or $MIMIC_IV_DIR', async () => {
  const { readConfigFile, applyOverride } = await import('../../../src/config/parse.js');
  const { mimicDir } = await import('../../../src/data/sources/mimicIv/reader.js');
  const { repoRoot } = await import('../fixtures.js');
  for (const task of ['ihm', 'los', 'phe']) {
    const path = join(repoRoot, 'configs', `fusemoe-mimic-iv-${task}.json`);
    const raw = readConfigFile(path);
    const cfg = parseConfig(applyOverride(raw, 'data.dir=/data/mimiciv/3.1'), path);
    assert.equal(cfg.data.type, 'mimic-iv');
    if (cfg.data.type !== 'mimic-iv') continue;
    assert.equal(cfg.data.task, task);
    assert.equal(mimicDir(cfg.data, '.'), '/data/mimiciv/3.1');
    const fromEnv = parseConfig(raw, path);
    const prev = process.env['MIMIC_IV_DIR'];
    process.env['MIMIC_IV_DIR'] = '/srv/mimic-iv';
    try {
      assert.equal(fromEnv.data.type === 'mimic-iv' && mimicDir(fromEnv.data, '.'), '/srv/mimic-iv');
    } finally {
      if (prev === undefined) delete process.env['MIMIC_IV_DIR'];
      else process.env['MIMIC_IV_DIR'] = prev;
    }
  }
});

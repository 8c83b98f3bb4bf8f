import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { makeBatch } from '../../src/data/batch.js';
import type { DatasetSpec, Sample } from '../../src/data/schema.js';
import { parseConfig } from '../../src/config/parse.js';
import { modelSchema, type XGBoostModelConfig } from '../../src/config/schema.js';
import { XGBoostModel } from '../../src/models/gbt/xgboostModel.js';
import { openXGBoost, xgboostAvailable } from '../../src/models/gbt/xgboostLibrary.js';
import { auroc } from '../../src/eval/metrics/auroc.js';
import { runExperiment } from '../../src/run/experiment.js';
import { loadModel } from '../../src/models/persist.js';
import { Predictor } from '../../src/serve/predictor.js';
import { writeJsonl } from '../../src/data/sources/jsonl.js';
import { validateMetricsJson } from '../../src/eval/aggregate.js';
import { registerPredictCommand } from '../../src/cli/predict.js';
import { registerEvaluateCommand } from '../../src/cli/evaluate.js';
import { FlexiModalError } from '../../src/errors.js';

const lib = xgboostAvailable();
if (!lib.ok) console.log(`# xgboost tests skipped: ${lib.reason}`);
const needLib = (t: { skip: (m: string) => void }): boolean => {
  if (lib.ok) return true;
  t.skip(`libxgboost absent: ${lib.reason}`);
  return false;
};

before(async () => {
  await initEngine({ backend: 'wasm' });
});

const quiet = () => {};

/**
 * A problem where trees must win: y = (max of an irregular series `a` > 1.5) XOR (static s > 0);
 * `b` is noise. No single feature and no linear score separates it.
 */
const spec: DatasetSpec = {
  name: 'xor-spike',
  horizonHours: 24,
  task: { kind: 'binary', name: 'y' },
  modalities: [
    { name: 'series', kind: 'timeseries', variables: ['a', 'b'] },
    { name: 'demo', kind: 'static', features: ['s'] },
  ],
};

function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function xorSamples(n: number, seed: number, noisyLabels = false): Sample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const k = 3 + rng.int(6);
    const times: number[] = [];
    const vars: number[] = [];
    const vals: number[] = [];
    const spike = rng.next() < 0.5;
    for (let j = 0; j < k; j++) {
      const t = (24 * (j + rng.next())) / k;
      times.push(t, t);
      vars.push(0, 1);
      vals.push(normal(rng) * 0.3 + (spike && j === k - 2 ? 3 : 0), normal(rng));
    }
    const s = normal(rng);
    const label = noisyLabels ? rng.int(2) : Number(spike !== s > 0);
    return {
      id: `x${seed}-${i}`,
      label,
      modalities: {
        series: { kind: 'timeseries', times: Float64Array.from(times), variables: Int32Array.from(vars), values: Float64Array.from(vals) },
        demo: { kind: 'static', values: Float64Array.from([s]) },
      },
    } satisfies Sample;
  });
}

const toBatch = (s: Sample[]) => makeBatch(spec, s, null);

function xgbConfig(over: Partial<XGBoostModelConfig> = {}): XGBoostModelConfig {
  return modelSchema.parse({ type: 'xgboost', nRounds: 80, maxDepth: 3, eta: 0.3, earlyStoppingRounds: 20, nthread: 1, ...over }) as XGBoostModelConfig;
}

function fitted(cfg: XGBoostModelConfig, seed: number, train: Sample[], val: Sample[]): XGBoostModel {
  const m = new XGBoostModel(spec, cfg, seed);
  m.fit({ train, val, toBatch, posWeight: 1, label: 'test', log: quiet });
  return m;
}

test('xgboost learns an interaction (AUROC floor) and is deterministic for a seed', (t) => {
  if (!needLib(t)) return;
  const train = xorSamples(400, 1);
  const val = xorSamples(100, 2);
  const testSet = xorSamples(200, 3);
  // two XGBoost threads: the histogram sums must not depend on thread timing
  const m1 = fitted(xgbConfig({ nthread: 2 }), 7, train, val);
  const m2 = fitted(xgbConfig({ nthread: 2 }), 7, train, val);
  const m3 = fitted(xgbConfig({ nthread: 2 }), 8, train, val);
  t.after(() => [m1, m2, m3].forEach((m) => m.dispose()));
  const p1 = m1.margins(toBatch(testSet));
  const labels = Float32Array.from(testSet, (s) => s.label as number);
  const score = auroc(p1, labels);
  assert.ok(score > 0.9, `test AUROC ${score} > 0.9 on the XOR-of-spike problem`);
  assert.deepEqual(m2.margins(toBatch(testSet)), p1, 'same seed → identical margins');
  assert.notDeepEqual(m3.margins(toBatch(testSet)), p1, 'another seed (row/column subsampling) → other trees');
});

test('early stopping keeps the best rounds when the validation loss rises', (t) => {
  if (!needLib(t)) return;
  // labels independent of the features: every round after the first few only overfits
  const train = xorSamples(200, 4, true);
  const val = xorSamples(200, 5, true);
  const cfg = xgbConfig({ nRounds: 60, maxDepth: 6, eta: 0.3, subsample: 1, colsampleBytree: 1, minChildWeight: 0 });
  const stopped = new XGBoostModel(spec, { ...cfg, earlyStoppingRounds: 5 }, 1);
  const full = new XGBoostModel(spec, { ...cfg, earlyStoppingRounds: 0 }, 1);
  t.after(() => [stopped, full].forEach((m) => m.dispose()));
  const rs = stopped.fit({ train, val, toBatch, posWeight: 1, label: 'stopped' });
  const rf = full.fit({ train, val, toBatch, posWeight: 1, label: 'full' });
  assert.equal(full.rounds()[0], 60);
  assert.equal(rf.history.length, 60);
  assert.ok(rs.stoppedEarly);
  assert.equal(rs.monitor, 'logloss', 'the records are in the eval metric of XGBoost');
  assert.ok(rs.bestEpoch < 20, `kept ${rs.bestEpoch} rounds`);
  assert.equal(stopped.rounds()[0], rs.bestEpoch, 'the saved booster holds the best rounds only');
  assert.equal(rs.history.length, rs.bestEpoch + 5, 'stopped 5 rounds after the best');
  const losses = rf.history.map((h) => h.val['logloss']!);
  assert.equal(rs.bestScore, Math.min(...losses.slice(0, rs.history.length)));
  assert.ok(losses[59]! > rs.bestScore, 'validation loss rose after the kept rounds');
});

test('multiclass (multi:softprob) and multilabel (one booster per label) train and predict', (t) => {
  if (!needLib(t)) return;
  const base = xorSamples(300, 6);
  const mcSpec: DatasetSpec = { ...spec, task: { kind: 'multiclass', name: 'c', classes: ['p', 'q', 'r'] } };
  const mlSpec: DatasetSpec = { ...spec, task: { kind: 'multilabel', name: 'l', labels: ['u', 'v'] } };
  const mc = base.map((s, i) => ({ ...s, label: i % 7 === 0 ? 2 : (s.label as number) }));
  const ml = base.map((s) => ({ ...s, label: [s.label as number, Number((s.modalities.demo as { values: Float64Array }).values[0]! > 0)] }));
  const a = new XGBoostModel(mcSpec, xgbConfig({ nRounds: 30 }), 1);
  const b = new XGBoostModel(mlSpec, xgbConfig({ nRounds: 30 }), 1);
  t.after(() => [a, b].forEach((m) => m.dispose()));
  a.fit({ train: mc.slice(0, 200), val: mc.slice(200), toBatch: (s) => makeBatch(mcSpec, s, null), posWeight: 1, label: 'mc' });
  b.fit({ train: ml.slice(0, 200), val: ml.slice(200), toBatch: (s) => makeBatch(mlSpec, s, null), posWeight: 1, label: 'ml' });
  assert.equal(a.rounds().length, 1);
  assert.equal(b.rounds().length, 2, 'one booster per label');
  assert.equal(a.margins(makeBatch(mcSpec, mc.slice(0, 5), null)).length, 5 * 3);
  const mm = b.margins(makeBatch(mlSpec, ml.slice(200), null));
  assert.equal(mm.length, 100 * 2);
  const second = Float32Array.from({ length: 100 }, (_, i) => mm[i * 2 + 1]!);
  assert.ok(auroc(second, Float32Array.from(ml.slice(200), (s) => (s.label as number[])[1]!)) > 0.95, 'label v (= s > 0) is learned by its own booster');
});

test('save → load gives identical predictions; Predictor, CLI predict and CLI evaluate read the model directory', async (t) => {
  if (!needLib(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'fm-xgb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await writeJsonl({ spec, samples: xorSamples(500, 11) }, join(dir, 'train.jsonl'));
  await writeJsonl({ spec, samples: xorSamples(40, 12) }, join(dir, 'new.jsonl'));
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  const cfg = parseConfig(
    {
      name: 'xgb',
      seeds: [3],
      data: { type: 'jsonl', path: join(dir, 'train.jsonl') },
      model: { type: 'xgboost', nRounds: 60, maxDepth: 3, eta: 0.2, nthread: 1 },
    },
    'test config',
  );
  const out = join(dir, 'run');
  const res = await runExperiment(cfg, { baseDir: dir, outDir: out, log: quiet, progress: false });
  for (const f of ['metrics.json', 'manifest.json', 'summary.md', 'split.json', 'model/model.json', 'model/xgboost.json', 'model/features.json']) assert.ok(existsSync(join(out, f)), f);
  assert.ok(!existsSync(join(out, 'model', 'weights.safetensors')), 'no tf weights for a tree model');
  const booster = JSON.parse(readFileSync(join(out, 'model', 'xgboost.json'), 'utf8'));
  assert.ok(booster.learner.gradient_booster.model.trees.length > 0, 'XGBoost JSON model format');
  const meta = JSON.parse(readFileSync(join(out, 'model', 'model.json'), 'utf8'));
  assert.equal(meta.model.type, 'xgboost');
  const metrics = validateMetricsJson(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')));
  assert.ok(metrics.test!.auroc!.mean! > 0.85, `run test AUROC ${metrics.test!.auroc!.mean}`);

  // the loaded model reproduces the run's test-split probabilities (split order), via Predictor and directly
  const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8')) as { test: string[] };
  const byId = new Map(xorSamples(500, 11).map((s) => [s.id, s]));
  const testSamples = split.test.map((id) => byId.get(id)!);
  const predictor = await Predictor.load(out);
  t.after(() => predictor.dispose());
  const risks = predictor.predict(testSamples).map((p) => p.risk!);
  assert.deepEqual(Float32Array.from(risks), res.seeds[0]!.test!.probs, "Predictor on the saved model = the run's test probabilities");
  const { model, meta: loadedMeta } = loadModel(out);
  t.after(() => model.dispose());
  assert.equal(loadedMeta.model.type, 'xgboost');
  const margins = (model as XGBoostModel).margins(makeBatch(spec, testSamples, loadedMeta.normalizer, { maxTimesteps: loadedMeta.maxTimesteps }));
  risks.forEach((r, i) => assert.ok(Math.abs(r - 1 / (1 + Math.exp(-margins[i]!))) < 1e-6, `sample ${i}`));

  // CLI predict, in process
  const program = new Command().exitOverride();
  registerPredictCommand(program);
  await program.parseAsync(['node', 'fleximodal', 'predict', '--model', out, '--input', join(dir, 'new.jsonl'), '--out', join(dir, 'pred.jsonl')]);
  const lines = readFileSync(join(dir, 'pred.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 40);
  const viaPredictor = predictor.predict(xorSamples(40, 12));
  lines.forEach((l, i) => {
    assert.equal(l.id, viaPredictor[i]!.id);
    assert.equal(l.risk, viaPredictor[i]!.risk);
    assert.equal(typeof l.predicted, 'boolean');
  });

  // CLI evaluate, in process: metrics of the saved model on new labelled data, per group
  const evalProgram = new Command().exitOverride();
  registerEvaluateCommand(evalProgram);
  const stdout = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await evalProgram.parseAsync(['node', 'fleximodal', 'evaluate', '--model', out, '--data', join(dir, 'new.jsonl'), '--out', join(dir, 'eval')]);
  } finally {
    process.stdout.write = stdout;
  }
  const em = validateMetricsJson(JSON.parse(readFileSync(join(dir, 'eval', 'metrics.json'), 'utf8')));
  assert.equal(em.external!.n!.mean, 40);
  const newSamples = xorSamples(40, 12);
  const wantAuroc = auroc(Float32Array.from(viaPredictor, (p) => p.risk!), Float32Array.from(newSamples, (s) => s.label as number));
  assert.ok(Math.abs(em.external!.auroc!.mean! - wantAuroc) < 1e-9, 'evaluate = AUROC of the Predictor\'s risks');
});

test('same config and seed → identical metrics.json', async (t) => {
  if (!needLib(t)) return;
  const cfg = parseConfig({ name: 'det', seeds: [2], data: { type: 'synthetic', n: 240, seed: 1, missingness: 'long-tail' }, model: { type: 'xgboost', nRounds: 30, nthread: 2 } }, 'test config');
  const dirs = [mkdtempSync(join(tmpdir(), 'fm-xgb-d1-')), mkdtempSync(join(tmpdir(), 'fm-xgb-d2-'))];
  t.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  for (const d of dirs) await runExperiment(cfg, { baseDir: '.', outDir: join(d, 'run'), log: quiet, progress: false, saveModels: false });
  const read = (d: string) => readFileSync(join(d, 'run', 'metrics.json'), 'utf8');
  assert.equal(read(dirs[0]!), read(dirs[1]!));
  const m = validateMetricsJson(JSON.parse(read(dirs[0]!)));
  assert.ok(Object.keys(m.groups.test!).length > 1, 'per-group metrics');
});

test('train.ensemble > 1 is refused for xgboost with the config key', async () => {
  const cfg = parseConfig({ seeds: [1], data: { type: 'synthetic', n: 100, seed: 1 }, model: { type: 'xgboost' }, train: { ensemble: 3 } }, 'test config');
  const dir = mkdtempSync(join(tmpdir(), 'fm-xgb-e-'));
  try {
    await assert.rejects(runExperiment(cfg, { baseDir: '.', outDir: join(dir, 'run'), log: quiet, progress: false }), /train\.ensemble.*not supported for xgboost/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an absent XGBoost library is reported with the package to install', async (t) => {
  assert.throws(
    () => openXGBoost('/nonexistent/libxgboost.so.0'),
    (e: unknown) => e instanceof FlexiModalError && /XGBoost C library could not be loaded/.test(e.message) && /apt-get install libxgboost0/.test(e.message) && /\/nonexistent\/libxgboost\.so\.0/.test(e.message),
  );
  // through training, with the library pointed elsewhere by FLEXIMODAL_XGBOOST_LIB
  const before = process.env['FLEXIMODAL_XGBOOST_LIB'];
  process.env['FLEXIMODAL_XGBOOST_LIB'] = '/nonexistent/dir/libxgboost.so';
  t.after(() => {
    if (before === undefined) delete process.env['FLEXIMODAL_XGBOOST_LIB'];
    else process.env['FLEXIMODAL_XGBOOST_LIB'] = before;
  });
  const m = new XGBoostModel(spec, xgbConfig(), 1);
  assert.throws(() => m.fit({ train: xorSamples(20, 1), val: xorSamples(10, 2), toBatch, posWeight: 1, label: 'x' }), /\/nonexistent\/dir\/libxgboost\.so.*apt-get install libxgboost0/);
  const dir = mkdtempSync(join(tmpdir(), 'fm-xgb-a-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = parseConfig({ seeds: [1], data: { type: 'synthetic', n: 100, seed: 1 }, model: { type: 'xgboost' } }, 'test config');
  await assert.rejects(runExperiment(cfg, { baseDir: '.', outDir: join(dir, 'run'), log: quiet, progress: false }), /model\.type "xgboost".*libxgboost0/);
});

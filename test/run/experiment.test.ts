import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { tf } from '../../src/engine/tf.js';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';
import { validateMetricsJson } from '../../src/eval/aggregate.js';
import { Predictor } from '../../src/serve/predictor.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { sampleToJson } from '../../src/data/sources/jsonl.js';
import { tempDirs } from '../helpers/tempDir.js';

const tmp = tempDirs();

before(async () => {
  await initEngine({ backend: 'wasm' });
});

const quiet = () => {};

function config(model: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return parseConfig(
    {
      name: 'test',
      seeds: [1],
      data: { type: 'synthetic', n: 160, seed: 2, missingness: 'long-tail' },
      model,
      train: { epochs: 2, batchSize: 16, patience: 0 },
      ...extra,
    },
    'test config',
  );
}

const baseline = { type: 'baseline', d: 16, encoder: { kind: 'mean-pool-mlp' }, hidden: [16], dropout: 0.1 };

test('a run writes the documented directory and a valid metrics.json with per-group results', async () => {
  const out = tmp('fm-run-');
  const res = await runExperiment(config(baseline), { baseDir: '.', outDir: out, log: quiet, progress: false });
  for (const f of ['metrics.json', 'summary.md', 'manifest.json', 'split.json', 'config.json', 'model/model.json', 'model/weights.safetensors', 'seeds/1/model/model.json']) {
    assert.ok(existsSync(join(out, f)), `${f} exists`);
  }
  const metrics = validateMetricsJson(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')));
  for (const split of ['train', 'val', 'test'] as const) {
    for (const m of ['auroc', 'auprc', 'f1', 'accuracy', 'brier']) {
      const s = metrics[split]![m]!;
      assert.equal(s.seeds.length, 1);
      assert.ok(s.mean === null || Number.isFinite(s.mean), `${split}.${m}`);
    }
  }
  const groups = metrics.groups.test!;
  const total = Object.values(groups).reduce((a, g) => a + g.n, 0);
  assert.equal(total, res.seeds[0]!.evaluations.test!.overall.n, 'groups partition the test split');
  assert.ok(Object.keys(groups).length > 1, 'long-tailed data has several modality combinations');
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.seeds, [1]);
  assert.ok(manifest.versions['@tensorflow/tfjs'] && manifest.config.model.type === 'baseline');
  assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /auroc/i);
});

test('same seed → identical metrics; a different seed → different metrics', async () => {
  const cfg = config(baseline);
  const a = await runExperiment(cfg, { baseDir: '.', outDir: tmp('fm-a-'), log: quiet, progress: false, saveModels: false });
  const b = await runExperiment(cfg, { baseDir: '.', outDir: tmp('fm-b-'), log: quiet, progress: false, saveModels: false });
  assert.deepEqual(a.metrics, b.metrics);
  const c = await runExperiment(cfg, { baseDir: '.', outDir: tmp('fm-c-'), seeds: [2], log: quiet, progress: false, saveModels: false });
  assert.notDeepEqual(a.metrics.test, c.metrics.test);
});

test('FuseMoE run: expert-usage heat map, saved model reloads and predicts the same risks with explanations', async () => {
  const out = tmp('fm-fuse-');
  const cfg = config({
    type: 'fusemoe',
    d: 16,
    blocks: 1,
    heads: 2,
    encoder: { kind: 'utde', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 },
    moe: { numExperts: 4, topK: 2, hidden: 16 },
  });
  const res = await runExperiment(cfg, { baseDir: '.', outDir: out, log: quiet, progress: false });
  assert.ok(existsSync(join(out, 'plots', 'expert-usage-block0.svg')));
  assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /Expert usage/);
  const usage = res.seeds[0]!.usage!;
  for (const row of usage.shares[0]!) {
    const tot = row.reduce((x, y) => x + y, 0);
    assert.ok(tot === 0 || Math.abs(tot - 1) < 1e-9);
  }
  const data = generateSynthetic({ n: 160, seed: 2, missingness: 'long-tail' });
  const predictor = await Predictor.load(out);
  const some = data.samples.slice(0, 5);
  const viaObjects = predictor.predict(some.map((s) => sampleToJson(data.spec, s)), { explain: true });
  const viaSamples = predictor.predict(some);
  viaObjects.forEach((p, i) => {
    assert.equal(p.id, some[i]!.id);
    assert.ok(p.risk! > 0 && p.risk! < 1);
    assert.ok(Math.abs(p.risk! - viaSamples[i]!.risk!) < 1e-6);
    assert.ok(p.explanation && p.explanation.routing!.topExperts.length > 0);
  });
  predictor.dispose();
});

test('training keeps the tensor count flat (no leaks across steps and runs)', async () => {
  const cfg = config(baseline);
  await runExperiment(cfg, { baseDir: '.', outDir: tmp('fm-m1-'), log: quiet, progress: false, saveModels: false });
  const before = tf.memory().numTensors;
  await runExperiment({ ...cfg, train: { ...cfg.train, epochs: 4 } }, { baseDir: '.', outDir: tmp('fm-m2-'), log: quiet, progress: false, saveModels: false });
  assert.equal(tf.memory().numTensors, before);
});

const p12 = resolve('../shared/data/physionet2012');
test('end to end on real PhysioNet 2012 records (51-record sample)', async (t) => {
  if (!existsSync(join(p12, 'sample', 'set-a'))) {
    t.skip(`PhysioNet sample not found at ${p12}/sample (../shared/data absent)`);
    return;
  }
  const cfg = parseConfig(
    {
      seeds: [1],
      data: { type: 'physionet2012', records: join(p12, 'sample', 'set-a'), outcomes: join(p12, 'sample', 'Outcomes-sample.txt') },
      split: { fractions: [0.6, 0.2, 0.2] },
      model: { type: 'fusemoe', d: 16, blocks: 1, heads: 2, encoder: { kind: 'utde', gamma: 8, dt: 8, heads: 2 }, moe: { numExperts: 4, topK: 2, hidden: 16 } },
      train: { epochs: 2, batchSize: 8, patience: 0 },
    },
    'p12 test',
  );
  const res = await runExperiment(cfg, { baseDir: '.', outDir: tmp('fm-p12-'), log: quiet, progress: false, saveModels: false });
  const test = res.metrics.test!;
  assert.ok(test.auroc!.mean === null || (test.auroc!.mean >= 0 && test.auroc!.mean <= 1));
  assert.ok(Number.isFinite(test.brier!.mean!));
  assert.ok(Object.keys(res.metrics.groups.train!).some((g) => g.includes('static')));
});

for (const task of ['multiclass', 'multilabel'] as const) {
  test(`FuseMoE trains and evaluates a ${task} task (macro metrics, per group)`, async () => {
    const cfg = parseConfig(
      {
        seeds: [1],
        data: { type: 'synthetic', n: 400, seed: 5, task },
        model: { type: 'fusemoe', d: 16, blocks: 1, heads: 2, encoder: { kind: 'mtand', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 }, moe: { numExperts: 4, topK: 2, hidden: 16 } },
        train: { epochs: 8, batchSize: 16, patience: 0, monitor: 'auroc' },
      },
      'test',
    );
    const res = await runExperiment(cfg, { baseDir: '.', outDir: tmp(`fm-${task}-`), log: quiet, progress: false, saveModels: false });
    const t = res.metrics.test!;
    assert.ok(t.auroc!.mean! > 0.65, `${task} test macro AUROC ${t.auroc!.mean}`); // learns the known mechanism
    assert.ok(t.accuracy!.mean! > 0 && t.brier!.mean! > 0);
    assert.ok(Object.keys(res.metrics.groups.test!).length >= 1);
  });
}

test("split.seed 'per-seed': each model seed trains on its own split, written under seeds/<s>/split.json", async () => {
  const out = tmp('fm-perseed-');
  const cfg = config(baseline, { seeds: [1, 2], split: { seed: 'per-seed' } });
  const res = await runExperiment(cfg, { baseDir: '.', outDir: out, log: quiet, progress: false, saveModels: false });
  assert.ok(!existsSync(join(out, 'split.json')), 'no single split.json when splits differ per seed');
  const s1 = JSON.parse(readFileSync(join(out, 'seeds/1/split.json'), 'utf8'));
  const s2 = JSON.parse(readFileSync(join(out, 'seeds/2/split.json'), 'utf8'));
  assert.equal(s1.seed, 1);
  assert.equal(s2.seed, 2);
  assert.notDeepEqual(s1.test, s2.test, 'the test sets differ');
  assert.equal(s1.test.length, s2.test.length);
  assert.equal(res.seeds[0]!.evaluations.test!.overall.n, s1.test.length);
  assert.equal(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).splitSeed, 'per-seed');
  assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /different random 0\.7\/0\.15\/0\.15 split per seed/);
});

test("split.seed 'per-seed' with split.file is a config error naming both keys", () => {
  assert.throws(
    () => config(baseline, { split: { seed: 'per-seed', file: 'split.json' } }),
    (e: Error) => /split\.seed/.test(e.message) && /split\.file/.test(e.message),
  );
});

test('train.ensemble 2: two members per seed, the saved ensemble reloads with the evaluated risks, the report lists the members', async () => {
  const out = tmp('fm-ens-run-');
  const cfg = config(baseline, { train: { epochs: 2, batchSize: 16, patience: 0, ensemble: 2 } });
  const res = await runExperiment(cfg, { baseDir: '.', outDir: out, log: quiet, progress: false });
  assert.equal(res.seeds[0]!.members.length, 2);
  assert.notDeepEqual(res.seeds[0]!.members[0]!.history, res.seeds[0]!.members[1]!.history, 'members are trained from different seeds');
  const summary = readFileSync(join(out, 'summary.md'), 'utf8');
  assert.match(summary, /1 · member 2/);
  const ensembleRow = summary.split('\n').find((l) => l.startsWith('| 1 · **ensemble**'));
  assert.ok(ensembleRow, 'one ensemble row per seed');
  const valAuroc = res.metrics.val!.auroc!.seeds[0]!;
  assert.ok(ensembleRow!.includes(valAuroc.toFixed(4)), `ensemble row shows the ensemble's val AUROC ${valAuroc}`);
  assert.match(summary, /ensemble of 2 members/);
  const p = await Predictor.load(join(out, 'seeds', '1', 'model'));
  try {
    assert.equal(p.meta.ensembleMembers, 2);
    const test = res.seeds[0]!.test!;
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'));
    const data = generateSynthetic({ n: 160, seed: 2, missingness: 'long-tail' });
    const byId = new Map(data.samples.map((s) => [s.id, s]));
    const risks = p.predict(split.test.map((id: string) => byId.get(id)!)).map((r) => r.risk!);
    risks.forEach((r, i) => assert.ok(Math.abs(r - test.probs[i]!) < 1e-5, `sample ${i}: ${r} vs ${test.probs[i]}`));
  } finally {
    p.dispose();
  }
});

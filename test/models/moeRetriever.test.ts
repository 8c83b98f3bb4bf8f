import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tf } from '../../src/engine/tf.js';
import { Rng } from '../../src/engine/rng.js';
import { initEngine } from '../../src/engine/backend.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { fitNormalizer } from '../../src/data/normalize.js';
import { makeBatch } from '../../src/data/batch.js';
import type { Sample } from '../../src/data/schema.js';
import { parseConfig } from '../../src/config/parse.js';
import { buildModel } from '../../src/models/build.js';
import { MoERetrieverModel } from '../../src/models/moeRetriever.js';
import { ContextRetriever } from '../../src/moe/contextRetriever.js';
import { saveModel, loadModel } from '../../src/models/persist.js';
import { Predictor } from '../../src/serve/predictor.js';
import { sampleToJson } from '../../src/data/sources/jsonl.js';
import { taskLoss } from '../../src/train/taskLoss.js';
import { train } from '../../src/train/trainer.js';
import { tempDirs } from '../helpers/tempDir.js';

const tmp = tempDirs();

before(async () => {
  await initEngine({ backend: 'cpu' });
});

const data = generateSynthetic({ n: 60, seed: 5, task: 'multiclass', modalities: ['demo', 'vitals', 'notes'], missingness: { demo: 0.3, vitals: 0.3, notes: 0.4 } });
const norm = fitNormalizer(data.spec, data.samples);
const toBatch = (s: Sample[]) => makeBatch(data.spec, s, norm);
const trainSet = data.samples.slice(0, 40);
const testSet = data.samples.slice(40);
const M = data.spec.modalities.length;
const trainerDefaults = { ...parseConfig({ data: { type: 'synthetic' }, model: { type: 'baseline' } }, 'test').train, monitor: 'f1', patience: 0, loss: { type: 'default' as const, posWeight: 1, focalGamma: 2 } };

function retriever(extra: Record<string, unknown> = {}): MoERetrieverModel {
  const cfg = parseConfig(
    {
      data: { type: 'synthetic' },
      model: {
        type: 'moe-retriever',
        d: 16,
        heads: 2,
        dropout: 0,
        encoder: { kind: 'mean-pool-mlp', embeddingGamma: 2 },
        retrieval: { expertsPerModality: 2, sharedExperts: 1, topK: 2, hidden: 16 },
        fusion: { ffnHidden: 16 },
        ...extra,
      },
    },
    'test',
  );
  const model = buildModel(cfg.model, data.spec, 7) as MoERetrieverModel;
  model.setTrainingPool(trainSet, toBatch);
  return model;
}

const probsOf = (model: MoERetrieverModel, samples: Sample[]) => tf.tidy(() => tf.softmax(model.forward(toBatch(samples), { training: false }).logits).arraySync() as number[][]);
const missingSomething = (s: Sample) => data.spec.modalities.some((m) => s.modalities[m.name] === undefined);

test('the expert mask: a query for T only routes to T\'s experts and the shared ones', () => {
  const E = 3;
  const b = 2;
  const r = new ContextRetriever('r', { dim: 8, heads: 2, numModalities: 4, expertsPerModality: E, sharedExperts: b, topK: 3, hidden: 8, gating: 'softmax', router: true, averageContextOutput: false }, new Rng(1));
  const R = 12;
  const Lc = 5;
  const targets = Int32Array.from({ length: R }, (_, i) => i % 4);
  const mask = Float32Array.from({ length: R * Lc }, (_, i) => (i % Lc < 1 + (i % 3) ? 1 : 0));
  tf.tidy(() => {
    const out = r.apply(tf.randomNormal([R, Lc, 8], 0, 3, 'float32', 2) as tf.Tensor3D, mask, targets, { training: false });
    let routed = 0;
    for (let q = 0; q < R; q++) {
      const T = targets[q]!;
      for (let t = 0; t < Lc * 3; t++) {
        const e = out.topIdx[q * Lc * 3 + t]!;
        if (mask[q * Lc + Math.floor(t / 3)] === 0) {
          assert.equal(e, -1, 'padding is not routed');
          continue;
        }
        routed++;
        assert.ok((e >= T * E && e < (T + 1) * E) || e >= 4 * E, `query for modality ${T} routed to expert ${e}`);
      }
    }
    assert.ok(routed > 0);
    assert.equal(r.expertName(4, ['a', 'b', 'c', 'd']), 'b#1');
    assert.equal(r.expertName(13, ['a', 'b', 'c', 'd']), 'shared#1');
  });
  r.variables().forEach((v) => v.dispose());
});

test('model trace: every retrieval token routes inside its target pool + shared experts', () => {
  const model = retriever();
  try {
    const trace = model.retrievalTrace(toBatch(testSet))!;
    assert.ok(trace.queries.length > 0);
    trace.queries.forEach((q, r) => {
      for (let t = 0; t < trace.Lc * trace.K; t++) {
        const e = trace.topIdx[r * trace.Lc * trace.K + t]!;
        if (e < 0) continue;
        assert.ok((e >= q.target * 2 && e < q.target * 2 + 2) || e >= M * 2, `target ${q.target}, expert ${e}`);
      }
    });
  } finally {
    model.dispose();
  }
});

test('no test-to-test retrieval: a test sample\'s prediction does not change with the other test samples', () => {
  const target = testSet.findIndex(missingSomething);
  assert.ok(target >= 0);
  const model = retriever();
  try {
    const alone = probsOf(model, [testSet[target]!])[0]!;
    const withOthers = probsOf(model, testSet)[target]!;
    const reordered = probsOf(model, [...testSet.slice(0, 3), testSet[target]!])[3]!;
    alone.forEach((p, k) => {
      assert.ok(Math.abs(p - withOthers[k]!) < 1e-5, `class ${k}: ${p} alone vs ${withOthers[k]} with the test set`);
      assert.ok(Math.abs(p - reordered[k]!) < 1e-5);
    });
  } finally {
    model.dispose();
  }
  // the reference-code switch lets the evaluated batch join the pool: predictions now depend on it
  const leaky = retriever({ referenceCode: { evaluatedSamplesInPool: true } });
  try {
    const diffs = testSet.map((s, i) => {
      if (!missingSomething(s)) return 0;
      const a = probsOf(leaky, [s])[0]!;
      const b = probsOf(leaky, testSet)[i]!;
      return Math.max(...a.map((p, k) => Math.abs(p - b[k]!)));
    });
    assert.ok(Math.max(...diffs) > 1e-4, 'with evaluatedSamplesInPool the batch changes predictions');
  } finally {
    leaky.dispose();
  }
});

test('every missing strategy trains a step: finite loss, gradients reach encoders, retriever and missing embeddings', () => {
  for (const missing of ['moe-retriever', 'zeros', 'mean', 'learned-modality', 'learned-group', 'nearest-neighbour']) {
    const model = retriever({ missing });
    try {
      const vars = model.variables();
      const batch = toBatch(trainSet.slice(0, 16));
      const { grads, value } = tf.variableGrads(() => taskLoss(data.spec.task, model.forward(batch, { training: true, seed: 3 }).logits, batch.labels, { type: 'default', posWeight: 1, focalGamma: 2 }), vars);
      assert.ok(Number.isFinite(value.dataSync()[0]!), missing);
      const norm = (re: RegExp) => vars.filter((v) => re.test(v.name) && grads[v.name]).reduce((a, v) => a + tf.tidy(() => tf.sum(tf.abs(grads[v.name]!)).dataSync()[0]!), 0);
      assert.ok(norm(/^enc\./) > 0, `${missing}: encoders get gradient`);
      if (missing === 'moe-retriever') {
        assert.ok(norm(/^retriever\.moe\.gate\./) > 0, 'router gate is trained');
        assert.ok(norm(/^retriever\.moe\.expert\d+\./) > 0, 'experts are trained');
      }
      if (missing === 'learned-modality') assert.ok(norm(/^missing\./) > 0);
      if (missing === 'learned-group') assert.ok(norm(/^missing\.group$/) > 0);
      tf.dispose([value, ...Object.values(grads)]);
    } finally {
      model.dispose();
    }
  }
});

test('save/load round trip carries the embedding bank; Predictor and `predict --explain` work from the model dir alone', async () => {
  const model = retriever();
  const dir = tmp('retriever-');
  try {
    train({ model, task: data.spec.task, train: trainSet, val: testSet, toBatch, scoreValidation: () => ({ f1: 0 }), progress: false, log: () => {} }, { ...trainerDefaults, epochs: 1, seed: 1 });
    const before = probsOf(model, testSet);
    saveModel(dir, model, { model: model.cfg, spec: data.spec, normalizer: norm, maxTimesteps: 256, seed: 7 });
    model.dispose();
    assert.ok(existsSync(join(dir, 'retrieval-bank.safetensors')));
    const pool = JSON.parse(readFileSync(join(dir, 'retrieval-pool.json'), 'utf8')) as { ids: string[] };
    assert.deepEqual(pool.ids, trainSet.map((s) => s.id), 'the bank holds the training pool only');
    const loaded = loadModel(dir);
    try {
      const after = probsOf(loaded.model as MoERetrieverModel, testSet);
      before.forEach((row, i) => row.forEach((p, k) => assert.ok(Math.abs(p - after[i]![k]!) < 1e-5, `sample ${i} class ${k}`)));
    } finally {
      loaded.model.dispose();
    }
    const p = await Predictor.load(dir, { backend: 'cpu' });
    try {
      const s = testSet.find(missingSomething)!;
      const [r] = p.predict([s], { explain: true });
      assert.ok(r!.explanation!.routing!.retrieved!.length > 0);
      const missingNames = data.spec.modalities.filter((m) => s.modalities[m.name] === undefined).map((m) => m.name);
      for (const x of r!.explanation!.routing!.retrieved!) {
        assert.ok(missingNames.includes(x.modality));
        for (const e of x.experts) assert.match(e.expert, new RegExp(`^(${x.modality}|shared)#\\d+$`));
      }
    } finally {
      p.dispose();
    }
    // the CLI, from the model directory alone
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, testSet.map((s) => JSON.stringify(sampleToJson(data.spec, s))).join('\n') + '\n');
    const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const res = spawnSync(process.execPath, [cli, 'predict', '--model', dir, '--input', input, '--explain', '--backend', 'cpu'], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as { explanation: { routing: { retrieved: { modality: string; experts: unknown[] }[] } } });
    assert.equal(lines.length, testSet.length);
    assert.ok(lines.some((l) => l.explanation.routing.retrieved.length > 0 && l.explanation.routing.retrieved[0]!.experts.length > 0));
  } finally {
    if (model.variables()[0] && !model.variables()[0]!.isDisposed) model.dispose();
  }
});

test('a retriever without pool or bank says how to fix it', () => {
  const cfg = parseConfig({ data: { type: 'synthetic' }, model: { type: 'moe-retriever', d: 8, heads: 2, encoder: { kind: 'mean-pool-mlp' } } }, 'test');
  const model = buildModel(cfg.model, data.spec, 1);
  try {
    assert.throws(() => model.forward(toBatch(testSet.filter(missingSomething)), { training: false }), /retrieves from the training pool/);
  } finally {
    model.dispose();
  }
});

test('Fig. 3b/3c analyses: rows are shares, a target only uses its own pool + shared experts, fallbacks counted', async () => {
  const { retrieverUsage, retrieverUsageMarkdown, retrieverUsageHeatmaps } = await import('../../src/analysis/retrieverUsage.js');
  const model = retriever();
  try {
    const u = retrieverUsage(model, testSet, toBatch, { batchSize: 8, splits: { test: testSet } })!;
    const c = u.splitPools.test!;
    assert.equal(c.exact + c['observes-target'] + c.empty, u.queries, 'static split counts agree with the live retrievals');
    assert.ok(u.queries > 0);
    assert.equal(u.pools.exact + u.pools['observes-target'] + u.pools.empty, u.queries);
    for (const m of [u.byCombination, u.byTarget, u.tokensByExpert]) {
      m.values.forEach((row, i) => {
        const s = row.reduce((a, v) => a + v, 0);
        assert.ok(m.counts[i] === 0 ? s === 0 : Math.abs(s - 1) < 1e-9, `row ${m.rows[i]} sums to ${s}`);
      });
    }
    u.byTarget.rows.forEach((t, i) => {
      u.byTarget.cols.forEach((e, j) => {
        if (!e.startsWith(`${t}#`) && !e.startsWith('shared#')) assert.equal(u.byTarget.values[i]![j], 0, `${t} used ${e}`);
      });
    });
    assert.match(retrieverUsageMarkdown(u), /Fig\. 3b/);
    const svgs = await retrieverUsageHeatmaps(u);
    assert.equal(svgs.length, 3);
    for (const [, svg] of svgs) assert.match(svg, /^<svg/);
  } finally {
    model.dispose();
  }
});

test('learned-group trains through the trainer (its seen-groups mask has no gradient path) and marks the training groups seen', () => {
  const model = retriever({ missing: 'learned-group' });
  try {
    const r = train({ model, task: data.spec.task, train: trainSet, val: testSet, toBatch, scoreValidation: () => ({ f1: 0 }), progress: false, log: () => {} }, { ...trainerDefaults, epochs: 1, seed: 1 });
    assert.ok(Number.isFinite(r.history[0]!.trainLoss));
    const seen = model.variables().find((v) => v.name === 'missing.groupSeen')!;
    assert.ok(tf.tidy(() => tf.sum(seen).dataSync()[0]!) > 0);
  } finally {
    model.dispose();
  }
});

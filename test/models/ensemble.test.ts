import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { fitNormalizer } from '../../src/data/normalize.js';
import { makeBatch } from '../../src/data/batch.js';
import { parseConfig } from '../../src/config/parse.js';
import { buildModel } from '../../src/models/build.js';
import { EnsembleModel, snapshotWeights } from '../../src/models/ensemble.js';
import { saveModel, loadModel } from '../../src/models/persist.js';
import type { FusionModel } from '../../src/models/model.js';
import type { TaskSpec } from '../../src/data/schema.js';
import { tempDirs } from '../helpers/tempDir.js';

const tmp = tempDirs();

before(async () => {
  await initEngine({ backend: 'cpu' });
});

const data = generateSynthetic({ n: 24, seed: 3, missingness: { demo: 0.3, vitals: 0.3, notes: 0.5, labs: 0.4 } });
const norm = fitNormalizer(data.spec, data.samples);
const batch = makeBatch(data.spec, data.samples.slice(0, 10), norm);
const modelCfg = parseConfig(
  {
    data: { type: 'synthetic' },
    model: { type: 'fusemoe', d: 16, blocks: 1, heads: 2, dropout: 0, encoder: { kind: 'mtand', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 }, moe: { numExperts: 4, topK: 2, hidden: 16 } },
  },
  'test',
).model;

/** Members = the weights of models built with seeds 1, 2, 3; their logits [B, C] one by one. */
function membersAndLogits(): { members: Map<string, tf.Tensor>[]; logits: number[][][] } {
  const members: Map<string, tf.Tensor>[] = [];
  const logits: number[][][] = [];
  for (const s of [1, 2, 3]) {
    const m = buildModel(modelCfg, data.spec, s);
    logits.push(tf.tidy(() => m.forward(batch, { training: false }).logits.arraySync()));
    members.push(snapshotWeights(m));
    m.dispose();
  }
  return { members, logits };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

test('binary ensemble: logits are logit(mean of the members’ probabilities), member by member by hand', () => {
  const { members, logits } = membersAndLogits();
  assert.notDeepEqual(logits[0], logits[1], 'members differ');
  const ens = new EnsembleModel(buildModel(modelCfg, data.spec, 9), members, data.spec.task);
  try {
    const got = tf.tidy(() => ens.forward(batch, { training: false }).logits.arraySync());
    got.forEach((row, b) => {
      const p = (sigmoid(logits[0]![b]![0]!) + sigmoid(logits[1]![b]![0]!) + sigmoid(logits[2]![b]![0]!)) / 3;
      assert.ok(Math.abs(row[0]! - Math.log(p / (1 - p))) < 1e-4, `row ${b}: ${row[0]} vs ${Math.log(p / (1 - p))}`);
    });
    assert.throws(() => ens.forward(batch, { training: true }), /inference-only/);
  } finally {
    ens.dispose();
  }
});

test('multiclass combination: log of the mean softmax', () => {
  const task: TaskSpec = { kind: 'multiclass', name: 'c', classes: ['a', 'b', 'c'] };
  // a stand-in model whose logits are its single variable broadcast over the batch
  const v = tf.variable(tf.zeros([1, 3]), true, 'stub.w');
  const stub: FusionModel = {
    type: 'stub',
    forward: (b) => ({ logits: tf.tile(v, [b.size, 1]) as tf.Tensor2D }),
    variables: () => [v],
    dispose: () => v.dispose(),
  };
  const m1 = new Map([['stub.w', tf.tensor2d([[0, 1, 2]])]]);
  const m2 = new Map([['stub.w', tf.tensor2d([[2, 0, -1]])]]);
  const ens = new EnsembleModel(stub, [m1, m2], task);
  try {
    const row = tf.tidy(() => ens.forward(batch, { training: false }).logits.arraySync()[0]!);
    const sm = (z: number[]) => z.map((x) => Math.exp(x) / z.reduce((a, y) => a + Math.exp(y), 0));
    const p1 = sm([0, 1, 2]), p2 = sm([2, 0, -1]);
    row.forEach((x, k) => assert.ok(Math.abs(x - Math.log((p1[k]! + p2[k]!) / 2)) < 1e-5));
  } finally {
    ens.dispose();
  }
});

test('a member with a missing or mis-shaped weight is refused, naming it', () => {
  const base = buildModel(modelCfg, data.spec, 1);
  const good = snapshotWeights(base);
  const [name, t] = [...good][0]!;
  const bad = new Map(good);
  bad.set(name, tf.zeros([t.size + 1]));
  try {
    assert.throws(() => new EnsembleModel(base, [good, bad], data.spec.task), new RegExp(`member 1 weight '${name.replace(/\./g, '\\.')}' has shape`));
    const missing = new Map(good);
    missing.delete(name);
    assert.throws(() => new EnsembleModel(base, [missing], data.spec.task), /member 0 has no weight/);
  } finally {
    base.dispose();
    good.forEach((x) => x.dispose());
    bad.get(name)!.dispose();
  }
});

test('ensemble save → load gives the same risks; explanations average shares and tag experts with their member', () => {
  const { members } = membersAndLogits();
  const ens = new EnsembleModel(buildModel(modelCfg, data.spec, 1), members, data.spec.task);
  const dir = tmp('fm-ens-');
  let before: number[][];
  try {
    before = tf.tidy(() => ens.forward(batch, { training: false }).logits.arraySync());
    saveModel(dir, ens, { model: modelCfg, spec: data.spec, normalizer: norm, maxTimesteps: 256, seed: 1 });
  } finally {
    ens.dispose(); // variable names are global: the loaded copy needs them
  }
  {
    const { model, meta } = loadModel(dir);
    try {
      assert.equal(meta.ensembleMembers, 3);
      assert.ok(model instanceof EnsembleModel);
      const after = tf.tidy(() => model.forward(batch, { training: false }).logits.arraySync());
      after.forEach((row, b) => assert.ok(Math.abs(row[0]! - before[b]![0]!) < 1e-5));
      const ex = model.explain!(batch);
      assert.equal(ex.length, 10);
      for (const e of ex) {
        const total = Object.values(e.shares).reduce((a, x) => a + x, 0);
        assert.ok(Math.abs(total - 1) < 1e-4, `shares sum to 1 (${total})`);
        assert.ok(e.topExperts.length > 0 && e.topExperts.every((x) => x.member !== undefined && x.member >= 0 && x.member < 3));
        for (let i = 1; i < e.topExperts.length; i++) assert.ok(e.topExperts[i - 1]!.weight >= e.topExperts[i]!.weight);
      }
    } finally {
      model.dispose();
    }
  }
});

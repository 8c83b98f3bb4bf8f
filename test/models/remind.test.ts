import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { fitNormalizer } from '../../src/data/normalize.js';
import { makeBatch } from '../../src/data/batch.js';
import { parseConfig } from '../../src/config/parse.js';
import { buildModel } from '../../src/models/build.js';
import { saveModel, loadModel } from '../../src/models/persist.js';
import { RemindModel } from '../../src/models/remind.js';
import { GroupMissingEmbedding } from '../../src/models/groupMissingEmbedding.js';
import { taskLoss } from '../../src/train/taskLoss.js';
import { setVar } from '../nn/helpers.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

const data = generateSynthetic({ n: 24, seed: 3, missingness: { demo: 0.3, vitals: 0.3, notes: 0.5, labs: 0.4 } });
const norm = fitNormalizer(data.spec, data.samples);
const batch = makeBatch(data.spec, data.samples.slice(0, 12), norm);

function remind(extra: Record<string, unknown> = {}) {
  const cfg = parseConfig(
    {
      data: { type: 'synthetic' },
      model: { type: 'remind', d: 16, blocks: 2, heads: 2, dropout: 0, encoder: { kind: 'mtand', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 }, softMoe: { numExperts: 3, slotsPerExpert: 2, hidden: 8 }, ...extra },
    },
    'test',
  );
  return { model: buildModel(cfg.model, data.spec, 7) as RemindModel, cfg };
}

const lossOf = (out: { logits: tf.Tensor2D }) => taskLoss(data.spec.task, out.logits, batch.labels, { type: 'default', posWeight: 1, focalGamma: 2 });

test('REMIND: variable names follow the convention and every parameter but unswitched residuals gets a gradient', () => {
  const { model } = remind({ residualRouting: { enabled: true, threshold: 0 } });
  try {
    const names = model.variables().map((v) => v.name);
    for (const prefix of ['enc.', 'missing.group', 'fusion.block0.moe.gate.phi', 'fusion.block0.moe.gate.scale', 'fusion.block0.moe.gate.residual', 'fusion.block1.moe.expert2.w1', 'head.']) {
      assert.ok(names.some((n) => n.startsWith(prefix)), `no variable ${prefix}*`);
    }
    const vars = model.variables();
    const { grads, value } = tf.variableGrads(() => lossOf(model.forward(batch, { training: true, seed: 1 })), vars);
    assert.ok(Number.isFinite(value.dataSync()[0]!));
    const zero = vars
      .filter((v) => v.name !== 'missing.groupSeen') // the seen-groups mask is data, never on a gradient path
      .filter((v) => !grads[v.name] || tf.tidy(() => tf.max(tf.abs(grads[v.name]!)).dataSync()[0]!) === 0)
      .map((v) => v.name);
    assert.deepEqual(zero, []);
    // the residual of a group absent from the batch gets no gradient; present groups' rows do
    const rows = tf.tidy(() => Array.from(tf.sum(tf.abs(grads['fusion.block0.moe.gate.residual']!), [1, 2]).dataSync()));
    const present = new Set(model.routing(batch).groupIds);
    rows.forEach((r, g) => assert.equal(r > 0, present.has(g), `group ${g}`));
    tf.dispose([value, ...Object.values(grads)]);
    // the switch fired for every training sample (threshold 0) and was counted per group
    const counts = model.takeSwitchCounts();
    assert.equal(counts.reduce((a, c) => a + c.total, 0), 2 * batch.size);
    assert.ok(counts.every((c) => c.fired === c.total));
    assert.deepEqual(model.takeSwitchCounts(), []);
  } finally {
    model.dispose();
  }
});

test('Soft MoE fusion (no group embeddings, no residual routing) has per-modality missing tokens and no residuals', () => {
  const { model } = remind({ groupEmbeddings: false, residualRouting: { enabled: false } });
  try {
    const names = model.variables().map((v) => v.name);
    for (const m of data.spec.modalities) assert.ok(names.includes(`missing.${m.name}`));
    assert.ok(!names.some((n) => n.includes('residual') || n === 'missing.group'));
    const out = model.forward(batch, { training: true });
    assert.equal(out.auxTerms, undefined);
    assert.deepEqual(out.logits.shape, [batch.size, 1]);
  } finally {
    model.dispose();
  }
});

test('KL switch and masked absent tokens: finite logits; absent tokens get no dispatch weight', () => {
  const { model } = remind({ absentTokens: 'mask', residualRouting: { metric: 'kl' } });
  try {
    const r = model.routing(batch);
    const T = r.tokenModality.length;
    const S = 6;
    const M = data.spec.modalities.length;
    let checked = 0;
    for (let b = 0; b < batch.size; b++) {
      for (let t = 0; t < T; t++) {
        if (r.present[b * M + r.tokenModality[t]!]! > 0) continue;
        for (let s = 0; s < S; s++) assert.equal(r.blocks[0]!.dispatch[(b * T + t) * S + s], 0);
        checked++;
      }
    }
    assert.ok(checked > 0, 'the batch has absent modalities');
    assert.ok(Array.from(model.forward(batch, { training: false }).logits.dataSync()).every(Number.isFinite));
  } finally {
    model.dispose();
  }
});

test('explanations: modality shares sum to 1 over present modalities; experts ranked by combine weight', () => {
  const { model } = remind();
  try {
    const ex = model.explain(batch);
    assert.equal(ex.length, batch.size);
    const M = data.spec.modalities.length;
    ex.forEach((e, b) => {
      const tot = Object.values(e.shares).reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(tot - 1) < 1e-6);
      data.spec.modalities.forEach((m, j) => {
        if (!(batch.present[b * M + j]! > 0)) assert.equal(e.shares[m.name], 0);
      });
      for (let i = 1; i < e.topExperts.length; i++) assert.ok(e.topExperts[i - 1]!.weight >= e.topExperts[i]!.weight);
      const all = e.topExperts.reduce((a, x) => a + x.weight, 0);
      assert.ok(all <= 1 + 1e-6 && all > 0);
    });
  } finally {
    model.dispose();
  }
});

test('save/load round-trips REMIND: identical logits and the seen-groups mask', () => {
  const { model, cfg } = remind();
  const dir = mkdtempSync(join(tmpdir(), 'remind-'));
  try {
    tf.tidy(() => void model.forward(batch, { training: true, seed: 2 })); // marks the batch's groups as seen
    model.variables().find((v) => v.name === 'fusion.block0.moe.gate.residual')!.assign(tf.randomNormal([16, 16, 6], 0, 1, 'float32', 5));
    const seen = model.seenGroups();
    assert.ok(seen && seen.length > 0);
    const before = tf.tidy(() => Array.from(model.forward(batch, { training: false }).logits.dataSync()));
    saveModel(dir, model, { model: cfg.model, spec: data.spec, normalizer: norm, maxTimesteps: 256, seed: 7 });
    model.dispose();
    const loaded = loadModel(dir);
    try {
      assert.deepEqual((loaded.model as RemindModel).seenGroups(), seen);
      const after = tf.tidy(() => Array.from(loaded.model.forward(batch, { training: false }).logits.dataSync()));
      assert.deepEqual(after, before);
    } finally {
      loaded.model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('group embeddings: training marks groups seen; an unseen group at test time gets the mean of the seen groups', () => {
  const emb = new GroupMissingEmbedding('gme', 3, 4, new Rng(1));
  try {
    const table = emb.table.arraySync() as number[][];
    // before training: every group uses its own row (no fallback exists yet)
    assert.deepEqual(emb.lookup(Int32Array.from([5]), false).arraySync(), [table[5]]);
    assert.deepEqual(emb.seenGroups(), []);
    emb.lookup(Int32Array.from([1, 3, 3]), true);
    assert.deepEqual(emb.seenGroups(), [1, 3]);
    const got = emb.lookup(Int32Array.from([3, 6]), false).arraySync();
    assert.deepEqual(got[0], table[3]);
    got[1]!.forEach((v, k) => assert.ok(Math.abs(v - (table[1]![k]! + table[3]![k]!) / 2) < 1e-7));
    assert.throws(() => emb.lookup(Int32Array.from([8]), false), /group id 8 outside \[0, 8\)/);
    // a group first met in a later training pass starts from the default (fine-tuning a frozen table keeps it)
    const later = emb.lookup(Int32Array.from([6]), true).arraySync()[0]!;
    later.forEach((v, k) => assert.ok(Math.abs(v - got[1]![k]!) < 1e-7));
    assert.deepEqual(emb.seenGroups(), [1, 3, 6]);
    assert.deepEqual((emb.table.arraySync() as number[][])[3], table[3], 'seen rows are untouched');
    // the mask never receives a gradient (the optimizer leaves it alone), also for unseen groups
    const { grads } = tf.variableGrads(() => tf.sum(emb.lookup(Int32Array.from([1, 6]), true)) as tf.Scalar, emb.variables());
    assert.equal(grads[emb.seen.name], undefined);
    assert.ok(grads[emb.table.name]);
  } finally {
    emb.variables().forEach((v) => v.dispose());
  }
});

test('residual group embeddings: per-modality tokens + zero-initialised B_k; at initialisation the Soft MoE tokens; unseen groups keep the shared tokens', () => {
  const emb = new GroupMissingEmbedding('gme.res', 3, 4, new Rng(1), { residual: true });
  try {
    assert.ok((emb.table.dataSync() as Float32Array).every((v) => v === 0), 'rows start at 0');
    emb.lookup(Int32Array.from([1, 3]), true);
    setVar(emb.table, Array.from({ length: 8 * 4 }, (_, i) => Math.floor(i / 4) + (i % 4) / 10)); // row g: g + k/10
    const got = emb.lookup(Int32Array.from([3, 6]), false).arraySync();
    assert.deepEqual(got[0], [3, 3.1, 3.2, 3.3].map((v) => Math.fround(v)));
    assert.deepEqual(got[1], [0, 0, 0, 0], 'an unseen group: zero residual, not the mean');
    emb.lookup(Int32Array.from([6]), true); // first met in a later training pass: left at its own (zero-trained) row
    assert.deepEqual((emb.table.arraySync() as number[][])[6], [6, 6.1, 6.2, 6.3].map((v) => Math.fround(v)));
  } finally {
    emb.variables().forEach((v) => v.dispose());
  }

  // same seed: the residual model is the Soft MoE model plus B_k = 0 (one model at a time: variable names are global)
  const { model: soft } = remind({ groupEmbeddings: false, residualRouting: { enabled: false } });
  let b: Float32Array;
  try {
    b = tf.tidy(() => soft.forward(batch, { training: false }).logits.dataSync().slice() as Float32Array);
  } finally {
    soft.dispose();
  }
  const { model: res } = remind({ groupEmbeddings: 'residual', residualRouting: { enabled: false } });
  try {
    const names = res.variables().map((v) => v.name);
    for (const m of data.spec.modalities) assert.ok(names.includes(`missing.${m.name}`), `shared token missing.${m.name}`);
    assert.ok(names.includes('missing.group'));
    const a = tf.tidy(() => res.forward(batch, { training: false }).logits.dataSync().slice());
    assert.deepEqual(Array.from(a), Array.from(b));
    // B_k gets gradient exactly for the groups of the batch that miss a modality
    const vars = res.variables();
    const { grads, value } = tf.variableGrads(() => lossOf(res.forward(batch, { training: true, seed: 1 })), vars);
    const rows = tf.tidy(() => Array.from(tf.sum(tf.abs(grads['missing.group']!), 1).dataSync()));
    const full = 2 ** data.spec.modalities.length - 1;
    const withAbsent = new Set(Array.from(res.routing(batch).groupIds).filter((g) => g !== full));
    assert.ok(withAbsent.size > 0);
    rows.forEach((r, g) => assert.equal(r > 0, withAbsent.has(g), `group ${g}`));
    for (const m of data.spec.modalities) assert.ok(grads[`missing.${m.name}`], `shared token missing.${m.name} trained`);
    tf.dispose([value, ...Object.values(grads)]);
  } finally {
    res.dispose();
  }
});

test('FuseMoE with missing = "learned-group": B_k gets gradient only for groups with an absent modality in the batch', () => {
  const cfg = parseConfig(
    {
      data: { type: 'synthetic' },
      model: { type: 'fusemoe', d: 16, blocks: 1, heads: 2, dropout: 0, missing: 'learned-group', encoder: { kind: 'mtand', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 }, moe: { numExperts: 4, topK: 2, hidden: 16 } },
    },
    'test',
  );
  const model = buildModel(cfg.model, data.spec, 7);
  try {
    const names = model.variables().map((v) => v.name);
    assert.ok(names.includes('missing.group') && !names.includes(`missing.${data.spec.modalities[0]!.name}`));
    const { grads } = tf.variableGrads(() => lossOf(model.forward(batch, { training: true, seed: 1 })), model.variables());
    const rows = tf.tidy(() => Array.from(tf.sum(tf.abs(grads['missing.group']!), 1).dataSync()));
    const full = 2 ** data.spec.modalities.length - 1;
    const groups = new Set(batch.groupIds);
    rows.forEach((r, g) => assert.equal(r > 0, groups.has(g) && g !== full, `group ${g}`));
    tf.dispose(Object.values(grads));
  } finally {
    model.dispose();
  }
});

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { fitNormalizer } from '../../src/data/normalize.js';
import { makeBatch } from '../../src/data/batch.js';
import { parseConfig } from '../../src/config/parse.js';
import { buildModel } from '../../src/models/build.js';
import { taskLoss } from '../../src/train/taskLoss.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

const data = generateSynthetic({ n: 24, seed: 3, missingness: { demo: 0.3, vitals: 0.3, notes: 0.5, labs: 0.4 } });
const norm = fitNormalizer(data.spec, data.samples);
const batch = makeBatch(data.spec, data.samples.slice(0, 12), norm);

function fusemoe(moe: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const cfg = parseConfig(
    {
      data: { type: 'synthetic' },
      model: { type: 'fusemoe', d: 16, blocks: 2, heads: 2, dropout: 0, encoder: { kind: 'mtand', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 }, moe: { numExperts: 4, topK: 2, hidden: 16, entropyWeight: 0.1, loadWeight: 0.1, ...moe }, ...extra },
    },
    'test',
  );
  return buildModel(cfg.model, data.spec, 7);
}

for (const router of ['joint', 'per-modality', 'disjoint'] as const) {
  test(`FuseMoE (${router} router): finite logits, every variable gets a non-zero gradient`, () => {
    const model = fusemoe({ router, gating: 'laplace' });
    try {
      const vars = model.variables();
      const { grads, value } = tf.variableGrads(() => {
        const out = model.forward(batch, { training: true, seed: 1 });
        return tf.add(taskLoss(data.spec.task, out.logits, batch.labels, { type: 'default', posWeight: 1, focalGamma: 2 }), out.auxLoss!) as tf.Scalar;
      }, vars);
      assert.ok(Number.isFinite(value.dataSync()[0]!));
      const zero = vars
        .filter((v) => !/\.expert\d+\./.test(v.name)) // an expert may be unused by a tiny batch
        .filter((v) => tf.tidy(() => tf.max(tf.abs(grads[v.name]!)).dataSync()[0]!) === 0)
        .map((v) => v.name);
      assert.deepEqual(zero, [], `variables without gradient: ${zero.join(', ')}`);
      assert.ok(vars.some((v) => /gate/.test(v.name)), 'router weights are trained variables');
      tf.dispose([value, ...Object.values(grads)]);
    } finally {
      model.dispose();
    }
  });
}

test('learned missing embeddings are used only for absent modalities; zeros option has none', () => {
  const learned = fusemoe({ router: 'per-modality' });
  try {
    const names = learned.variables().map((v) => v.name);
    for (const m of data.spec.modalities) assert.ok(names.includes(`missing.${m.name}`));
  } finally {
    learned.dispose();
  }
  const zeros = fusemoe({ router: 'per-modality' }, { missing: 'zeros' });
  try {
    assert.ok(!zeros.variables().some((v) => v.name.startsWith('missing.')));
  } finally {
    zeros.dispose();
  }
});

test('inference is deterministic and explanations are normalised shares', () => {
  const model = fusemoe({ router: 'per-modality', noisyGating: true });
  try {
    const a = tf.tidy(() => model.forward(batch, { training: false }).logits.dataSync());
    const b = tf.tidy(() => model.forward(batch, { training: false }).logits.dataSync());
    assert.deepEqual(Array.from(a), Array.from(b));
    const ex = model.explain!(batch);
    assert.equal(ex.length, batch.size);
    for (const [b, e] of ex.entries()) {
      assert.equal(e.basis, 'tokens');
      const tot = Object.values(e.shares).reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(tot - 1) < 1e-6);
      assert.ok(e.topExperts.length > 0 && e.topExperts.length <= 5);
      for (const [m, share] of Object.entries(e.shares)) {
        const s = data.samples.find((x) => x.id === batch.ids[b])!;
        if (!s.modalities[m]) assert.equal(share, 0, `absent modality ${m} has no share`);
      }
    }
  } finally {
    model.dispose();
  }
});

test('FuseMoE forwardExplained: the same logits as forward and the same explanations as explain, in one pass; no aux losses at inference', () => {
  for (const router of ['joint', 'per-modality', 'disjoint'] as const) {
    const model = fusemoe({ router, gating: 'softmax' });
    try {
      const before = tf.memory().numTensors;
      const { logits, explanations } = model.forwardExplained!(batch);
      const out = model.forward(batch, { training: false });
      assert.deepEqual(Array.from(logits.dataSync()), Array.from(out.logits.dataSync()), `${router}: logits`);
      assert.deepEqual(explanations, model.explain!(batch), `${router}: explanations`);
      assert.equal(explanations.length, 12);
      assert.equal(out.auxLoss, undefined, 'inference forward skips the router losses');
      tf.dispose([logits, out.logits]);
      assert.equal(tf.memory().numTensors, before, `${router}: no tensors leaked`);
    } finally {
      model.dispose();
    }
  }
});

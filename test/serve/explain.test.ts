/**
 * Explanations that measure the model (issue 18 §4). Seen before: `modalityShares` was each
 * modality's token count over the total, so every sample of one shape got the same shares (8/13,
 * 4/13, 1/13) whatever the model or the values. Now `attribution.byModality[m]` =
 * p(record) − p(record with m missing), computed by the model:
 *   - on a hand-built late-fusion model whose output depends on modality `a` only, it equals the
 *     hand-computed probability difference (binary, multiclass, multilabel) and is 0 for `b`;
 *   - for every model type and router it equals the difference of two separate predictions,
 *     is finite, is 0 for a modality the record lacks, and differs between two records of one shape.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.js';
import { tf } from '../../src/engine/tf.js';
import { parseConfig } from '../../src/config/parse.js';
import { buildModel } from '../../src/models/build.js';
import type { FusionModel } from '../../src/models/model.js';
import { LateFusionBaseline } from '../../src/models/lateFusionBaseline.js';
import type { MoERetrieverModel } from '../../src/models/moeRetriever.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { fitNormalizer } from '../../src/data/normalize.js';
import { makeBatch } from '../../src/data/batch.js';
import { hasModality, type DatasetSpec, type Sample, type TaskSpec } from '../../src/data/schema.js';
import { explainPredictions, type ExplainMeta } from '../../src/serve/explain.js';
import { predictSamples, Predictor, type Prediction } from '../../src/serve/predictor.js';
import { saveModel, type ModelMeta } from '../../src/models/persist.js';
import { sampleToJson } from '../../src/data/sources/jsonl.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Two static one-feature modalities `a` and `b`. */
function handSpec(task: TaskSpec): DatasetSpec {
  return {
    name: 'hand',
    modalities: [
      { name: 'a', kind: 'static', features: ['x'] },
      { name: 'b', kind: 'static', features: ['y'] },
    ],
    task,
    horizonHours: 48,
  };
}

const record = (id: string, a: number | null, b: number | null): Sample => ({
  id,
  modalities: {
    a: a === null ? undefined : { kind: 'static', values: new Float64Array([a]) },
    b: b === null ? undefined : { kind: 'static', values: new Float64Array([b]) },
  },
  label: 0,
});

/** Assign a variable by its layer name (the suffix, so that per-instance name scoping does not matter). */
function setWeight(model: FusionModel, name: string, values: number[]): void {
  const v = model.variables().find((x) => x.name === name || x.name.endsWith(`/${name}`) || x.name.endsWith(`.${name}`) || x.name.endsWith(name));
  assert.ok(v, `variable ${name}`);
  v.assign(tf.tensor(values, v.shape));
}

/**
 * A late-fusion baseline (d = 1, linear head) whose logits are coef · x_a + bias: modality a's
 * static encoder passes x through exactly (gelu(x + 10) = x + 10 for x > −4, then −10), modality
 * b's encoder keeps its random weights but the head ignores it (and both presence flags).
 */
function handModel(spec: DatasetSpec, coef: number[], bias: number[]): LateFusionBaseline {
  const cfg = parseConfig({ data: { type: 'synthetic' }, model: { type: 'baseline', d: 1, hidden: [], dropout: 0, encoder: { kind: 'mean-pool-mlp' } } }, 'hand model').model;
  if (cfg.type !== 'baseline') throw new Error('unreachable');
  const model = new LateFusionBaseline(spec, cfg, 3);
  setWeight(model, 'enc.a.mlp.l0.w', [1, 0]); // [2F = 2, hidden d = 1]: value, mask
  setWeight(model, 'enc.a.mlp.l0.b', [10]);
  setWeight(model, 'enc.a.mlp.l1.w', [1]);
  setWeight(model, 'enc.a.mlp.l1.b', [-10]);
  const C = coef.length;
  // head input: [pooled_a, pooled_b, present_a, present_b] → C outputs
  setWeight(model, 'head.l0.w', [...coef, ...new Array<number>(3 * C).fill(0)]);
  setWeight(model, 'head.l0.b', bias);
  return model;
}

const meta = (spec: DatasetSpec): ExplainMeta => ({ spec, normalizer: null });

test('hand-built binary model: attribution of a = σ(2x−1) − σ(−1) (depends on the record), of b = 0', () => {
  const spec = handSpec({ kind: 'binary', name: 'death' });
  const model = handModel(spec, [2], [-1]);
  try {
    const samples = [record('r1', 0.8, 5), record('r2', -0.5, 5), record('r3', 1.5, null), record('r4', null, 2)];
    const { probs, explanations } = explainPredictions(model, meta(spec), samples);
    const xs = [0.8, -0.5, 1.5, null];
    explanations.forEach((e, i) => {
      const x = xs[i]!;
      const p = x === null ? sigmoid(-1) : sigmoid(2 * x - 1);
      assert.equal(e.id, samples[i]!.id);
      assert.equal(e.attribution.target, 'death');
      assert.ok(Math.abs(e.attribution.probability! - p) < 1e-6, `${e.id}: p ${e.attribution.probability} vs ${p}`);
      assert.equal(probs[i]![0], e.attribution.probability);
      const want = x === null ? 0 : p - sigmoid(-1);
      assert.ok(Math.abs(e.attribution.byModality.a! - want) < 1e-6, `${e.id}: a ${e.attribution.byModality.a} vs ${want}`);
      assert.ok(Math.abs(e.attribution.byModality.b!) < 1e-6, `${e.id}: b ${e.attribution.byModality.b}`);
      assert.equal(e.attribution.byOutput, undefined);
      assert.equal(e.routing, undefined, 'a baseline has no routing');
    });
    // two records of the same shape, different values: different attributions
    assert.notEqual(explanations[0]!.attribution.byModality.a, explanations[1]!.attribution.byModality.a);
    assert.ok(explanations[1]!.attribution.byModality.a! < 0, 'a value that lowers the risk gets a negative attribution');
  } finally {
    model.dispose();
  }
});

test('hand-built multiclass model: the predicted class\'s probability change, and every class in byOutput', () => {
  const spec = handSpec({ kind: 'multiclass', name: 'digit', classes: ['c0', 'c1', 'c2'] });
  const coef = [3, -1, 0];
  const bias = [0, 0.5, 0.2];
  const model = handModel(spec, coef, bias);
  const softmax = (z: number[]) => {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    return e.map((v) => v / s);
  };
  try {
    for (const x of [1.2, -0.7]) {
      const [e] = explainPredictions(model, meta(spec), [record('r', x, 3)]).explanations;
      const p = softmax(coef.map((c, i) => c * x + bias[i]!));
      const q = softmax(bias);
      const top = p.indexOf(Math.max(...p));
      assert.equal(e!.attribution.target, `c${top}`);
      assert.ok(Math.abs(e!.attribution.probability! - p[top]!) < 1e-6);
      assert.ok(Math.abs(e!.attribution.byModality.a! - (p[top]! - q[top]!)) < 1e-6);
      assert.ok(Math.abs(e!.attribution.byModality.b!) < 1e-6);
      p.forEach((pi, i) => {
        assert.ok(Math.abs(e!.attribution.byOutput!.a![`c${i}`]! - (pi - q[i]!)) < 1e-6);
        assert.ok(Math.abs(e!.attribution.byOutput!.b![`c${i}`]!) < 1e-6);
      });
    }
  } finally {
    model.dispose();
  }
});

test('hand-built multilabel model: per-label changes in byOutput; no single target', () => {
  const spec = handSpec({ kind: 'multilabel', name: 'phe', labels: ['l0', 'l1'] });
  const model = handModel(spec, [1.5, -2], [0.1, 0.3]);
  try {
    const x = 0.9;
    const [e] = explainPredictions(model, meta(spec), [{ ...record("r", x, 1), label: [0, 0] }]).explanations;
    assert.equal(e!.attribution.target, null);
    assert.equal(e!.attribution.probability, null);
    assert.deepEqual(e!.attribution.byModality, {});
    assert.ok(Math.abs(e!.attribution.byOutput!.a!.l0! - (sigmoid(1.5 * x + 0.1) - sigmoid(0.1))) < 1e-6);
    assert.ok(Math.abs(e!.attribution.byOutput!.a!.l1! - (sigmoid(-2 * x + 0.3) - sigmoid(0.3))) < 1e-6);
    assert.ok(Math.abs(e!.attribution.byOutput!.b!.l0!) < 1e-6 && Math.abs(e!.attribution.byOutput!.b!.l1!) < 1e-6);
  } finally {
    model.dispose();
  }
});

// every model type on synthetic data with three modality kinds and missing modalities
const data = generateSynthetic({ n: 40, seed: 11, modalities: ['demo', 'vitals', 'notes'], missingness: { demo: 0.3, vitals: 0.2, notes: 0.4 } });
const norm = fitNormalizer(data.spec, data.samples);
const modelMeta = { spec: data.spec, normalizer: norm, maxTimesteps: 256 } as ModelMeta;
const encoder = { kind: 'mtand', gamma: 4, dt: 4, heads: 2, embeddingGamma: 2 };
const models: [string, Record<string, unknown>][] = [
  ['baseline', { type: 'baseline', d: 8, hidden: [8], encoder }],
  ...(['per-modality', 'joint', 'disjoint'] as const).flatMap((router) =>
    (['laplace', 'softmax', 'gaussian', 'modified-softmax'] as const).map(
      (gating): [string, Record<string, unknown>] => [`fusemoe ${router} ${gating}`, { type: 'fusemoe', d: 8, blocks: 1, heads: 2, encoder, moe: { numExperts: 4, topK: 2, hidden: 8, router, gating } }],
    ),
  ),
  ['softmoe', { type: 'remind', d: 8, blocks: 1, heads: 2, encoder, softMoe: { numExperts: 4, slotsPerExpert: 1, hidden: 8 }, groupEmbeddings: false, residualRouting: { enabled: false } }],
  ['remind', { type: 'remind', d: 8, blocks: 1, heads: 2, encoder, softMoe: { numExperts: 4, slotsPerExpert: 1, hidden: 8 } }],
  ['moe-retriever', { type: 'moe-retriever', d: 8, heads: 2, encoder, retrieval: { expertsPerModality: 2, sharedExperts: 1, topK: 2, hidden: 8 }, fusion: { ffnHidden: 8 } }],
];

const without = (s: Sample, name: string): Sample => ({ ...s, modalities: { ...s.modalities, [name]: undefined } });

for (const [label, modelCfg] of models) {
  test(`${label}: attribution = p(record) − p(record without the modality) from separate predictions; finite; 0 for an absent modality`, () => {
    const cfg = parseConfig({ data: { type: 'synthetic' }, model: { dropout: 0, ...modelCfg } }, label).model;
    const model = buildModel(cfg, data.spec, 5);
    try {
      if (cfg.type === 'moe-retriever') (model as MoERetrieverModel).setTrainingPool(data.samples.slice(20), (s) => makeBatch(data.spec, s, norm));
      const samples = data.samples.slice(0, 8);
      assert.ok(samples.some((s) => data.spec.modalities.some((m) => !hasModality(s, m.name))), 'some record lacks a modality');
      const { probs, explanations } = explainPredictions(model, modelMeta, samples, { maxRowsPerPass: 9 }); // several passes
      const alone = (s: Sample) => predictSamples(model, modelMeta, [s])[0]!.risk!;
      let nonZero = 0;
      samples.forEach((s, i) => {
        const e = explanations[i]!;
        const p = alone(s);
        assert.ok(Math.abs(probs[i]![0]! - p) < 1e-5, `${s.id}: p in the variant batch ${probs[i]![0]} vs alone ${p}`);
        for (const m of data.spec.modalities) {
          const a = e.attribution.byModality[m.name]!;
          assert.ok(Number.isFinite(a), `${s.id} ${m.name}: ${a}`);
          if (!hasModality(s, m.name)) {
            assert.equal(a, 0, `${s.id} lacks ${m.name}`);
            continue;
          }
          const want = p - alone(without(s, m.name));
          assert.ok(Math.abs(a - want) < 1e-5, `${s.id} ${m.name}: ${a} vs ${want}`);
          if (Math.abs(a) > 1e-7) nonZero++;
        }
        if (cfg.type !== 'baseline') assert.ok(e.routing, `${label} reports routing statistics`);
      });
      assert.ok(nonZero > 0, 'the model responds to some modality');
    } finally {
      model.dispose();
    }
  });
}

test('FuseMoE: two records of one shape get the same routing token shares but different attributions (the Seen case)', () => {
  const cfg = parseConfig({ data: { type: 'synthetic' }, model: { type: 'fusemoe', d: 8, blocks: 1, heads: 2, dropout: 0, encoder, moe: { numExperts: 4, topK: 2, hidden: 8 } } }, 'fusemoe').model;
  const model = buildModel(cfg, data.spec, 5);
  try {
    const s = data.samples.find((x) => data.spec.modalities.every((m) => hasModality(x, m.name)))!;
    // the same shape: every value shifted
    const shifted: Sample = {
      ...s,
      id: 'shifted',
      modalities: Object.fromEntries(
        Object.entries(s.modalities).map(([k, v]) => {
          if (!v) return [k, v];
          if (v.kind === 'embedding') return [k, { ...v, vectors: v.vectors.map((x) => x.map((y) => y + 1.5)) }];
          return [k, { ...v, values: v.values.map((y) => y + 1.5) }];
        }),
      ),
    };
    const [e1, e2] = explainPredictions(model, modelMeta, [s, shifted]).explanations;
    assert.equal(e1!.routing!.basis, 'tokens');
    for (const m of data.spec.modalities) assert.ok(Math.abs(e1!.routing!.shares[m.name]! - e2!.routing!.shares[m.name]!) < 1e-6, `token shares follow the shape only: ${JSON.stringify(e1!.routing)} vs ${JSON.stringify(e2!.routing)}`);
    assert.ok(
      data.spec.modalities.some((m) => Math.abs(e1!.attribution.byModality[m.name]! - e2!.attribution.byModality[m.name]!) > 1e-6),
      `attributions differ: ${JSON.stringify(e1!.attribution.byModality)} vs ${JSON.stringify(e2!.attribution.byModality)}`,
    );
  } finally {
    model.dispose();
  }
});

test('`predict --explain` on a baseline model (refused before: "no experts to explain") prints the attribution Predictor computes', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-explain-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = parseConfig({ data: { type: 'synthetic' }, model: { type: 'baseline', d: 8, hidden: [8], dropout: 0, encoder } }, 'baseline').model;
  const model = buildModel(cfg, data.spec, 2);
  saveModel(join(dir, 'model'), model, { model: cfg, spec: data.spec, normalizer: norm, maxTimesteps: 256, threshold: 0.5, seed: 2 });
  model.dispose();
  const some = data.samples.slice(0, 6);
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, some.map((s) => JSON.stringify(sampleToJson(data.spec, s))).join('\n') + '\n');
  const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const res = spawnSync(process.execPath, [cli, 'predict', '--model', join(dir, 'model'), '--input', input, '--explain'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as Prediction);
  const p = await Predictor.load(join(dir, 'model'));
  try {
    const direct = p.predict(some, { explain: true });
    assert.equal(lines.length, some.length);
    lines.forEach((l, i) => {
      assert.equal(l.explanation!.attribution.target, data.spec.task.name);
      assert.equal(l.explanation!.attribution.probability, l.risk);
      assert.equal(l.explanation!.routing, undefined);
      for (const m of data.spec.modalities) assert.ok(Math.abs(l.explanation!.attribution.byModality[m.name]! - direct[i]!.explanation!.attribution.byModality[m.name]!) < 1e-6);
    });
  } finally {
    p.dispose();
  }
});

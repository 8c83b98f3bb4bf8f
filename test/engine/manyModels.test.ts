/**
 * Many models in one process (issue 18 §1): variables are scoped per model instance, so two
 * different models, two copies of one model and a training beside a loaded Predictor all work;
 * files keep the logical weight names; disposing frees every tensor; a failed runExperiment leaves
 * no directory it created itself.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { tf } from '../../src/engine/tf.js';
import { param, paramName } from '../../src/engine/params.js';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';
import { Predictor } from '../../src/serve/predictor.js';
import { loadModel, saveModel } from '../../src/models/persist.js';
import { decodeSafetensors } from '../../src/engine/weights.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { sampleToJson } from '../../src/data/sources/jsonl.js';
import { INCOMPLETE_FILE } from '../../src/run/runDirectory.js';

const quiet = () => {};
const root = mkdtempSync(join(tmpdir(), 'fm-many-'));
after(() => rmSync(root, { recursive: true, force: true }));

const fusemoe = {
  type: 'fusemoe',
  d: 8,
  encoder: { kind: 'mean-pool-mlp' },
  blocks: 1,
  heads: 2,
  dropout: 0.1,
  moe: { numExperts: 4, topK: 2, hidden: 8, gating: 'laplace', router: 'per-modality' },
  missing: 'learned',
};
const baseline = { type: 'baseline', d: 8, encoder: { kind: 'mean-pool-mlp' }, hidden: [8], dropout: 0.1 };

function config(name: string, model: Record<string, unknown>, train: Record<string, unknown> = {}) {
  return parseConfig(
    { name, seeds: [1], data: { type: 'synthetic', n: 120, seed: 3, missingness: 'long-tail' }, model, train: { epochs: 1, batchSize: 32, patience: 0, ...train } },
    'test config',
  );
}

// Raw records (the JSONL sample format) a service would send.
const synth = generateSynthetic({ n: 12, seed: 11, missingness: 'long-tail' });
const records = synth.samples.map((s) => sampleToJson(synth.spec, s));
let moeDir = '';
let baseDir = '';

before(async () => {
  await initEngine({ backend: 'wasm' });
  moeDir = join(root, 'moe');
  baseDir = join(root, 'base');
  await runExperiment(config('moe', fusemoe), { baseDir: '.', outDir: moeDir, log: quiet, progress: false });
  await runExperiment(config('base', baseline), { baseDir: '.', outDir: baseDir, log: quiet, progress: false });
});

/** Predictions of a model loaded alone (loaded, used, disposed). */
async function alone(dir: string) {
  const p = await Predictor.load(dir);
  try {
    return p.predict(records);
  } finally {
    p.dispose();
  }
}

test('two copies of one model and a different model predict side by side, as each does alone', async () => {
  const moeAlone = await alone(moeDir);
  const baseAlone = await alone(baseDir);
  const a = await Predictor.load(moeDir);
  const b = await Predictor.load(moeDir); // failed before: "Variable with name ... was already registered"
  const c = await Predictor.load(baseDir);
  try {
    assert.deepEqual(a.predict(records), moeAlone);
    assert.deepEqual(b.predict(records), moeAlone);
    assert.deepEqual(c.predict(records), baseAlone);
    // the explain pass batches each record with its one-modality-removed variants (B·(M+1) rows); with
    // the native BLAS the blocking depends on the row count, so a row may differ in its last bits
    const explained = a.predict(records, { explain: true }).map((r) => r.risk!);
    explained.forEach((r, i) => assert.ok(Math.abs(r - moeAlone[i]!.risk!) < 1e-6, `record ${i}: ${r} vs ${moeAlone[i]!.risk}`));
    // same logical names, distinct engine names
    const va = a.model.variables();
    const vb = b.model.variables();
    assert.deepEqual(va.map(paramName), vb.map(paramName));
    assert.ok(va.every((v, i) => v.name !== vb[i]!.name));
  } finally {
    a.dispose();
    b.dispose();
    c.dispose();
  }
  // disposing one copy leaves the other intact
  const d = await Predictor.load(moeDir);
  const e = await Predictor.load(moeDir);
  d.dispose();
  try {
    assert.deepEqual(e.predict(records), moeAlone);
  } finally {
    e.dispose();
  }
});

test('a training (AdamW, EMA, checkpoints, collapse detector) runs while a Predictor of the same architecture is loaded', async () => {
  const p = await Predictor.load(moeDir);
  const before = p.predict(records);
  try {
    const out = join(root, 'train-while-serving');
    const res = await runExperiment(config('moe2', fusemoe, { epochs: 2, ema: 0.9, collapseDetector: true }), { baseDir: '.', outDir: out, log: quiet, progress: false });
    assert.equal(res.seeds[0]!.members[0]!.history.length, 2);
    assert.deepEqual(p.predict(records), before, 'the loaded model is untouched by the training');
    // the run trained while p held the bare engine names: its files still use the logical names
    const trained = decodeSafetensors(readFileSync(join(out, 'model', 'weights.safetensors')));
    assert.deepEqual([...trained.keys()].sort(), p.model.variables().map(paramName).sort());
    trained.forEach((t) => t.dispose());
  } finally {
    p.dispose();
  }
});

test('weights saved from a second copy are byte-identical to those of the first (logical names, same format)', async () => {
  const a = loadModel(moeDir);
  const b = loadModel(moeDir);
  try {
    assert.notEqual(a.model.variables()[0]!.name, b.model.variables()[0]!.name);
    const da = join(root, 'save-a');
    const db = join(root, 'save-b');
    saveModel(da, a.model, a.meta);
    saveModel(db, b.model, b.meta);
    assert.ok(readFileSync(join(da, 'weights.safetensors')).equals(readFileSync(join(db, 'weights.safetensors'))));
    assert.ok(readFileSync(join(db, 'weights.safetensors')).equals(readFileSync(join(moeDir, 'model', 'weights.safetensors'))), 'the same bytes as the trained file');
  } finally {
    a.model.dispose();
    b.model.dispose();
  }
});

test('a model directory written before per-instance names (fixture) loads and predicts', async () => {
  const fixture = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'model-v0.1-baseline');
  const p1 = await Predictor.load(fixture);
  const p2 = await Predictor.load(fixture);
  try {
    const spec = p1.meta.spec;
    const one = generateSynthetic({ n: 4, seed: 5, missingness: 'long-tail' });
    const raw = one.samples.map((s) => sampleToJson(spec, s));
    const r1 = p1.predict(raw);
    assert.deepEqual(p2.predict(raw), r1);
    const expected = JSON.parse(readFileSync(join(fixture, 'expected-predictions.json'), 'utf8')) as { risk: number }[];
    r1.forEach((r, i) => assert.ok(Math.abs(r.risk! - expected[i]!.risk) < 1e-5, `sample ${i}: ${r.risk} vs ${expected[i]!.risk} (the old code's prediction)`));
  } finally {
    p1.dispose();
    p2.dispose();
  }
});

test('load / predict / dispose 200 times: the tensor count returns to its start, memory stays bounded', async () => {
  const cycle = async () => {
    const p = await Predictor.load(moeDir);
    p.predict(records.slice(0, 4), { explain: true });
    p.dispose();
  };
  await cycle(); // warm-up: kernels, caches
  const tensors = tf.memory().numTensors;
  const varsBefore = Object.keys(tf.engine().registeredVariables).length;
  for (let i = 0; i < 20; i++) await cycle();
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 180; i++) await cycle();
  const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind');
  assert.equal(Object.keys(tf.engine().registeredVariables).length, varsBefore, 'no variable left registered');
  assert.ok(grown < 40, `RSS grew ${grown.toFixed(1)} MB over 180 cycles`);
});

test('param(): a disposed variable frees its engine name; logical names survive', () => {
  const x = tf.tidy(() => param(tf.zeros([2]), true, 'p.test.w'));
  const y = tf.tidy(() => param(tf.ones([2]), true, 'p.test.w'));
  assert.equal(x.name, 'p.test.w', 'the first holder keeps the bare name (one model per process: unchanged names)');
  assert.match(y.name, /^p\.test\.w#\d+$/);
  assert.equal(paramName(y), 'p.test.w');
  x.dispose();
  const z = tf.tidy(() => param(tf.ones([2]), true, 'p.test.w'));
  assert.equal(z.name, 'p.test.w');
  y.dispose();
  z.dispose();
  const plain = tf.variable(tf.zeros([1]), true, 'plain.v');
  assert.equal(paramName(plain), 'plain.v', 'a variable made elsewhere: its own name');
  plain.dispose();
});

test('a failed runExperiment removes the incomplete directory it created, unless asked to keep it', async () => {
  const bad = parseConfig({ name: 'bad', seeds: [1], data: { type: 'jsonl', path: join(root, 'no-such-file.jsonl') }, model: baseline }, 'test config');
  const fresh = join(root, 'failed-fresh');
  await assert.rejects(runExperiment(bad, { baseDir: '.', outDir: fresh, log: quiet, progress: false }));
  assert.ok(!existsSync(fresh), 'no INCOMPLETE directory is left behind');

  const kept = join(root, 'failed-kept');
  await assert.rejects(runExperiment(bad, { baseDir: '.', outDir: kept, log: quiet, progress: false, keepIncomplete: true }));
  assert.ok(existsSync(join(kept, INCOMPLETE_FILE)), 'kept on request, marked incomplete');

  const existing = join(root, 'failed-existing');
  mkdirSync(existing);
  await assert.rejects(runExperiment(bad, { baseDir: '.', outDir: existing, log: quiet, progress: false }));
  assert.ok(existsSync(existing), 'a directory the caller made is not deleted');
  assert.ok(readdirSync(existing).includes(INCOMPLETE_FILE));
});

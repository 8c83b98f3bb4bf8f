/**
 * Batch prediction without holding the host's event loop (issue 18 §3): Predictor.predictAsync
 * (same thread, yields between batches) and predictInWorker (a worker thread) give the same
 * predictions as Predictor.predict, report progress, stop on an AbortSignal, and let a host
 * interval fire between batches.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { parseConfig } from '../../src/config/parse.js';
import { buildModel } from '../../src/models/build.js';
import { saveModel } from '../../src/models/persist.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { fitNormalizer } from '../../src/data/normalize.js';
import { sampleToJson } from '../../src/data/sources/jsonl.js';
import { Predictor } from '../../src/serve/predictor.js';
import { predictInWorker } from '../../src/worker/predictInWorker.js';
import { AbortError } from '../../src/worker/protocol.js';
import { FlexiModalError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'fm-predict-worker-'));
const modelDir = join(dir, 'model');
const data = generateSynthetic({ n: 300, seed: 8, missingness: 'long-tail' });
const records = data.samples.map((s) => sampleToJson(data.spec, s));

before(async () => {
  await initEngine({ backend: 'wasm' });
  const cfg = parseConfig(
    { data: { type: 'synthetic' }, model: { type: 'fusemoe', d: 8, blocks: 1, heads: 2, dropout: 0, encoder: { kind: 'mtand', gamma: 4, dt: 4, heads: 2, embeddingGamma: 2 }, moe: { numExperts: 4, topK: 2, hidden: 8 } } },
    'test',
  );
  const model = buildModel(cfg.model, data.spec, 1);
  saveModel(modelDir, model, { model: cfg.model, spec: data.spec, normalizer: fitNormalizer(data.spec, data.samples), maxTimesteps: 256, threshold: 0.5, seed: 1 });
  model.dispose();
});
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('predictAsync and predictInWorker: the same predictions (and explanations) as predict, progress per batch', { timeout: 120_000 }, async () => {
  const p = await Predictor.load(modelDir);
  try {
    const some = records.slice(0, 40);
    const direct = p.predict(some, { explain: true });
    const progress: number[] = [];
    const viaAsync = await p.predictAsync(some, { explain: true, batchSize: 16, onProgress: (e) => progress.push(e.done) });
    assert.deepEqual(progress, [16, 32, 40]);
    const workerProgress: number[] = [];
    const viaWorker = await predictInWorker(modelDir, some, { explain: true, batchSize: 16, onProgress: (e) => workerProgress.push(e.done) });
    assert.deepEqual(workerProgress, [16, 32, 40]);
    for (const [name, got] of [['predictAsync', viaAsync], ['predictInWorker', viaWorker]] as const) {
      assert.equal(got.length, direct.length);
      got.forEach((r, i) => {
        const d = direct[i]!;
        assert.equal(r.id, d.id);
        assert.ok(Math.abs(r.risk! - d.risk!) < 1e-5, `${name} ${r.id}: ${r.risk} vs ${d.risk}`);
        for (const [m, a] of Object.entries(d.explanation!.attribution.byModality)) assert.ok(Math.abs(r.explanation!.attribution.byModality[m]! - a) < 1e-5, `${name} ${r.id} ${m}`);
        assert.equal(r.explanation!.routing!.basis, 'tokens');
      });
    }
  } finally {
    p.dispose();
  }
});

test('predictAsync lets a host interval fire between batches; an AbortSignal stops both APIs with an AbortError', { timeout: 120_000 }, async () => {
  const p = await Predictor.load(modelDir);
  try {
    let fires = 0;
    let batches = 0;
    // a 0 ms interval fires once per loop turn: between every two batches when the loop is free
    const timer = setInterval(() => fires++, 0);
    await p.predictAsync(records, { batchSize: 20, onProgress: () => batches++ });
    clearInterval(timer);
    assert.equal(batches, 15);
    assert.ok(fires >= batches / 2, `the interval fired ${fires} times over ${batches} batches`);

    const ac = new AbortController();
    await assert.rejects(
      p.predictAsync(records, { batchSize: 20, signal: ac.signal, onProgress: (e) => e.done === 40 && ac.abort() }),
      (e: unknown) => e instanceof AbortError && /after 40 of 300/.test(e.message),
    );
    const ac2 = new AbortController();
    await assert.rejects(
      predictInWorker(modelDir, records, { batchSize: 20, signal: ac2.signal, onProgress: (e) => e.done === 40 && ac2.abort() }),
      (e: unknown) => e instanceof AbortError && e.name === 'AbortError',
    );
  } finally {
    p.dispose();
  }
});

test('predictInWorker: a bad record is a FlexiModalError naming it, as in-process', { timeout: 120_000 }, async () => {
  const bad = [...records.slice(0, 70), { modalities: {} }]; // no id: named by its index
  const p = await Predictor.load(modelDir);
  let inProcess: unknown;
  try {
    p.predict(bad);
  } catch (e) {
    inProcess = e;
  } finally {
    p.dispose();
  }
  assert.ok(inProcess instanceof FlexiModalError);
  assert.match((inProcess as Error).message, /sample #70/);
  // batches of 64: the bad record is the 7th of the second batch, still named #70
  await assert.rejects(predictInWorker(modelDir, bad), (e: unknown) => e instanceof FlexiModalError && e.message === (inProcess as Error).message);
});

/**
 * ONNX export equivalence: tiny models of every exported type and gating are trained in-process
 * (a few epochs), exported with exportOnnx, run in onnxruntime-node and compared with our own
 * predictions (Predictor, wasm backend) to 1e-4 in probability, at batch sizes 1 and 64, on real
 * data (PhysioNet 2012 set-a sample, UCI mfeat) when present and on synthetic data (which has a
 * timed-embedding modality) always. The raw-record path (JSONL sample objects →
 * recordsToOnnxTensors) feeds onnxruntime, the same objects feed Predictor.predict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';
import { Predictor } from '../../src/serve/predictor.js';
import { loadDataset } from '../../src/data/load.js';
import { sampleToJson } from '../../src/data/sources/jsonl.js';
import type { Dataset } from '../../src/data/schema.js';
import { exportOnnx, recordsToOnnxTensors, type OnnxSidecar } from '../../src/export/onnx/index.js';
import { FlexiModalError } from '../../src/errors.js';

type Ort = typeof import('onnxruntime-node');
const require = createRequire(import.meta.url);
let ort: Ort | null = null;
let ortWhy = '';
try {
  ort = require('onnxruntime-node') as Ort;
} catch (e) {
  ortWhy = `onnxruntime-node is not installed (${(e as Error).message.split('\n')[0]})`;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The shared data folder: ../shared/data beside the repo, or /work/shared/data. */
const sharedData = [resolve(repoRoot, '../shared/data'), '/work/shared/data'].find((p) => existsSync(p)) ?? resolve(repoRoot, '../shared/data');
const P12 = join(sharedData, 'physionet2012', 'sample');
const MFEAT = join(sharedData, 'uci-mfeat');

const quiet = (): void => {};

/** Train a tiny model with `model` on `data`; returns its model directory. */
async function trainTiny(t: { after: (fn: () => void) => void }, data: Record<string, unknown>, model: Record<string, unknown>, epochs = 1): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'fm-onnx-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const cfg = parseConfig({ seeds: [1], data, split: { fractions: [0.6, 0.2, 0.2] }, model, train: { epochs, batchSize: 16, patience: 0 } }, 'onnx test');
  await runExperiment(cfg, { baseDir: '.', outDir: out, log: quiet, progress: false });
  return join(out, 'seeds', '1', 'model');
}

/** Batches of 1 and of 64 records (records repeated when the data have fewer). */
function batchesOf(records: Record<string, unknown>[]): Record<string, unknown>[][] {
  const big = Array.from({ length: 64 }, (_, i) => ({ ...records[i % records.length]!, id: `r${i}` }));
  return [[records[0]!], big];
}

/** Export, run in onnxruntime and compare with Predictor on the same records. */
async function assertEquivalent(t: { after: (fn: () => void) => void }, modelDir: string, records: Record<string, unknown>[], label: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fm-onnx-out-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const onnxPath = join(dir, 'model.onnx');
  const report = await exportOnnx(modelDir, onnxPath);
  const sidecar = JSON.parse(readFileSync(`${onnxPath}.json`, 'utf8')) as OnnxSidecar;
  const session = await ort!.InferenceSession.create(onnxPath);
  assert.deepEqual([...session.inputNames].sort(), sidecar.inputs.map((i) => i.name).sort(), 'the sidecar documents exactly the graph inputs');
  assert.deepEqual([...session.outputNames], ['logits', 'probabilities']);
  const predictor = await Predictor.load(modelDir);
  try {
    for (const batch of batchesOf(records)) {
      const ours = predictor.predict(batch);
      const { tensors } = recordsToOnnxTensors(predictor.meta, batch, { retrieval: sidecar.retrieval });
      for (const inp of sidecar.inputs) {
        const tns = tensors[inp.name]!;
        assert.equal(tns.dims.length, inp.shape.length, `${inp.name} rank`);
        inp.shape.forEach((d, k) => typeof d === 'number' && assert.equal(tns.dims[k], d, `${inp.name} dim ${k}`));
      }
      const feeds = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, new ort!.Tensor('float32', v.data, v.dims)]));
      const res = await session.run(feeds);
      const probs = res.probabilities!.data as Float32Array;
      const C = res.probabilities!.dims[1]!;
      assert.equal(res.probabilities!.dims[0], batch.length);
      let worst = 0;
      ours.forEach((p, b) => {
        const row = Object.values(p.probs);
        assert.equal(row.length, C);
        row.forEach((q, c) => {
          assert.ok(Number.isFinite(probs[b * C + c]!), `${label}: ONNX output is finite`);
          worst = Math.max(worst, Math.abs(q - probs[b * C + c]!));
        });
      });
      console.log(`# ${label}: batch ${batch.length}, max |Δp| = ${worst.toExponential(2)}`);
      assert.ok(worst < 1e-4, `${label} (batch ${batch.length}, ${report.nodes} nodes): max |Δp| = ${worst}`);
      if (sidecar.retrieval && batch.length > 1) {
        // the drawn members matter: without them (all −1) some predictions change
        const m = tensors['retrieval.members']!;
        const none = await session.run({ ...feeds, 'retrieval.members': new ort!.Tensor('float32', new Float32Array(m.data.length).fill(-1), m.dims) });
        const p2 = none.probabilities!.data as Float32Array;
        assert.ok(p2.some((x, i) => Math.abs(x - probs[i]!) > 1e-5), `${label}: retrieval.members changes the output`);
      }
    }
  } finally {
    predictor.dispose();
    await session.release();
  }
}

function recordsOf(ds: Dataset, n: number): Record<string, unknown>[] {
  return ds.samples.slice(0, n).map((s) => sampleToJson(ds.spec, s));
}

const synthetic = { type: 'synthetic', n: 120, seed: 3, missingness: 'long-tail' };
const tiny = { d: 8, heads: 2 };
const enc = (kind: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ kind, gamma: 4, dt: 4, heads: 2, embeddingGamma: 4, ...extra });

/** Every model type and gating, on synthetic data (time series, static and timed embeddings). */
const syntheticCases: [string, Record<string, unknown>][] = [
  ['baseline + mean-pool-mlp', { type: 'baseline', d: 8, hidden: [8], encoder: enc('mean-pool-mlp', { summaryStats: 'extended' }) }],
  ['fusemoe softmax per-modality + utde k=2 + keepLast', { type: 'fusemoe', ...tiny, blocks: 1, encoder: enc('utde', { kernelSize: 2, keepLast: 2 }), moe: { router: 'per-modality', gating: 'softmax', numExperts: 4, topK: 2, hidden: 8 } }],
  ['fusemoe gaussian joint + mtand', { type: 'fusemoe', ...tiny, blocks: 1, encoder: enc('mtand'), moe: { router: 'joint', gating: 'gaussian', numExperts: 3, topK: 1, hidden: 8 } }],
  ['fusemoe laplace disjoint + summary token + group missing', { type: 'fusemoe', ...tiny, blocks: 2, missing: 'learned-group', pooling: 'per-modality', encoder: enc('mtand', { summaryToken: true }), moe: { router: 'disjoint', gating: 'laplace', numExperts: 3, topK: 2, hidden: 8 } }],
  ['fusemoe modified-softmax (l2) flattened-sample routing', { type: 'fusemoe', ...tiny, blocks: 1, missing: 'zeros', encoder: enc('mtand'), moe: { router: 'disjoint', gating: 'modified-softmax', modifiedGateFn: 'l2-normalize', numExperts: 3, topK: 2, hidden: 8 }, referenceCode: { flattenedSequenceRouting: true } }],
  ['remind (group embeddings, absent tokens masked)', { type: 'remind', ...tiny, blocks: 1, absentTokens: 'mask', encoder: enc('utde'), softMoe: { numExperts: 3, slotsPerExpert: 2, hidden: 8 } }],
  ['moe-retriever type, learned-group fill, transformer fusion', { type: 'moe-retriever', ...tiny, missing: 'learned-group', encoder: enc('mtand'), fusion: { type: 'transformer', blocks: 1, ffnHidden: 8 } }],
  ['moe-retriever type, bank-mean fill, MoE fusion (laplace)', { type: 'moe-retriever', ...tiny, missing: 'mean', encoder: enc('mean-pool-mlp'), fusion: { type: 'moe', blocks: 1, moe: { numExperts: 3, topK: 2, hidden: 8 } } }],
  ['MoE-Retriever (retrieval from the bank, context-aware routing)', { type: 'moe-retriever', ...tiny, encoder: enc('mean-pool-mlp'), retrieval: { expertsPerModality: 2, sharedExperts: 1, topK: 2, hidden: 8 } }],
  ['MoE-Retriever (laplace router, fixed 2 intra samples)', { type: 'moe-retriever', ...tiny, encoder: enc('utde'), fusion: { type: 'moe', blocks: 1, moe: { numExperts: 2, topK: 1, hidden: 8 } }, retrieval: { expertsPerModality: 2, sharedExperts: 1, topK: 2, hidden: 8, gating: 'laplace', intraSamples: 2 } }],
  ['MoE-Retriever (no router, no inter context)', { type: 'moe-retriever', ...tiny, encoder: enc('mean-pool-mlp'), retrieval: { router: false, interContext: false } }],
  ['soft moe (no group embeddings)', { type: 'remind', ...tiny, blocks: 1, groupEmbeddings: false, encoder: enc('mtand'), softMoe: { numExperts: 2, slotsPerExpert: 1, hidden: 8 } }],
];

for (const [name, model] of syntheticCases) {
  test(`ONNX = ours (synthetic): ${name}`, async (t) => {
    if (!ort) return t.skip(ortWhy);
    const modelDir = await trainTiny(t, synthetic, model);
    const ds = await loadDataset(synthetic as never, '.');
    await assertEquivalent(t, modelDir, recordsOf(ds, 64), name);
  });
}

/** Real data: PhysioNet 2012 set-a sample (51 stays: static, vitals, labs; binary). */
const p12Cases: [string, Record<string, unknown>][] = [
  ['baseline + utde', { type: 'baseline', d: 8, hidden: [8], encoder: enc('utde') }],
  ['fusemoe laplace per-modality + utde', { type: 'fusemoe', ...tiny, blocks: 1, encoder: enc('utde'), moe: { numExperts: 4, topK: 2, hidden: 8 } }],
  ['fusemoe softmax joint', { type: 'fusemoe', ...tiny, blocks: 1, encoder: enc('utde'), moe: { router: 'joint', gating: 'softmax', numExperts: 4, topK: 2, hidden: 8 } }],
  ['fusemoe gaussian disjoint', { type: 'fusemoe', ...tiny, blocks: 1, encoder: enc('mtand'), moe: { router: 'disjoint', gating: 'gaussian', numExperts: 2, topK: 1, hidden: 8 } }],
  ['fusemoe modified-softmax (tanh)', { type: 'fusemoe', ...tiny, blocks: 1, encoder: enc('mean-pool-mlp'), moe: { gating: 'modified-softmax', modifiedGateFn: 'tanh', numExperts: 3, topK: 2, hidden: 8 } }],
  ['remind (residual routing, entropy switch)', { type: 'remind', ...tiny, blocks: 1, encoder: enc('utde'), softMoe: { numExperts: 3, slotsPerExpert: 1, hidden: 8 }, residualRouting: { threshold: 0.2 } }],
];

for (const [name, model] of p12Cases) {
  test(`ONNX = ours (PhysioNet 2012 sample): ${name}`, async (t) => {
    if (!ort) return t.skip(ortWhy);
    if (!existsSync(join(P12, 'set-a'))) {
      console.log(`# skipped: PhysioNet 2012 sample absent at ${P12}`);
      return t.skip(`PhysioNet 2012 sample absent at ${P12}`);
    }
    const data = { type: 'physionet2012', records: join(P12, 'set-a'), outcomes: join(P12, 'Outcomes-sample.txt') };
    const modelDir = await trainTiny(t, data, model, 1);
    const ds = await loadDataset(data as never, '.');
    await assertEquivalent(t, modelDir, recordsOf(ds, 64), name);
  });
}

/** Real data: UCI mfeat (6 static views, 10 classes). */
const mfeatCases: [string, Record<string, unknown>][] = [
  ['fusemoe softmax per-modality', { type: 'fusemoe', ...tiny, blocks: 1, moe: { gating: 'softmax', numExperts: 4, topK: 2, hidden: 8 } }],
  ['remind (kl switch)', { type: 'remind', ...tiny, blocks: 1, softMoe: { numExperts: 2, slotsPerExpert: 1, hidden: 8 }, residualRouting: { metric: 'kl', threshold: 0.5 } }],
];

/** UCI mfeat, every 7th digit image (286, all ten digits) as a JSONL data source in a temp dir (training on all 2000 is slow). */
async function mfeatSubset(t: { after: (fn: () => void) => void }): Promise<{ data: Record<string, unknown>; records: Record<string, unknown>[] }> {
  const views = Object.fromEntries(['fac', 'fou', 'kar', 'mor', 'pix', 'zer'].map((v) => [v, join(MFEAT, `mfeat-${v}.csv`)]));
  const ds = await loadDataset({ type: 'multiview-csv', views, labels: join(MFEAT, 'labels.csv'), labelColumn: 'digit', idColumn: 'index' } as never, '.');
  const dir = mkdtempSync(join(tmpdir(), 'fm-onnx-mfeat-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const records = ds.samples.filter((_, i) => i % 7 === 0).map((s) => sampleToJson(ds.spec, s));
  writeFileSync(join(dir, 'mfeat.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(ds.spec));
  return { data: { type: 'jsonl', path: join(dir, 'mfeat.jsonl'), specPath: join(dir, 'spec.json') }, records };
}

for (const [name, model] of mfeatCases) {
  test(`ONNX = ours (UCI mfeat): ${name}`, async (t) => {
    if (!ort) return t.skip(ortWhy);
    if (!existsSync(join(MFEAT, 'labels.csv'))) {
      console.log(`# skipped: UCI mfeat absent at ${MFEAT}`);
      return t.skip(`UCI mfeat absent at ${MFEAT}`);
    }
    const { data, records } = await mfeatSubset(t);
    const modelDir = await trainTiny(t, data, model, 2);
    // every 4th of the subset: 64 records, all ten digits
    await assertEquivalent(t, modelDir, records.filter((_, i) => i % 4 === 0).slice(0, 64), name);
  });
}

test('ONNX = ours (synthetic): a seed ensemble of 2 FuseMoE members (mean probability)', async (t) => {
  if (!ort) return t.skip(ortWhy);
  const out = mkdtempSync(join(tmpdir(), 'fm-onnx-ens-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const model = { type: 'fusemoe', ...tiny, blocks: 1, encoder: enc('mean-pool-mlp'), moe: { numExperts: 3, topK: 1, hidden: 8 } };
  const cfg = parseConfig({ seeds: [1], data: synthetic, model, train: { epochs: 1, batchSize: 16, patience: 0, ensemble: 2 } }, 'onnx test');
  await runExperiment(cfg, { baseDir: '.', outDir: out, log: quiet, progress: false });
  const ds = await loadDataset(synthetic as never, '.');
  await assertEquivalent(t, join(out, 'seeds', '1', 'model'), recordsOf(ds, 64), 'ensemble');
});

test("a part the exporter does not cover is refused by name (MoE-Retriever's nearest-neighbour fill), and nothing is written", async (t) => {
  const modelDir = await trainTiny(t, synthetic, { type: 'moe-retriever', d: 8, heads: 2, missing: 'nearest-neighbour', encoder: enc('mean-pool-mlp') }, 1);
  const dir = mkdtempSync(join(tmpdir(), 'fm-onnx-refuse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'model.onnx');
  await assert.rejects(exportOnnx(modelDir, out), (e: unknown) => e instanceof FlexiModalError && /nearest-neighbour fill/.test(e.message) && /learned-group/.test(e.message));
  assert.ok(!existsSync(out) && !existsSync(`${out}.json`));
});

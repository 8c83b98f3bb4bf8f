/**
 * The ONNX tensor contract and the CLI:
 *  - tensors built BY HAND from raw records following docs/EXPORT.md ("ONNX") and the sidecar alone
 *    (the recipe of the Python snippet, line by line, no fleximodal code) give the same
 *    probabilities in onnxruntime as Predictor;
 *  - REMIND's residual-routing switch is exported exactly (residual weights made large, threshold
 *    chosen so that some samples switch and some do not);
 *  - `fleximodal export --format onnx` writes the file and the sidecar, and refuses to overwrite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';
import { Predictor, predictSamples } from '../../src/serve/predictor.js';
import { loadDataset } from '../../src/data/load.js';
import { sampleFromJson, sampleToJson } from '../../src/data/sources/jsonl.js';
import { loadModel, type ModelMeta } from '../../src/models/persist.js';
import { buildModel } from '../../src/models/build.js';
import { makeBatch } from '../../src/data/batch.js';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { buildOnnx, recordsToOnnxTensors, type OnnxSidecar } from '../../src/export/onnx/index.js';
import { registerExportCommand } from '../../src/cli/export.js';
import { FlexiModalError } from '../../src/errors.js';
import type { RemindModel } from '../../src/models/remind.js';
import type { SoftMoE } from '../../src/moe/softMoe.js';

type Ort = typeof import('onnxruntime-node');
const require = createRequire(import.meta.url);
let ort: Ort | null = null;
let ortWhy = '';
try {
  ort = require('onnxruntime-node') as Ort;
} catch (e) {
  ortWhy = `onnxruntime-node is not installed (${(e as Error).message.split('\n')[0]})`;
}

const quiet = (): void => {};
const synthetic = { type: 'synthetic', n: 120, seed: 4, missingness: 'long-tail' };

async function trainTiny(t: { after: (fn: () => void) => void }, model: Record<string, unknown>): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'fm-onnxc-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const cfg = parseConfig({ seeds: [1], data: synthetic, model, train: { epochs: 1, batchSize: 16, patience: 0 } }, 'onnx contract test');
  await runExperiment(cfg, { baseDir: '.', outDir: out, log: quiet, progress: false });
  return join(out, 'seeds', '1', 'model');
}

type Rec = { id: string; modalities: Record<string, Record<string, unknown> | null | undefined> };

/**
 * The documented recipe (docs/EXPORT.md ("ONNX"), "Python"), from raw records and the sidecar only:
 * per modality padded values / masks / times, static features, presence.
 */
function tensorsByHand(sc: OnnxSidecar, records: Rec[]): Record<string, { data: Float32Array; dims: number[] }> {
  const B = records.length;
  const H = sc.spec.horizonHours;
  const clip = sc.normalizer.clip;
  const out: Record<string, { data: Float32Array; dims: number[] }> = {};
  const present = new Float32Array(B * sc.spec.modalities.length);
  sc.spec.modalities.forEach((m, j) => {
    const st = sc.normalizer.modalities[m.name];
    const z = (k: number, x: number, doClip: boolean): number => {
      if (!st) return x;
      const v = st.log?.[k] ? Math.log1p(Math.max(0, x)) : x;
      let y = (v - st.mean[k]!) / st.std[k]!;
      if (doClip && clip !== null) y = Math.min(clip, Math.max(-clip, y));
      return y;
    };
    if (m.kind === 'static') {
      const F = m.features.length;
      const values = new Float32Array(B * F);
      const mask = new Float32Array(B * F);
      records.forEach((r, b) => {
        const vals = (r.modalities[m.name]?.values as (number | null)[] | undefined) ?? [];
        vals.forEach((x, f) => {
          if (x === null) return;
          values[b * F + f] = z(f, x, true);
          mask[b * F + f] = 1;
          present[b * sc.spec.modalities.length + j] = 1;
        });
      });
      out[`${m.name}.values`] = { data: values, dims: [B, F] };
      out[`${m.name}.mask`] = { data: mask, dims: [B, F] };
      return;
    }
    // distinct times (ascending), the last maxTimesteps of them
    const steps = records.map((r) => {
      const times = (r.modalities[m.name]?.times as number[] | undefined) ?? [];
      return [...new Set(times)].sort((a, c) => a - c).slice(-sc.maxTimesteps);
    });
    const T = Math.max(1, ...steps.map((s) => s.length));
    const W = m.kind === 'timeseries' ? m.variables.length : m.dim;
    const values = new Float32Array(B * T * W);
    const mask = new Float32Array(B * T * W);
    const times = new Float32Array(B * T);
    const timeMask = new Float32Array(B * T);
    records.forEach((r, b) => {
      const rec = r.modalities[m.name];
      if (!rec || steps[b]!.length === 0) return;
      present[b * sc.spec.modalities.length + j] = 1;
      steps[b]!.forEach((tau, t) => {
        times[b * T + t] = tau / H;
        timeMask[b * T + t] = 1;
      });
      const recTimes = rec.times as number[];
      if (m.kind === 'timeseries') {
        const names = rec.variables as string[];
        const vals = rec.values as number[];
        recTimes.forEach((tau, i) => {
          const t = steps[b]!.indexOf(tau);
          if (t < 0) return;
          const v = m.variables.indexOf(names[i]!);
          values[(b * T + t) * W + v] = z(v, vals[i]!, true);
          mask[(b * T + t) * W + v] = 1;
        });
      } else {
        const vecs = rec.vectors as number[][];
        steps[b]!.forEach((tau, t) => {
          const at = recTimes.flatMap((x, i) => (x === tau ? [i] : []));
          for (const i of at) for (let k = 0; k < W; k++) values[(b * T + t) * W + k]! += z(k, vecs[i]![k]!, false) / at.length;
        });
      }
    });
    out[`${m.name}.values`] = { data: values, dims: [B, T, W] };
    if (m.kind === 'timeseries') out[`${m.name}.mask`] = { data: mask, dims: [B, T, W] };
    out[`${m.name}.times`] = { data: times, dims: [B, T] };
    out[`${m.name}.time_mask`] = { data: timeMask, dims: [B, T] };
  });
  out['present'] = { data: present, dims: [B, sc.spec.modalities.length] };
  return out;
}

test('tensors built by hand from the sidecar (the documented recipe) give Predictor\'s probabilities in onnxruntime', async (t) => {
  if (!ort) return t.skip(ortWhy);
  const modelDir = await trainTiny(t, { type: 'fusemoe', d: 8, heads: 2, blocks: 1, encoder: { kind: 'utde', gamma: 4, dt: 4, heads: 2, embeddingGamma: 3 }, moe: { numExperts: 3, topK: 2, hidden: 8 } });
  const dir = mkdtempSync(join(tmpdir(), 'fm-onnxc-out-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const onnxPath = join(dir, 'm.onnx');
  const program = new Command().exitOverride();
  const lines: string[] = [];
  registerExportCommand(program, (l) => lines.push(l));
  await program.parseAsync(['node', 'fleximodal', 'export', '--model', modelDir, '--format', 'onnx', '--out', onnxPath]);
  assert.ok(existsSync(onnxPath) && existsSync(`${onnxPath}.json`));
  assert.match(lines.join('\n'), /exported the fusemoe model .* opset 17/);
  // a second export to the same path is refused unless --overwrite
  const again = new Command().exitOverride();
  registerExportCommand(again, quiet);
  await assert.rejects(again.parseAsync(['node', 'fleximodal', 'export', '--model', modelDir, '--format', 'onnx', '--out', onnxPath]), (e: unknown) => e instanceof FlexiModalError && e.message.includes('already exists'));
  const over = new Command().exitOverride();
  registerExportCommand(over, quiet);
  await over.parseAsync(['node', 'fleximodal', 'export', '--model', modelDir, '--format', 'onnx', '--out', onnxPath, '--overwrite']);

  const sc = JSON.parse(readFileSync(`${onnxPath}.json`, 'utf8')) as OnnxSidecar;
  assert.equal(sc.format, 'fleximodal-onnx');
  assert.deepEqual(sc.spec.modalities.map((m) => m.name), ['demo', 'vitals', 'labs', 'notes']);
  assert.deepEqual(sc.inputs.find((i) => i.name === 'vitals.values')!.shape, ['batch', 'vitals.T', 5]);
  assert.ok(sc.notes.some((n) => /densely/.test(n)), 'the dense routing is documented in the sidecar');
  const ds = await loadDataset(synthetic as never, '.');
  const records = ds.samples.slice(0, 40).map((s) => sampleToJson(ds.spec, s)) as unknown as Rec[];
  assert.ok(records.some((r) => !r.modalities.notes) && records.some((r) => r.modalities.notes), 'records with and without notes');
  const session = await ort.InferenceSession.create(onnxPath);
  const predictor = await Predictor.load(modelDir);
  t.after(() => predictor.dispose());
  const byHand = tensorsByHand(sc, records);
  const viaApi = recordsToOnnxTensors(predictor.meta, records as unknown as Record<string, unknown>[]).tensors;
  for (const [name, v] of Object.entries(viaApi)) {
    assert.deepEqual(byHand[name]!.dims, v.dims, `${name} dims`);
    v.data.forEach((x, i) => assert.ok(Math.abs(x - byHand[name]!.data[i]!) < 1e-5, `${name}[${i}]: API ${x} vs recipe ${byHand[name]!.data[i]}`));
  }
  const res = await session.run(Object.fromEntries(Object.entries(byHand).map(([k, v]) => [k, new ort!.Tensor('float32', v.data, v.dims)])));
  const probs = res.probabilities!.data as Float32Array;
  predictor.predict(records as unknown as Record<string, unknown>[]).forEach((p, b) => assert.ok(Math.abs(p.risk! - probs[b]!) < 1e-4, `record ${b}: ${p.risk} vs ${probs[b]}`));
  await session.release();
});

test('REMIND residual routing: the per-sample uncertainty switch is exported exactly (some samples switch, some do not)', async (t) => {
  if (!ort) return t.skip(ortWhy);
  const modelDir = await trainTiny(t, { type: 'remind', d: 8, heads: 2, blocks: 1, encoder: { kind: 'mean-pool-mlp' }, softMoe: { numExperts: 4, slotsPerExpert: 1, hidden: 8 } });
  await initEngine({ backend: 'wasm' });
  const { model, meta } = loadModel(modelDir);
  t.after(() => model.dispose());
  const remind = model as RemindModel;
  const moe = (remind as unknown as { blocks: { moe: SoftMoE }[] }).blocks[0]!.moe;
  // large residual routers, so a wrong switch decision changes the output visibly
  tf.tidy(() => moe.residual!.assign(tf.randomNormal(moe.residual!.shape, 0, 3, 'float32', 7)));
  const ds = await loadDataset(synthetic as never, '.');
  const samples = ds.samples.slice(0, 64);
  const batch = makeBatch(meta.spec, samples, meta.normalizer, { maxTimesteps: meta.maxTimesteps });
  let mixed = false;
  for (const thr of [0.99, 0.98, 0.97, 0.95, 0.999, 0.995, 0.9, 0.8]) {
    moe.cfg.residual!.threshold = thr;
    const sw = remind.routing(batch).blocks[0]!.switched;
    if (sw.some((s) => s === 1) && sw.some((s) => s === 0)) {
      mixed = true;
      break;
    }
  }
  assert.ok(mixed, 'a threshold where the switch fires for some samples only');
  const { bytes } = buildOnnx(model, meta);
  const session = await ort.InferenceSession.create(bytes);
  const { tensors } = recordsToOnnxTensors(meta, samples);
  const res = await session.run(Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, new ort!.Tensor('float32', v.data, v.dims)])));
  const probs = res.probabilities!.data as Float32Array;
  const ours = predictSamples(model, meta, samples);
  let worst = 0;
  ours.forEach((p, b) => (worst = Math.max(worst, Math.abs(p.risk! - probs[b]!))));
  console.log(`# REMIND residual switch: max |Δp| = ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-4, `max |Δp| ${worst}`);
  // and the switch matters: without the residual the outputs differ
  moe.cfg.residual!.threshold = 1e9;
  const off = predictSamples(model, meta, samples);
  assert.ok(off.some((p, b) => Math.abs(p.risk! - ours[b]!.risk!) > 1e-3), 'the residual routers change some predictions');
  await session.release();
});

test('random gating noise at prediction time (referenceCode.noiseAtInference) is refused by name', async () => {
  await initEngine({ backend: 'wasm' });
  const ds = await loadDataset(synthetic as never, '.');
  const cfg = parseConfig(
    { data: synthetic, model: { type: 'fusemoe', d: 8, heads: 2, blocks: 1, encoder: { kind: 'mean-pool-mlp' }, moe: { numExperts: 2, topK: 1, hidden: 8, noisyGating: true }, referenceCode: { noiseAtInference: true } } },
    'onnx refusal test',
  );
  const model = buildModel(cfg.model, ds.spec, 1);
  try {
    const meta = { spec: ds.spec, normalizer: { version: 1, modalities: {}, clip: null }, maxTimesteps: 16, seed: 1, model: cfg.model } as unknown as ModelMeta;
    assert.throws(() => buildOnnx(model, meta), (e: unknown) => e instanceof FlexiModalError && /noise at inference/.test(e.message) && /noiseAtInference false/.test(e.hint ?? e.message));
  } finally {
    model.dispose();
  }
});

test('a record with no modality at all: ONNX gives the same prior risk as Predictor (all masks zero, T = 1)', async (t) => {
  if (!ort) return t.skip(ortWhy);
  const modelDir = await trainTiny(t, { type: 'fusemoe', d: 8, heads: 2, blocks: 1, encoder: { kind: 'utde', gamma: 4, dt: 4, heads: 2, embeddingGamma: 2 }, moe: { numExperts: 2, topK: 1, hidden: 8 } });
  await initEngine({ backend: 'wasm' });
  const { model, meta } = loadModel(modelDir);
  t.after(() => model.dispose());
  const session = await ort.InferenceSession.create(buildOnnx(model, meta).bytes);
  const records = [{ id: 'none', modalities: {} }];
  const { tensors } = recordsToOnnxTensors(meta, records);
  assert.deepEqual(tensors['vitals.values']!.dims, [1, 1, 5]);
  const res = await session.run(Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, new ort!.Tensor('float32', v.data, v.dims)])));
  const [ours] = predictSamples(model, meta, records.map((r) => sampleFromJson(meta.spec, r, 'test', undefined, false)));
  assert.ok(ours!.noModality);
  assert.ok(Math.abs(ours!.risk! - (res.probabilities!.data as Float32Array)[0]!) < 1e-5);
  await session.release();
});

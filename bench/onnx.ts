/**
 * ONNX benchmark: onnxruntime-node (CPU, 1 intra-op thread) on the exported file beside our own
 * Predictor (tfjs wasm, 1 thread) on the same records, one run, the two alternating record by
 * record so machine load hits both alike. A figure, not a test.
 *
 *   npm run bench:onnx -- [--model DIR] [--records 51] [--rounds 20] [--batch 64]
 *
 * Without --model, the preset FuseMoE of configs/fusemoe-physionet2012.json (d 64, UTDE γ 24,
 * 8 Laplace experts top-2) is trained for 1 epoch on the PhysioNet 2012 set-a sample (51 stays)
 * into a temporary directory: latency does not depend on how well the weights are trained.
 * Printed: single-record latency p50/p90 (records → tensors included, and the session run
 * alone), batch throughput, and the largest probability difference seen.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parseConfig, readConfigFile } from '../src/config/parse.js';
import { runExperiment } from '../src/run/experiment.js';
import { loadDataset } from '../src/data/load.js';
import { sampleToJson } from '../src/data/sources/jsonl.js';
import { Predictor } from '../src/serve/predictor.js';
import { engineSummary } from '../src/engine/backend.js';
import { exportOnnx, recordsToOnnxTensors } from '../src/export/onnx/index.js';
import { arg, quantile } from './benchArgs.js';

type Ort = typeof import('onnxruntime-node');



async function main(): Promise<void> {
  const require = createRequire(import.meta.url);
  let ort: Ort;
  try {
    ort = require('onnxruntime-node') as Ort;
  } catch (e) {
    console.log(`bench:onnx skipped: onnxruntime-node is not installed (${(e as Error).message.split('\n')[0]})`);
    return;
  }
  const p12 = [resolve('../shared/data/physionet2012/sample'), '/work/shared/data/physionet2012/sample'].find((p) => existsSync(join(p, 'set-a')));
  if (!p12) {
    console.log('bench:onnx skipped: the PhysioNet 2012 sample (../shared/data/physionet2012/sample) is absent');
    return;
  }
  const data = { type: 'physionet2012', records: join(p12, 'set-a'), outcomes: join(p12, 'Outcomes-sample.txt') };
  const tmp = mkdtempSync(join(tmpdir(), 'fm-bench-onnx-'));
  try {
    let modelDir = arg('model', '');
    if (!modelDir) {
      const preset = parseConfig(readConfigFile('configs/fusemoe-physionet2012.json'), 'configs/fusemoe-physionet2012.json');
      const cfg = parseConfig({ seeds: [1], data, split: { fractions: [0.6, 0.2, 0.2] }, model: preset.model, train: { epochs: 1, batchSize: 16, patience: 0 } }, 'bench:onnx');
      console.log('training the preset FuseMoE for 1 epoch on the 51-stay sample…');
      await runExperiment(cfg, { baseDir: '.', outDir: join(tmp, 'run'), log: () => {}, progress: false });
      modelDir = join(tmp, 'run', 'seeds', '1', 'model');
    }
    const onnxPath = join(tmp, 'model.onnx');
    const report = await exportOnnx(modelDir, onnxPath);
    const predictor = await Predictor.load(modelDir, { backend: 'wasm' });
    const session = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    const ds = await loadDataset(data as never, '.');
    const records = ds.samples.slice(0, Number(arg('records', '51'))).map((s) => sampleToJson(ds.spec, s));
    const feedsOf = (recs: Record<string, unknown>[]) =>
      Object.fromEntries(Object.entries(recordsToOnnxTensors(predictor.meta, recs).tensors).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)]));
    console.log(engineSummary());
    console.log(`model ${report.modelType} (${report.nodes} ONNX nodes, ${(report.bytes / 1e6).toFixed(2)} MB), ${records.length} PhysioNet stays; onnxruntime-node ${ort.env.versions?.common ?? ''} CPU, 1 intra-op thread; ours: tfjs wasm, 1 thread`);

    // warm-up, and the largest probability difference
    let worst = 0;
    for (const r of records) {
      const ours = predictor.predict([r])[0]!.risk!;
      const res = await session.run(feedsOf([r]));
      worst = Math.max(worst, Math.abs(ours - (res.probabilities!.data as Float32Array)[0]!));
    }
    const rounds = Number(arg('rounds', '20'));
    const oursMs: number[] = [];
    const ortMs: number[] = [];
    const ortRunMs: number[] = [];
    for (let k = 0; k < rounds; k++) {
      for (const r of records) {
        let t0 = performance.now();
        predictor.predict([r]);
        oursMs.push(performance.now() - t0);
        t0 = performance.now();
        const feeds = feedsOf([r]);
        const t1 = performance.now();
        await session.run(feeds);
        const t2 = performance.now();
        ortMs.push(t2 - t0);
        ortRunMs.push(t2 - t1);
      }
    }
    const B = Number(arg('batch', '64'));
    const big = Array.from({ length: B }, (_, i) => ({ ...records[i % records.length]!, id: `b${i}` }));
    const bigFeeds = feedsOf(big);
    let oursBatch = 0;
    let ortBatch = 0;
    let ortBatchRun = 0;
    const reps = Math.max(3, Math.round(rounds / 2));
    for (let k = 0; k < reps; k++) {
      let t0 = performance.now();
      predictor.predict(big);
      oursBatch += performance.now() - t0;
      t0 = performance.now();
      const feeds = feedsOf(big);
      const t1 = performance.now();
      await session.run(feeds);
      const t2 = performance.now();
      ortBatch += t2 - t0;
      ortBatchRun += t2 - t1;
    }
    void bigFeeds;
    const f = (x: number): string => x.toFixed(2);
    const rps = (ms: number): string => ((B * reps) / (ms / 1000)).toFixed(0);
    console.log('');
    console.log('| | single-record p50 (ms) | p90 (ms) | batch of ' + B + ' (records/s) |');
    console.log('|---|---|---|---|');
    console.log(`| ours (Predictor, tfjs wasm) | ${f(quantile(oursMs, 0.5))} | ${f(quantile(oursMs, 0.9))} | ${rps(oursBatch)} |`);
    console.log(`| onnxruntime (records → tensors + run) | ${f(quantile(ortMs, 0.5))} | ${f(quantile(ortMs, 0.9))} | ${rps(ortBatch)} |`);
    console.log(`| onnxruntime (session.run only) | ${f(quantile(ortRunMs, 0.5))} | ${f(quantile(ortRunMs, 0.9))} | ${rps(ortBatchRun)} |`);
    console.log('');
    console.log(`p50 ratio ours / onnxruntime (with tensors): ${(quantile(oursMs, 0.5) / quantile(ortMs, 0.5)).toFixed(2)}; batch throughput ratio onnxruntime / ours: ${(oursBatch / ortBatch).toFixed(2)}`);
    console.log(`max |Δp| over the ${records.length} stays: ${worst.toExponential(2)}; ${rounds} rounds × ${records.length} single-record predictions each, ${reps} batches`);
    predictor.dispose();
    await session.release();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Inference benchmark: `Predictor.predict` on one stay at a time (p50/p90/p99 latency), with and
 * without explanations, and batch throughput, for a saved model (default: the tiny FuseMoE preset
 * model trained on PhysioNet set-a, see docs/ENGINE.md "Inference"). A figure, not a test.
 *
 *   node dist/bench/infer.js --model runs/bench-p12/model --config configs/fusemoe-physionet2012.json
 *        [--stays 300] [--batch 51] [--backend wasm|cpu] [--threads 1] [--blas off|auto] [--breakdown]
 *
 * Stays come from the config's `data` (set-a: the development set), first --stays of them.
 * `--breakdown` times the stages of one single-stay prediction (batch building, forward,
 * read-back, explanation) separately.
 */
import { resolve, dirname } from 'node:path';
import { initEngine, engineSummary, type BackendName } from '../src/engine/backend.js';
import { tf } from '../src/engine/tf.js';
import { parseConfig, readConfigFile } from '../src/config/parse.js';
import { loadDataset } from '../src/data/load.js';
import { makeBatch } from '../src/data/batch.js';
import { Predictor } from '../src/serve/predictor.js';
import { arg, quantile } from './benchArgs.js';



const fmt = (x: number): string => x.toFixed(2);

async function main(): Promise<void> {
  const modelDir = arg('model', 'runs/bench-p12/model');
  const configPath = arg('config', 'configs/fusemoe-physionet2012.json');
  const nStays = Number(arg('stays', '300'));
  const batchSize = Number(arg('batch', '51'));
  const backend = arg('backend', 'wasm') as BackendName;
  const threads = Number(arg('threads', '1'));
  await initEngine({ backend, threads, blas: arg('blas', 'auto') });
  const cfg = parseConfig(readConfigFile(configPath), configPath);
  const data = await loadDataset(cfg.data, dirname(resolve(configPath)));
  const stays = data.samples.slice(0, nStays);
  const p = await Predictor.load(modelDir, { backend });
  console.log(`${engineSummary()}`);
  console.log(`model ${modelDir} (${p.meta.model.type}), ${stays.length} stays of ${configPath} data, 1 core asked (threads ${threads})`);

  // Wall time and the process's CPU time of each prediction (1 thread: CPU time ≈ the wall time
  // on an idle core, so it stays meaningful when other jobs load the machine).
  const before = tf.memory().numTensors;
  // The two modes alternate stay by stay (after a warm-up of both), so JIT warm-up and machine
  // load hit them alike.
  for (const s of stays.slice(0, 100)) {
    p.predict([s]);
    p.predict([s], { explain: true });
  }
  const wall: [number[], number[]] = [[], []];
  const cpu: [number[], number[]] = [[], []];
  for (const s of stays) {
    for (const mode of [0, 1] as const) {
      const c = process.cpuUsage();
      const t = performance.now();
      p.predict([s], { explain: mode === 1 });
      wall[mode].push(performance.now() - t);
      const d = process.cpuUsage(c);
      cpu[mode].push((d.user + d.system) / 1000);
    }
  }
  console.log('| single stay | p50 ms | p90 ms | p99 ms | mean ms | cpu p50 ms | cpu p90 ms | cpu p99 ms | cpu mean ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const mean = (t: number[]): number => t.reduce((a, b) => a + b, 0) / t.length;
  const cols = (t: number[]): string => [quantile(t, 0.5), quantile(t, 0.9), quantile(t, 0.99), mean(t)].map(fmt).join(' | ');
  for (const mode of [0, 1] as const) console.log(`| predict${mode === 1 ? ' + explain' : ''} | ${cols(wall[mode])} | ${cols(cpu[mode])} |`);
  // Throughput: batches of --batch stays, whole set of stays, 3 rounds, best round.
  let best = Infinity;
  let bestCpu = Infinity;
  for (let r = 0; r < 3; r++) {
    const c = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < stays.length; i += batchSize) p.predict(stays.slice(i, i + batchSize));
    best = Math.min(best, performance.now() - t);
    const d = process.cpuUsage(c);
    bestCpu = Math.min(bestCpu, (d.user + d.system) / 1000);
  }
  console.log(`batch throughput (batches of ${batchSize}): ${fmt((stays.length / best) * 1000)} stays/s wall, ${fmt((stays.length / bestCpu) * 1000)} stays per CPU-second`);
  console.log(`tensors leaked by all predictions: ${tf.memory().numTensors - before}`);

  if (process.argv.includes('--breakdown')) {
    const meta = p.meta;
    const stage = { batch: [] as number[], forward: [] as number[], explain: [] as number[] };
    for (const s of stays) {
      let t = performance.now();
      const b = makeBatch(meta.spec, [s], meta.normalizer, { maxTimesteps: meta.maxTimesteps });
      stage.batch.push(performance.now() - t);
      t = performance.now();
      tf.tidy(() => p.model.forward(b, { training: false }).logits.dataSync());
      stage.forward.push(performance.now() - t);
      t = performance.now();
      p.model.explain?.(b);
      stage.explain.push(performance.now() - t);
    }
    console.log('| stage (one stay) | p50 ms | p90 ms |');
    console.log('| --- | --- | --- |');
    for (const [k, v] of Object.entries(stage)) console.log(`| ${k} | ${fmt(quantile(v, 0.5))} | ${fmt(quantile(v, 0.9))} |`);
  }
  p.dispose();
}

await main();

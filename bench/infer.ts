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

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

/** The q-quantile (nearest rank) of `xs`. */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

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

  const single = (explain: boolean): number[] => {
    for (const s of stays.slice(0, 20)) p.predict([s], { explain }); // warm-up
    const times: number[] = [];
    for (const s of stays) {
      const t = performance.now();
      p.predict([s], { explain });
      times.push(performance.now() - t);
    }
    return times;
  };
  const before = tf.memory().numTensors;
  console.log('| single stay | p50 ms | p90 ms | p99 ms | mean ms |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const explain of [false, true]) {
    const t = single(explain);
    const mean = t.reduce((a, b) => a + b, 0) / t.length;
    console.log(`| predict${explain ? ' + explain' : ''} | ${fmt(quantile(t, 0.5))} | ${fmt(quantile(t, 0.9))} | ${fmt(quantile(t, 0.99))} | ${fmt(mean)} |`);
  }
  // Throughput: batches of --batch stays, whole set of stays, 3 rounds, best round.
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    for (let i = 0; i < stays.length; i += batchSize) p.predict(stays.slice(i, i + batchSize));
    best = Math.min(best, performance.now() - t);
  }
  console.log(`batch throughput (batches of ${batchSize}): ${fmt((stays.length / best) * 1000)} stays/s`);
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

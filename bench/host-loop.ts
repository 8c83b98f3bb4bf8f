/**
 * The host's event loop during fleximodal work (issue 18 §3), old and new API side by side in one
 * run, plus single-prediction latency before/after. A figure, not a test.
 *
 *   npm run build && node dist/bench/host-loop.js [--n 600] [--epochs 3] [--records 1000] [--singles 300]
 *
 *  1. training: runExperiment in-process (old) vs trainInWorker (new), same config; a 50 ms
 *     setInterval of the host counts its fires, and the longest gap between two fires;
 *  2. single-record Predictor.predict p50/p90: the pre-change predictSamples (copied below,
 *     verbatim but for names) vs the current one, alternating record by record; the same for
 *     predict + explain (before: routing statistics only; after: attribution over 1 + m variants
 *     of the record + routing);
 *  3. a batch of --records records: predict (one blocking call), Predictor.predictAsync (yields
 *     between batches of 64), predictInWorker (a worker thread): wall time, interval fires, gap.
 *
 * Data: the demo's synthetic FuseMoE preset (configs/demo-synthetic-fusemoe.json) with --n samples
 * and --epochs epochs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, engineSummary } from '../src/engine/backend.js';
import { tf } from '../src/engine/tf.js';
import { parseConfig, readConfigFile } from '../src/config/parse.js';
import { runExperiment } from '../src/run/experiment.js';
import { trainInWorker } from '../src/worker/trainInWorker.js';
import { predictInWorker } from '../src/worker/predictInWorker.js';
import { Predictor, probabilityRecord, type Prediction } from '../src/serve/predictor.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { makeBatch } from '../src/data/batch.js';
import { logitsToProbs } from '../src/train/taskLoss.js';
import type { Sample } from '../src/data/schema.js';
import type { FusionModel } from '../src/models/model.js';
import type { ModelMeta } from '../src/models/persist.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

/** Count a 50 ms interval's fires and the longest gap between fires while `fn` runs. */
async function watchLoop<T>(fn: () => Promise<T> | T): Promise<{ value: T; seconds: number; fires: number; expected: number; maxGapMs: number }> {
  let fires = 0;
  const started = performance.now();
  let last = started;
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    fires++;
  }, 50);
  try {
    const value = await fn();
    const end = performance.now();
    maxGap = Math.max(maxGap, end - last);
    return { value, seconds: (end - started) / 1000, fires, expected: Math.floor((end - started) / 50), maxGapMs: maxGap };
  } finally {
    clearInterval(timer);
  }
}

/** The pre-change `predictSamples` (commit 6e001ce), empty-sample checks left out: forward, or forwardExplained for routing. */
function predictBefore(model: FusionModel, meta: ModelMeta, samples: Sample[], explain: boolean): Prediction[] {
  const batch = makeBatch(meta.spec, samples, meta.normalizer, { maxTimesteps: meta.maxTimesteps });
  let explanations: unknown[] | undefined;
  const probs = tf.tidy(() => {
    const oneGo = explain && model.forwardExplained ? model.forwardExplained(batch) : undefined;
    explanations = oneGo?.explanations;
    const logits = oneGo?.logits ?? model.forward(batch, { training: false }).logits;
    return logitsToProbs(meta.spec.task, logits).arraySync();
  });
  const bad = probs.findIndex((row) => row.some((p) => !Number.isFinite(p)));
  if (bad >= 0) throw new Error('non-finite output');
  return samples.map((s, i) => ({ id: s.id, ...probabilityRecord(meta, probs[i]!), ...(explanations ? { explanation: explanations[i] as Prediction['explanation'] } : {}) }));
}

async function main(): Promise<void> {
  const n = Number(arg('n', '600'));
  const epochs = Number(arg('epochs', '3'));
  const nRecords = Number(arg('records', '1000'));
  const nSingles = Number(arg('singles', '300'));
  await initEngine({ backend: 'wasm' });
  const raw = readConfigFile('configs/demo-synthetic-fusemoe.json') as Record<string, unknown>;
  const cfg = parseConfig({ ...raw, data: { ...(raw.data as object), n }, train: { ...(raw.train as object), epochs, patience: 0 } }, 'demo-synthetic-fusemoe (bench)');
  const dir = mkdtempSync(join(tmpdir(), 'fm-host-loop-'));
  const quiet = () => {};
  console.log(`${engineSummary()}; node ${process.version}; synthetic n=${n}, FuseMoE, ${epochs} epochs`);
  try {
    // 1. training, old and new API
    const old = await watchLoop(() => runExperiment(cfg, { baseDir: '.', outDir: join(dir, 'old'), log: quiet, progress: false }));
    const neu = await watchLoop(() => trainInWorker(cfg, { outDir: join(dir, 'new'), log: quiet }));
    console.log('\n| training | wall s | 50 ms interval fires / expected | longest gap ms |\n|---|---|---|---|');
    for (const [name, r] of [['runExperiment (in-process)', old], ['trainInWorker', neu]] as const) console.log(`| ${name} | ${r.seconds.toFixed(1)} | ${r.fires} / ${r.expected} | ${r.maxGapMs.toFixed(0)} |`);
    const same = JSON.stringify(old.value.metrics) === JSON.stringify(neu.value.metrics);
    console.log(`same metrics from both: ${same}`);

    // 2. single-record latency, before/after, alternating
    const p = await Predictor.load(join(dir, 'old', 'model'));
    const records = generateSynthetic({ n: Math.max(nRecords, nSingles), seed: 42, missingness: 'long-tail' }).samples;
    const singles = records.slice(0, nSingles);
    for (const s of singles.slice(0, 50)) {
      predictBefore(p.model, p.meta, [s], false);
      p.predict([s]);
      predictBefore(p.model, p.meta, [s], true);
      p.predict([s], { explain: true });
    }
    const ms: Record<string, number[]> = { before: [], after: [], beforeExplain: [], afterExplain: [] };
    const time = (key: string, fn: () => unknown) => {
      const t = performance.now();
      fn();
      ms[key]!.push(performance.now() - t);
    };
    for (const s of singles) {
      time('before', () => predictBefore(p.model, p.meta, [s], false));
      time('after', () => p.predict([s]));
      time('beforeExplain', () => predictBefore(p.model, p.meta, [s], true));
      time('afterExplain', () => p.predict([s], { explain: true }));
    }
    console.log(`\n| single record (${nSingles}, alternating) | p50 ms | p90 ms |\n|---|---|---|`);
    const label: Record<string, string> = { before: 'predict, before', after: 'predict, after', beforeExplain: 'predict + explain, before (routing only)', afterExplain: 'predict + explain, after (attribution + routing)' };
    for (const k of Object.keys(ms)) console.log(`| ${label[k]} | ${quantile(ms[k]!, 0.5).toFixed(2)} | ${quantile(ms[k]!, 0.9).toFixed(2)} |`);
    console.log(`ratio p50 after/before: predict ${(quantile(ms.after!, 0.5) / quantile(ms.before!, 0.5)).toFixed(2)}, explain ${(quantile(ms.afterExplain!, 0.5) / quantile(ms.beforeExplain!, 0.5)).toFixed(2)}`);

    // 3. a batch of records
    const batch = records.slice(0, nRecords);
    const sync = await watchLoop(() => p.predict(batch));
    const yielding = await watchLoop(() => p.predictAsync(batch, { batchSize: 64 }));
    const worker = await watchLoop(() => predictInWorker(join(dir, 'old', 'model'), batch, { batchSize: 64 }));
    console.log(`\n| ${nRecords} records | wall s | 50 ms interval fires / expected | longest gap ms |\n|---|---|---|---|`);
    for (const [name, r] of [['predict (one call)', sync], ['predictAsync (batches of 64, yields)', yielding], ['predictInWorker (batches of 64)', worker]] as const) {
      console.log(`| ${name} | ${r.seconds.toFixed(2)} | ${r.fires} / ${r.expected} | ${r.maxGapMs.toFixed(0)} |`);
    }
    const maxDiff = Math.max(...sync.value.map((r, i) => Math.max(Math.abs(r.risk! - yielding.value[i]!.risk!), Math.abs(r.risk! - worker.value[i]!.risk!))));
    console.log(`largest risk difference between the three: ${maxDiff.toExponential(2)}`);
    p.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

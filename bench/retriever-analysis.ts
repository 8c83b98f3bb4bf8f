/**
 * Post-hoc analyses of trained moe-retriever-type runs (no training; reads saved models):
 *
 *  1. Leak demonstration: test accuracy / macro-F1 of each seed's model with our pool (training
 *     samples only) vs the reference code's test pool (referenceCode.evaluatedSamplesInPool: the
 *     whole test split evaluated as one batch, so every test sample can retrieve from the others).
 *  2. Retrieval quality where the dropped data exist (a missingness protocol on complete data,
 *     e.g. mfeat p = 0.3): cosine similarity between the embedding that filled a dropped modality
 *     and the embedding the same model's encoder gives the true (dropped) data, per strategy.
 *
 *   node dist/bench/retriever-analysis.js name=<run dir> [name=<run dir> ...] [--backend wasm|cpu]
 *
 * Run directories are `fleximodal train` outputs (or `compare` variants/<name>) of model type
 * moe-retriever trained with a fixed split and a `missingness` protocol. A figure, not a test.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tf } from '../src/engine/tf.js';
import { initEngine, type BackendName } from '../src/engine/backend.js';
import { parseConfig } from '../src/config/parse.js';
import { loadDataset } from '../src/data/load.js';
import { applyMissingness } from '../src/run/missingnessProtocol.js';
import { readSplitFile, splitSamples } from '../src/data/split.js';
import { makeBatch } from '../src/data/batch.js';
import type { Sample } from '../src/data/schema.js';
import { loadModel } from '../src/models/persist.js';
import { MoERetrieverModel } from '../src/models/moeRetriever.js';
import { predict, labelsOf } from '../src/train/predict.js';
import { computeMetrics } from '../src/eval/evaluate.js';
import { evalTaskOf } from '../src/run/experiment.js';

const backend = (process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : 'wasm') as BackendName;
const runs = process.argv.slice(2).filter((a) => a.includes('=') && !a.startsWith('--'));
if (!runs.length) {
  process.stderr.write('usage: node dist/bench/retriever-analysis.js name=<run dir> [...]\n');
  process.exit(2);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < a.length; k++) {
    ab += a[k]! * b[k]!;
    aa += a[k]! * a[k]!;
    bb += b[k]! * b[k]!;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : NaN;
}

const mean = (x: number[]) => x.reduce((a, v) => a + v, 0) / x.length;
const std = (x: number[]) => (x.length > 1 ? Math.sqrt(x.reduce((a, v) => a + (v - mean(x)) ** 2, 0) / (x.length - 1)) : 0);
const fmt = (x: number[]) => (x.length && x.every(Number.isFinite) ? `${mean(x).toFixed(3)} ± ${std(x).toFixed(3)}` : 'n/a');

await initEngine({ backend });
const leakRows: string[] = [];
const cosRows: string[] = [];
for (const spec of runs) {
  const [name, dirArg] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
  const dir = resolve(dirArg);
  const cfg = parseConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), join(dir, 'config.json'));
  const baseDir = resolve('configs'); // shipped configs resolve data paths from configs/
  const complete = await loadDataset(cfg.data, baseDir);
  const dropped = applyMissingness(complete, cfg.missingness, () => {});
  const split = await readSplitFile(join(dir, 'split.json'), dropped);
  const test = splitSamples(dropped, split).test;
  const byId = new Map(complete.samples.map((s) => [s.id, s] as const));
  const truth = test.map((s) => byId.get(s.id)!);
  const names = complete.spec.modalities.map((m) => m.name);
  const seedsF1 = { ours: [] as number[], leak: [] as number[], oursAcc: [] as number[], leakAcc: [] as number[] };
  const cosAll: number[] = [];
  const cosBy: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const seed of cfg.seeds) {
    const modelDir = join(dir, 'seeds', String(seed), 'model');
    const { model, meta } = loadModel(modelDir);
    const toBatch = (s: Sample[]) => makeBatch(meta.spec, s, meta.normalizer, { maxTimesteps: meta.maxTimesteps });
    const task = evalTaskOf(meta.spec.task);
    const labels = labelsOf(meta.spec.task, test);
    const ours = computeMetrics(task, predict(model, meta.spec.task, test, toBatch, test.length).probs, labels);
    seedsF1.ours.push(ours.f1);
    seedsF1.oursAcc.push(ours.accuracy);
    // cosine of the fill vs the encoder's embedding of the true (dropped) data, per seed: mean over dropped slots
    if (model instanceof MoERetrieverModel) {
      const M = names.length;
      const perSeed: number[] = [];
      for (let i = 0; i < test.length; i += 100) {
        const part = test.slice(i, i + 100);
        const full = truth.slice(i, i + 100);
        tf.tidy(() => {
          const filled = model.filledEmbeddings(toBatch(part), { training: false }).x.dataSync() as Float32Array;
          const { emb, observed } = model.encode(toBatch(full), false);
          const trueEmb = emb.dataSync() as Float32Array;
          const d = model.cfg.d;
          part.forEach((s, b) => {
            names.forEach((n, m) => {
              if (s.modalities[n] !== undefined || !observed[b * M + m]) return; // not dropped
              const c = cosine(filled.subarray((b * M + m) * d, (b * M + m + 1) * d), trueEmb.subarray((b * M + m) * d, (b * M + m + 1) * d));
              perSeed.push(c);
              cosBy[n]!.push(c);
            });
          });
        });
      }
      cosAll.push(perSeed.length && perSeed.every(Number.isFinite) ? mean(perSeed) : NaN);
    }
    model.dispose();
    // the reference test pool: the same weights with evaluatedSamplesInPool, the test split as one batch
    if (cfg.model.type === 'moe-retriever' && (cfg.model.missing === 'moe-retriever' || cfg.model.missing === 'nearest-neighbour')) {
      const tmp = mkdtempSync(join(tmpdir(), 'leak-'));
      cpSync(modelDir, tmp, { recursive: true });
      const mj = JSON.parse(readFileSync(join(tmp, 'model.json'), 'utf8')) as { model: { referenceCode: Record<string, boolean> } };
      mj.model.referenceCode.evaluatedSamplesInPool = true;
      writeFileSync(join(tmp, 'model.json'), JSON.stringify(mj));
      const leaky = loadModel(tmp);
      const leak = computeMetrics(task, predict(leaky.model, meta.spec.task, test, toBatch, test.length).probs, labels);
      seedsF1.leak.push(leak.f1);
      seedsF1.leakAcc.push(leak.accuracy);
      leaky.model.dispose();
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  if (seedsF1.leak.length) {
    leakRows.push(`| ${name} | ${fmt(seedsF1.oursAcc)} | ${fmt(seedsF1.ours)} | ${fmt(seedsF1.leakAcc)} | ${fmt(seedsF1.leak)} |`);
  }
  cosRows.push(`| ${name} | ${fmt(cosAll)} | ${names.map((n) => fmt(cosBy[n]!)).join(' | ')} |`);
  process.stderr.write(`done ${name}\n`);
}
const names0 = (await loadDataset(parseConfig(JSON.parse(readFileSync(join(resolve(runs[0]!.slice(runs[0]!.indexOf('=') + 1)), 'config.json'), 'utf8')), 'config').data, resolve('configs'))).spec.modalities.map((m) => m.name);
process.stdout.write(
  [
    '## Test pool: ours (training samples only) vs the reference code (test samples retrieve from each other)',
    '',
    '| run | accuracy (ours) | macro-F1 (ours) | accuracy (reference test pool) | macro-F1 (reference test pool) |',
    '| --- | --- | --- | --- | --- |',
    ...leakRows,
    '',
    '## Cosine similarity of the fill of a dropped modality vs the embedding of its true data (test split)',
    '',
    'Mean over seeds of the per-seed mean over dropped (sample, modality) slots; per modality: mean ± std over all slots of all seeds.',
    '',
    `| run | overall | ${names0.join(' | ')} |`,
    `| --- | --- | ${names0.map(() => '---').join(' | ')} |`,
    ...cosRows,
    '',
  ].join('\n'),
);

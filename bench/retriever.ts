/**
 * Cost of MoE-Retriever vs FuseMoE (and the learned-group baseline on the retriever's fusion):
 * training seconds per epoch and inference latency per sample, side by side in one run.
 *
 *   node dist/bench/retriever.js [--backend wasm|cpu] [--n 700] [--epochs 2]
 *
 * Data: UCI mfeat from the shipped presets (configs/moe-retriever-mfeat.json, fusemoe-mfeat.json;
 * p = 0.3 drop), the first --n samples, a 70/15/15 split. Models: the presets' model sections.
 * Training: --epochs epochs, the per-epoch time of the last one (the first pays warm-up).
 * Inference: the test part in batches of 64 (per-sample = batch time / 64) and one sample at a
 * time (median over 30 samples). A figure, not a test.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { tf } from '../src/engine/tf.js';
import { initEngine, type BackendName } from '../src/engine/backend.js';
import { parseConfig } from '../src/config/parse.js';
import { loadDataset } from '../src/data/load.js';
import { applyMissingness } from '../src/run/missingnessProtocol.js';
import { stratifiedSplit, splitSamples } from '../src/data/split.js';
import { fitNormalizer } from '../src/data/normalize.js';
import { makeBatch } from '../src/data/batch.js';
import type { Sample } from '../src/data/schema.js';
import { buildModel } from '../src/models/build.js';
import { train } from '../src/train/trainer.js';
import type { ModelConfig } from '../src/config/schema.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}
const backend = arg('backend', 'wasm') as BackendName;
const n = Number(arg('n', '700'));
const epochs = Number(arg('epochs', '2'));

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1]!;
};
const readPreset = (f: string) => parseConfig(JSON.parse(readFileSync(resolve('configs', f), 'utf8')), f);

await initEngine({ backend });
const base = readPreset('moe-retriever-mfeat.json');
const loaded = await loadDataset(base.data, resolve('configs'));
const dropped = applyMissingness({ ...loaded, samples: loaded.samples.slice(0, n) }, base.missingness, () => {});
const parts = splitSamples(dropped, stratifiedSplit(dropped, { seed: 0, fractions: [0.7, 0.15, 0.15] }));
const norm = fitNormalizer(dropped.spec, parts.train);
const toBatch = (s: Sample[]) => makeBatch(dropped.spec, s, norm);
const contenders: [string, ModelConfig][] = [
  ['fusemoe (preset)', readPreset('fusemoe-mfeat.json').model],
  ['learned-group, retriever fusion', { ...base.model, missing: 'learned-group' } as ModelConfig],
  ['moe-retriever (preset)', base.model],
];
const rows: { name: string; epoch: number; batchPerSample: number; single: number }[] = [];
for (const [name, cfg] of contenders) {
  const model = buildModel(cfg, dropped.spec, 1);
  model.setTrainingPool?.(parts.train, toBatch);
  const r = train(
    { model, task: dropped.spec.task, train: parts.train, val: parts.val, toBatch, scoreValidation: () => ({ f1: 0 }), progress: false, log: () => {} },
    { ...base.train, epochs, patience: 0, loss: { type: 'default', posWeight: 1, focalGamma: 2 }, seed: 1 },
  );
  const epoch = r.history[r.history.length - 1]!.seconds;
  const infer = (samples: Sample[]) => {
    const t0 = performance.now();
    tf.tidy(() => model.forward(toBatch(samples), { training: false }).logits.dataSync());
    return performance.now() - t0;
  };
  infer(parts.test.slice(0, 64)); // warm-up
  const batchTimes: number[] = [];
  for (let i = 0; i + 64 <= parts.test.length; i += 64) batchTimes.push(infer(parts.test.slice(i, i + 64)) / 64);
  const single = parts.test.slice(0, 30).map((s) => infer([s]));
  rows.push({ name, epoch, batchPerSample: median(batchTimes.length ? batchTimes : [infer(parts.test) / parts.test.length]), single: median(single) });
  model.dispose();
}
const ref = rows[0]!;
process.stdout.write(
  [
    `mfeat first ${n} samples (train ${parts.train.length}, test ${parts.test.length}), p = 0.3 drop, backend ${backend}, batch ${base.train.batchSize}`,
    '',
    '| model | train s / epoch | × fusemoe | inference ms / sample (batch 64) | × fusemoe | ms, one sample alone | × fusemoe |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.epoch.toFixed(2)} | ${(r.epoch / ref.epoch).toFixed(2)} | ${r.batchPerSample.toFixed(3)} | ${(r.batchPerSample / ref.batchPerSample).toFixed(2)} | ${r.single.toFixed(2)} | ${(r.single / ref.single).toFixed(2)} |`,
    ),
    '',
  ].join('\n'),
);

/**
 * Training time per epoch of REMIND vs FuseMoE on the same data, side by side.
 *
 *   npm run bench:remind -- [--records <set-a dir|tar.gz>] [--outcomes <file>] [--n 1200]
 *        [--epochs 2] [--d 32] [--experts 8] [--encoder mean-pool-mlp] [--backend wasm]
 *
 * Data: PhysioNet 2012 set-a with the seven clinical panels as modalities (the first n records,
 * natural missingness; set-b is never read); both models get the same encoder, width d, one
 * fusion block, n experts (FuseMoE: per-modality router, top-2 of n, learned missing embeddings;
 * REMIND: Soft MoE with one slot per expert, group embeddings, residual routing). Prints seconds
 * per epoch (median over epochs) of each model and the ratio REMIND / FuseMoE. A figure, not a test.
 */
import { initEngine } from '../src/engine/backend.js';
import { loadDataset } from '../src/data/load.js';
import { fitNormalizer } from '../src/data/normalize.js';
import { makeBatch } from '../src/data/batch.js';
import { parseConfig } from '../src/config/parse.js';
import { buildModel } from '../src/models/build.js';
import { train } from '../src/train/trainer.js';
import type { Sample } from '../src/data/schema.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

const records = arg('records', '../shared/data/physionet2012/set-a.tar.gz');
const outcomes = arg('outcomes', '../shared/data/physionet2012/Outcomes-a.txt');
const n = Number(arg('n', '1200'));
const epochs = Number(arg('epochs', '2'));
const d = Number(arg('d', '32'));
const experts = Number(arg('experts', '8'));
const encoder = arg('encoder', 'mean-pool-mlp');
const backend = arg('backend', 'wasm') as 'wasm' | 'cpu';

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  await initEngine({ backend });
  const data = await loadDataset({ type: 'physionet2012', records, outcomes, grouping: 'seven-groups' }, '.');
  const samples = data.samples.slice(0, n);
  const cut = Math.floor(samples.length * 0.85);
  const trainSet = samples.slice(0, cut);
  const val = samples.slice(cut);
  const norm = fitNormalizer(data.spec, trainSet);
  const toBatch = (s: Sample[]) => makeBatch(data.spec, s, norm);
  const enc = { kind: encoder, gamma: 16, dt: 16, heads: 4 };
  const models = {
    fusemoe: { type: 'fusemoe', d, blocks: 1, heads: 4, dropout: 0.1, encoder: enc, moe: { numExperts: experts, topK: 2, hidden: 2 * d, router: 'per-modality' } },
    remind: { type: 'remind', d, blocks: 1, heads: 4, dropout: 0.1, encoder: enc, softMoe: { numExperts: experts, slotsPerExpert: 1, hidden: 2 * d } },
  };
  const perEpoch: Record<string, number> = {};
  for (const [name, model] of Object.entries(models)) {
    const cfg = parseConfig({ data: { type: 'synthetic' }, model, train: { epochs, batchSize: 32, patience: 0, collapseDetector: false } }, 'bench');
    const m = buildModel(cfg.model, data.spec, 1);
    try {
      const r = train(
        { model: m, task: data.spec.task, train: trainSet, val, toBatch, scoreValidation: () => ({}), progress: false, log: () => {} },
        { ...cfg.train, loss: { ...cfg.train.loss, posWeight: 1 }, seed: 1 },
      );
      perEpoch[name] = median(r.history.map((h) => h.seconds));
    } finally {
      m.dispose();
    }
    console.log(`${name.padEnd(8)} ${perEpoch[name]!.toFixed(2)} s/epoch (${trainSet.length} training samples, ${data.spec.modalities.length} modalities, d ${d}, ${experts} experts, encoder ${encoder}, ${backend})`);
  }
  console.log(`ratio REMIND / FuseMoE: ${(perEpoch.remind! / perEpoch.fusemoe!).toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

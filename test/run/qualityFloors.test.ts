/**
 * Quality floors on real data: a broken model cannot meet them, a working one meets them with
 * margin. Each trains one small preset-shaped model once (one seed, 3 epochs) and skips with a
 * printed reason when ../shared/data is absent. PhysioNet set-b (held out) is never read here.
 *
 * How the floors were chosen (measured 2026-12-06 on the 2-core dev machine, same configs):
 * - PhysioNet 2012 set-a, late-fusion baseline (baseline-physionet2012 preset's model), 3 epochs:
 *   test AUROC 0.800 / 0.803 / 0.812 (seeds 3 / 2 / 1, the last with 4 epochs), Brier 0.097–0.099.
 *   Floor AUROC ≥ 0.75 (chance 0.5); Brier ≤ 0.112, below the 0.119 of always predicting the
 *   13.85 % prevalence — a model that learned nothing cannot get under it.
 * - UCI mfeat, all six views, late-fusion baseline, 3 epochs: test accuracy 0.957 / 0.960, macro
 *   AUROC 0.999 (seeds 1 / 2). Floor accuracy ≥ 0.85 (chance 0.10), macro AUROC ≥ 0.95.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';
import { initEngine } from '../../src/engine/backend.js';
import { sharedData, skipUnless } from '../data/fixtures.js';

const quiet = (): void => {};
const train = { batchSize: 64, lr: 0.001, weightDecay: 0.0001, patience: 0 };

test('PhysioNet 2012 set-a: the baseline preset model clears AUROC 0.75 and the prevalence Brier', async (t) => {
  const p12 = join(sharedData, 'physionet2012');
  const why = skipUnless(join(p12, 'set-a.tar.gz'));
  if (why) {
    console.log(`skipped: ${why}`);
    t.skip(why);
    return;
  }
  await initEngine({});
  const cfg = parseConfig(
    {
      seeds: [1],
      data: { type: 'physionet2012', records: join(p12, 'set-a.tar.gz'), outcomes: join(p12, 'Outcomes-a.txt'), grouping: 'vitals-labs' },
      split: { fractions: [0.7, 0.15, 0.15], seed: 0 },
      model: { type: 'baseline', d: 64, encoder: { kind: 'mean-pool-mlp' }, hidden: [128], dropout: 0.2 },
      train: { ...train, epochs: 3 },
    },
    'quality floor (PhysioNet)',
  );
  const out = mkdtempSync(join(tmpdir(), 'fm-floor-p12-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const res = await runExperiment(cfg, { baseDir: '.', outDir: out, log: quiet, progress: false, saveModels: false });
  const auroc = res.metrics.test!.auroc!.mean!;
  const brier = res.metrics.test!.brier!.mean!;
  console.log(`PhysioNet set-a baseline, 3 epochs: test AUROC ${auroc.toFixed(4)}, Brier ${brier.toFixed(4)}`);
  assert.ok(auroc >= 0.75, `test AUROC ${auroc} below the floor 0.75`);
  assert.ok(brier <= 0.112, `test Brier ${brier} above the floor 0.112`);
});

test('UCI mfeat (six views): the baseline clears accuracy 0.85 and macro AUROC 0.95', async (t) => {
  const dir = join(sharedData, 'uci-mfeat');
  const why = skipUnless(join(dir, 'labels.csv'));
  if (why) {
    console.log(`skipped: ${why}`);
    t.skip(why);
    return;
  }
  await initEngine({});
  const views = Object.fromEntries(['fac', 'fou', 'kar', 'mor', 'pix', 'zer'].map((v) => [v, join(dir, `mfeat-${v}.csv`)]));
  const cfg = parseConfig(
    {
      seeds: [1],
      data: { type: 'multiview-csv', views, labels: join(dir, 'labels.csv'), labelColumn: 'digit', idColumn: 'index' },
      split: { fractions: [0.7, 0.15, 0.15], seed: 0 },
      model: { type: 'baseline', d: 32, encoder: { kind: 'mean-pool-mlp' }, hidden: [64], dropout: 0.2 },
      train: { ...train, epochs: 3, monitor: 'accuracy' },
    },
    'quality floor (mfeat)',
  );
  const out = mkdtempSync(join(tmpdir(), 'fm-floor-mfeat-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const res = await runExperiment(cfg, { baseDir: '.', outDir: out, log: quiet, progress: false, saveModels: false });
  const acc = res.metrics.test!.accuracy!.mean!;
  const auroc = res.metrics.test!.auroc!.mean!;
  console.log(`mfeat baseline, 3 epochs: test accuracy ${acc.toFixed(4)}, macro AUROC ${auroc.toFixed(4)}`);
  assert.ok(acc >= 0.85, `test accuracy ${acc} below the floor 0.85`);
  assert.ok(auroc >= 0.95, `test macro AUROC ${auroc} below the floor 0.95`);
});

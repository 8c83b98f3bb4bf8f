import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { readConfigFile } from '../../src/config/parse.js';
import { registerTrainCommand } from '../../src/cli/train.js';
import { validateMetricsJson } from '../../src/eval/aggregate.js';
import { xgboostAvailable } from '../../src/models/gbt/xgboostLibrary.js';

/** ../shared/data beside the repository (main checkout) or two levels up (a worktree under wt/). */
const p12 = [resolve('../shared/data/physionet2012'), resolve('../../shared/data/physionet2012')].find((d) => existsSync(join(d, 'sample', 'set-a')));

test('fleximodal train with the xgboost-physionet2012 preset on real PhysioNet 2012 set-a records (51-record sample)', async (t) => {
  const lib = xgboostAvailable();
  if (!lib.ok) {
    console.log(`# skipped: libxgboost absent (${lib.reason})`);
    t.skip('libxgboost absent');
    return;
  }
  if (!p12) {
    console.log('# skipped: PhysioNet 2012 sample not found in ../shared/data or ../../shared/data');
    t.skip('PhysioNet 2012 data absent');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'fm-xgb-p12-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // the preset itself, on the set-a sample, one seed, no external set
  const preset = readConfigFile(resolve('configs/xgboost-physionet2012.json')) as Record<string, unknown>;
  const cfg = {
    ...preset,
    seeds: [1],
    data: { ...(preset.data as object), records: join(p12, 'sample', 'set-a'), outcomes: join(p12, 'sample', 'Outcomes-sample.txt') },
    externalData: null,
    split: { fractions: [0.6, 0.2, 0.2], seed: 0 },
    model: { ...(preset.model as object), nRounds: 60, earlyStoppingRounds: 10, nthread: 1 },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  const out = join(dir, 'run');
  const program = new Command().exitOverride();
  registerTrainCommand(program);
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  let printed = '';
  process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((printed += s), true)) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'fleximodal', 'train', '--config', join(dir, 'config.json'), '--out', out, '--no-progress']);
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
  assert.match(printed, /XGBoost \d+\.\d+\.\d+ .*features, kept \d+ of \d+ rounds/);
  const metrics = validateMetricsJson(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')));
  for (const split of ['train', 'val', 'test'] as const) assert.ok(Number.isFinite(metrics[split]!.brier!.mean!), `${split} brier`);
  const groups = metrics.groups.train!;
  assert.ok(Object.keys(groups).length >= 2, `per-group metrics (${Object.keys(groups).join(', ')})`);
  assert.equal(
    Object.values(metrics.groups.test!).reduce((a, g) => a + g.n, 0),
    metrics.test!.n!.mean,
    'the groups partition the test split',
  );
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.equal(manifest.config.model.type, 'xgboost');
  const features = JSON.parse(readFileSync(join(out, 'model', 'features.json'), 'utf8')).features as string[];
  assert.ok(features.includes('vitals.HR.last') && features.includes('vitals.present'), 'PhysioNet variables as features');
});

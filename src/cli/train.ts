/**
 * `fleximodal train [--config <file>] [--out <dir>] [--seeds 1,2,3] [--set key=value ...]`
 * Without --config it trains the built-in default (synthetic FlexiModal data, late-fusion baseline).
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseConfig, readConfigFile, applyOverride } from '../config/parse.js';
import { runExperiment } from '../run/experiment.js';
import { metricsReport } from '../eval/report.js';
import { defaultConfigPath } from './defaults.js';
import { parseSeeds, collect } from './options.js';
import { externalSourceFromArg } from './dataArg.js';
import { runDirModeOf } from './runDirOptions.js';
import { resolveSetPaths } from './setPaths.js';
import { prepareOutDir } from './outPaths.js';
import { FlexiModalError } from '../errors.js';

/** Load a config file, apply `--set` overrides and `--backend`, validate. */
export function loadRunConfig(configPath: string, sets: string[], backend?: string) {
  let raw = readConfigFile(configPath);
  for (const s of sets) raw = resolveSetPaths(applyOverride(raw, s), s);
  if (backend) raw = applyOverride(raw, `engine.backend=${backend}`);
  return parseConfig(raw, configPath);
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train a model from a config; writes metrics.json, summary.md, model/, split.json and manifest.json')
    .option('-c, --config <file>', 'run configuration (JSON); default: the built-in synthetic demo')
    .option('-o, --out <dir>', 'output directory', 'runs/latest')
    .option('--seeds <list>', 'comma-separated seeds (overrides the config), e.g. 1,2,3')
    .option('--external-data <path>', 'a second test set (split "external"): a .jsonl file, a data-source .json, or PhysioNet records (dir/.tar.gz, with --external-outcomes)')
    .option('--external-outcomes <file>', 'outcomes file for PhysioNet --external-data')
    .option('--set <key=value>', 'override a config key, e.g. --set train.lr=3e-4 (repeatable)', collect, [])
    .option('--backend <name>', 'tensor backend: wasm (default) or cpu')
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .option('--overwrite', 'clear an existing non-empty --out directory first')
    .option('--resume', 'continue the interrupted run in --out from its checkpoints (same config, --set and --seeds)')
    .action(async (o: { config?: string; out: string; seeds?: string; externalData?: string; externalOutcomes?: string; set: string[]; backend?: string; progress: boolean; overwrite?: boolean; resume?: boolean }) => {
      if (o.externalOutcomes && !o.externalData) {
        throw new FlexiModalError('--external-outcomes is only read with --external-data (PhysioNet records)', {
          where: `--external-outcomes ${o.externalOutcomes}`,
          hint: 'add --external-data <records dir or .tar.gz>, or drop --external-outcomes',
        });
      }
      prepareOutDir(o.out);
      const runDir = runDirModeOf(o);
      const configPath = resolve(o.config ?? defaultConfigPath());
      const cfg = loadRunConfig(configPath, o.set, o.backend);
      if (o.externalData) cfg.externalData = externalSourceFromArg(o.externalData, o.externalOutcomes, cfg.data);
      const seeds = o.seeds ? parseSeeds(o.seeds) : undefined;
      const res = await runExperiment(cfg, { baseDir: dirname(configPath), outDir: o.out, seeds, progress: o.progress ? 'auto' : false, runDir, keepIncomplete: true /* --resume continues it */ });
      // the console shows overall metrics and the test split per group; summary.md has everything
      const shown = { ...res.metrics, groups: res.metrics.groups.test ? { test: res.metrics.groups.test } : {} };
      process.stdout.write('\n' + metricsReport(shown, { title: `${cfg.name}: mean ± std over ${res.seeds.length} seed(s)` }) + '\n');
      process.stdout.write(`\nwrote ${res.outDir}: metrics.json, summary.md (all splits and groups), plots/*.svg, model/, ${cfg.split.seed === 'per-seed' ? 'seeds/<s>/split.json' : 'split.json'}, manifest.json — ${res.wallSeconds.toFixed(1)} s\n`);
    });
}

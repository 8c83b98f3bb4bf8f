/**
 * `fleximodal evaluate --model <dir> --data <path> [--outcomes <file>] [--out <dir>]`
 * Metrics of a saved model on a dataset, overall and per modality-combination group.
 */
import { writeFileAtomic } from '../io/atomicWrite.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OwnedOutputDir, checkOwnedOpen, readLedger } from '../io/ownedOutput.js';
import { checkOverwriteForeign, OVERWRITE_HELP, OVERWRITE_FOREIGN_HELP } from './runDirOptions.js';
import type { Command } from 'commander';
import { initEngine } from '../engine/backend.js';
import { loadModel } from '../models/persist.js';
import { loadDataset } from '../data/load.js';
import { makeBatch } from '../data/batch.js';
import { formatReport } from '../data/report.js';
import type { Sample } from '../data/schema.js';
import { evaluateSamples } from '../run/experiment.js';
import { aggregateSeeds, seedResultFromEvaluations, metricsJsonString } from '../eval/aggregate.js';
import { metricsReport } from '../eval/report.js';
import { dataSourceFromOptions } from './dataArg.js';
import { checkOutDirPath } from './outPaths.js';
import { alignDataset } from '../data/specMatch.js';
import { trainingOverlap, overlapWarning } from '../data/degenerate.js';
import { modelDirOf } from '../models/persist.js';
import { FlexiModalError } from '../errors.js';
import { applyInputBounds, outOfRangePolicyOf } from '../data/inputBounds.js';

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate a saved model on a dataset (reported as the "external" split of metrics.json)')
    .requiredOption('-m, --model <dir>', 'a run directory or its model/ directory')
    .option('-d, --data <path>', 'JSONL file, data-source JSON, or PhysioNet 2012 directory/.tar.gz')
    .option('--data-config <json>', 'a JSON file holding any data source the trainer accepts (or a run config: its data section)')
    .option('--outcomes <file>', 'PhysioNet 2012 outcomes file (with a PhysioNet --data)')
    .option('-o, --out <dir>', 'write metrics.json and summary.md here (a new or empty directory)')
    .option('--overwrite', OVERWRITE_HELP)
    .option('--overwrite-foreign', OVERWRITE_FOREIGN_HELP)
    .option('--out-of-range <policy>', 'values far outside the training range of their variable or time: drop (default), flag (kept) or off; counted in the summary', 'drop')
    .option('--backend <name>', 'tensor backend: wasm (default) or cpu', 'wasm')
    .action(async (o: { model: string; data?: string; dataConfig?: string; outcomes?: string; out?: string; backend: string; overwrite?: boolean; overwriteForeign?: boolean; outOfRange: string }) => {
      const outOfRange = outOfRangePolicyOf(o.outOfRange);
      checkOverwriteForeign(o);
      const ownerCommand = o.out ? readLedger(resolve(o.out))?.header.command : undefined;
      if (o.out && (existsSync(join(o.out, 'model.json')) || (ownerCommand && ownerCommand !== 'evaluate'))) {
        throw new FlexiModalError(`--out ${o.out} is ${ownerCommand === 'train' ? 'a training run directory' : ownerCommand ? `the output of \`fleximodal ${ownerCommand}\`` : 'a model directory'}: evaluation reports do not belong there`, {
          where: `--out ${o.out}`,
          hint: 'write the evaluation to its own directory, e.g. --out runs/eval-setb',
        });
      }
      if (o.out && (existsSync(join(o.out, 'manifest.json')) || existsSync(join(o.out, 'model')))) {
        // its metrics.json is the training run's record: never replace it with an evaluation
        throw new FlexiModalError(`--out ${o.out} is a training run directory; evaluating into it would replace its metrics.json and summary.md`, {
          where: `--out ${o.out}`,
          hint: 'write the evaluation to its own directory, e.g. --out runs/eval-setb',
        });
      }
      if (o.out) {
        checkOutDirPath(o.out);
        checkOwnedOpen(o.out, { command: 'evaluate', mode: o.overwrite ? 'overwrite' : 'new', overwriteForeign: o.overwriteForeign });
      }
      await initEngine({ backend: o.backend === 'cpu' ? 'cpu' : 'wasm' });
      const { model, meta } = loadModel(o.model);
      const { source, baseDir, label } = dataSourceFromOptions(o, meta.spec, meta.ranges);
      const loaded = await loadDataset(source, baseDir);
      process.stderr.write(formatReport(loaded.report, 'text') + '\n');
      // the same check as predict and Predictor: modalities, variables and classes by name
      const aligned = alignDataset(meta.spec, loaded, label);
      // values far outside what the model saw in training (src/data/inputBounds.ts): dropped or flagged, counted
      const outside = new Map<string, number>();
      let outsideSamples = 0;
      const dataset = {
        ...aligned,
        samples: aligned.samples.map((s) => {
          const { sample, mark } = applyInputBounds(meta.spec, meta.inputBounds, s, outOfRange);
          if (mark) outsideSamples++;
          for (const [v, k] of Object.entries(mark?.variables ?? {})) outside.set(v, (outside.get(v) ?? 0) + k);
          return sample;
        }),
      };
      const overlap = trainingOverlap(modelDirOf(o.model), meta.spec, dataset.samples);
      const warnings = overlap?.length ? [overlapWarning(overlap, dataset.samples.length)] : [];
      if (outside.size) {
        const total = [...outside.values()].reduce((a, b) => a + b, 0);
        warnings.push(
          `${total} value(s) in ${outsideSamples} sample(s) were far outside the training range (${[...outside].map(([v, k]) => `${v} ${k}`).join(', ')}): ${outOfRange === 'drop' ? 'dropped' : 'kept (--out-of-range flag)'}`,
        );
      }
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      const toBatch = (s: Sample[]) => makeBatch(meta.spec, s, meta.normalizer, { maxTimesteps: meta.maxTimesteps });
      const threshold = typeof meta.threshold === 'number' ? meta.threshold : undefined;
      const { grouped } = evaluateSamples(model, { spec: meta.spec }, dataset.samples, toBatch, threshold);
      const metrics = { ...aggregateSeeds([seedResultFromEvaluations({ external: grouped })]), ...(warnings.length ? { warnings } : {}) };
      const md = metricsReport(metrics, { title: `evaluation of ${o.model} on ${label}` });
      process.stdout.write(md + '\n');
      if (o.out) {
        // a new or empty directory; --overwrite removes only what an earlier evaluate wrote (src/io/ownedOutput.ts)
        const owned = OwnedOutputDir.open(o.out, { command: 'evaluate', mode: o.overwrite ? 'overwrite' : 'new', overwriteForeign: o.overwriteForeign });
        const outDir = owned.dir;
        try {
        writeFileAtomic(join(outDir, 'metrics.json'), metricsJsonString(metrics));
        writeFileAtomic(join(outDir, 'summary.md'), md + (warnings.length ? `\n${warnings.map((w) => `> warning: ${w}`).join('\n')}\n` : '\n'));
        } finally {
          owned.close();
        }
      }
      model.dispose();
    });
}

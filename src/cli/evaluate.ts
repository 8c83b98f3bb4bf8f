/**
 * `fleximodal evaluate --model <dir> --data <path> [--outcomes <file>] [--out <dir>]`
 * Metrics of a saved model on a dataset, overall and per modality-combination group.
 */
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { join } from 'node:path';
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
import { FlexiModalError } from '../errors.js';
import { dataSourceFromArg } from './dataArg.js';

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate a saved model on a dataset (reported as the "external" split of metrics.json)')
    .requiredOption('-m, --model <dir>', 'a run directory or its model/ directory')
    .requiredOption('-d, --data <path>', 'JSONL file, data-source JSON, or PhysioNet 2012 directory/.tar.gz')
    .option('--outcomes <file>', 'PhysioNet 2012 outcomes file (with a PhysioNet --data)')
    .option('-o, --out <dir>', 'write metrics.json and summary.md here')
    .option('--backend <name>', 'tensor backend: wasm (default) or cpu', 'wasm')
    .action(async (o: { model: string; data: string; outcomes?: string; out?: string; backend: string }) => {
      await initEngine({ backend: o.backend === 'cpu' ? 'cpu' : 'wasm' });
      const { model, meta } = loadModel(o.model);
      const { source, baseDir } = dataSourceFromArg(o.data, { outcomes: o.outcomes }, meta.spec);
      const dataset = await loadDataset(source, baseDir);
      process.stderr.write(formatReport(dataset.report, 'text') + '\n');
      const names = (s: typeof meta.spec) => s.modalities.map((m) => `${m.name}:${m.kind}`).join(',');
      if (names(dataset.spec) !== names(meta.spec)) {
        throw new FlexiModalError(`the data has modalities [${names(dataset.spec)}], the model expects [${names(meta.spec)}]`, {
          where: o.data,
          hint: 'read the data with the same modality grouping the model was trained with',
        });
      }
      const toBatch = (s: Sample[]) => makeBatch(meta.spec, s, meta.normalizer, { maxTimesteps: meta.maxTimesteps });
      const threshold = typeof meta.threshold === 'number' ? meta.threshold : undefined;
      const { grouped } = evaluateSamples(model, { spec: meta.spec }, dataset.samples, toBatch, threshold);
      const metrics = aggregateSeeds([seedResultFromEvaluations({ external: grouped })]);
      const md = metricsReport(metrics, { title: `evaluation of ${o.model} on ${o.data}` });
      process.stdout.write(md + '\n');
      if (o.out) {
        mkdirSync(o.out, { recursive: true });
        writeFileAtomic(join(o.out, 'metrics.json'), metricsJsonString(metrics));
        writeFileAtomic(join(o.out, 'summary.md'), md + '\n');
      }
      model.dispose();
    });
}

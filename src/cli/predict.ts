/**
 * `fleximodal predict --model <dir> (--input <jsonl> | --data <path> | --data-config <json>) [--explain] [--out <file>]`
 * Probabilities as JSON lines: {"id", "probs": {...}} (+ "explanation" with --explain: the
 * per-modality attribution and, for MoE models, the routing statistics — src/serve/explain.ts; and
 * "noModality": true for a sample with no modality at all).
 */
import { statSync } from 'node:fs';
import { outOfRangePolicyOf } from '../data/inputBounds.js';
import { OUT_OF_TRAINING_RANGE } from './outOfRangeReport.js';
import { OutputFile, checkOutputFile } from '../io/outputFile.js';
import { samplesToPredict } from './predictInput.js';
import type { Command } from 'commander';
import { initEngine } from '../engine/backend.js';
import { loadModel } from '../models/persist.js';
import type { Sample } from '../data/schema.js';
import { FlexiModalError } from '../errors.js';
import { predictSamples } from '../serve/predictor.js';
import { ReportBuilder, formatReport, NO_MODALITY } from '../data/report.js';

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('predict probabilities for samples in a FlexiModal JSON Lines file (labels optional)')
    .requiredOption('-m, --model <dir>', 'a run directory or its model/ directory')
    .option('-i, --input <jsonl>', 'samples in the FlexiModal JSONL format (docs/DATA.md)')
    .option('-d, --data <path>', 'instead of --input: a JSONL file, a data-source JSON, or PhysioNet 2012 records (with --outcomes)')
    .option('--data-config <json>', 'instead of --input: a JSON file holding any data source the trainer accepts (or a run config)')
    .option('--outcomes <file>', 'outcomes file for PhysioNet --data (the labels are not used)')
    .option('-o, --out <file>', 'write JSON lines here instead of stdout (a FIFO or /dev/stdout is written as a stream)')
    .option('--overwrite', 'replace an existing --out file')
    .option('--explain', 'add each sample\'s explanation: per-modality attribution p(record) − p(record without the modality); MoE models add routing statistics')
    .option('--empty-samples <policy>', 'samples with no modality: flag (mark "noModality": true) or refuse (error)', 'flag')
    .option('--out-of-range <policy>', 'values far outside the training range of their variable or time: drop (default: removed before predicting), flag (kept) or off; marked "outOfRange" and counted', 'drop')
    .option('--batch-size <n>', 'samples per batch', '64')
    .option('--backend <name>', 'tensor backend: wasm (default) or cpu', 'wasm')
    .action(async (o: { model: string; input?: string; data?: string; dataConfig?: string; outcomes?: string; out?: string; explain?: boolean; emptySamples: string; batchSize: string; backend: string; overwrite?: boolean; outOfRange: string }) => {
      const outOfRange = outOfRangePolicyOf(o.outOfRange);
      if (o.emptySamples !== 'flag' && o.emptySamples !== 'refuse') {
        throw new FlexiModalError(`--empty-samples must be flag or refuse, got '${o.emptySamples}'`, { where: '--empty-samples' });
      }
      if (o.out) checkOutputFile(o.out, { overwrite: o.overwrite }); // before any work (src/io/outputFile.ts)
      if (o.input && statSync(o.input, { throwIfNoEntry: false })?.size === 0) {
        throw new FlexiModalError('the input file is empty (0 bytes): nothing to predict', { where: `--input ${o.input}`, hint: 'give a FlexiModal JSONL file with one sample per line (docs/DATA.md)' });
      }
      await initEngine({ backend: o.backend === 'cpu' ? 'cpu' : 'wasm' });
      const { model, meta } = loadModel(o.model);
      if (!o.input && !o.data && !o.dataConfig) {
        throw new FlexiModalError('no input given', { hint: 'pass --input <jsonl>, --data <path> or --data-config <data-source.json>' });
      }
      // a file is written to a temporary name and renamed when complete (an interrupted predict
      // leaves no partial file); a FIFO or device is written in place (src/io/outputFile.ts)
      const outFile = o.out ? OutputFile.open(o.out, { overwrite: o.overwrite }) : undefined;
      const out = outFile ?? process.stdout;
      try {
      const batchSize = Math.max(1, Number(o.batchSize) || 64);
      const report = new ReportBuilder();
      let pending: Sample[] = [];
      let count = 0;
      let flagged = 0;
      const flush = () => {
        if (!pending.length) return;
        for (const rec of predictSamples(model, meta, pending, { explain: o.explain, emptySamples: o.emptySamples as 'flag' | 'refuse', outOfRange })) {
          if (rec.noModality) flagged++;
          for (const [v, k] of Object.entries(rec.outOfRange?.variables ?? {})) report.count(OUT_OF_TRAINING_RANGE[outOfRange === 'drop' ? 'drop' : 'flag'], k, v);
          out.write(JSON.stringify(rec) + '\n');
        }
        count += pending.length;
        pending = [];
      };
      for await (const sample of samplesToPredict(o, meta.spec, meta.ranges, report)) {
        pending.push(sample);
        if (pending.length >= batchSize) flush();
      }
      flush();
      report.count(NO_MODALITY, flagged);
      // what the input cleaning dropped and the flagged samples, when there is anything to say
      if (Object.keys(report.counts).length) {
        const lines = formatReport(report.build(o.input ?? o.data ?? o.dataConfig ?? 'input', count, []), 'text').split('\n');
        process.stderr.write([lines[0], `  samples predicted ${count}`, ...lines.slice(2)].join('\n') + '\n');
      }
      if (outFile) {
        outFile.commit();
        process.stderr.write(`wrote ${count} predictions to ${o.out}\n`);
      }
      } finally {
        outFile?.abort(); // no-op after commit; removes the temporary file on any failure
        model.dispose();
      }
    });
}

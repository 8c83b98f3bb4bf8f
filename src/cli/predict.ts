/**
 * `fleximodal predict --model <dir> --input <jsonl> [--explain] [--out <file>]`
 * Probabilities as JSON lines: {"id", "probs": {...}} (+ "explanation" with --explain).
 */
import { createWriteStream, renameSync } from 'node:fs';
import { tempPathFor } from '../io/atomicWrite.js';
import { samplesToPredict } from './predictInput.js';
import type { Command } from 'commander';
import { initEngine } from '../engine/backend.js';
import { loadModel } from '../models/persist.js';
import { makeBatch } from '../data/batch.js';
import type { Sample } from '../data/schema.js';
import { tf } from '../engine/tf.js';
import { logitsToProbs } from '../train/taskLoss.js';
import { FlexiModalError } from '../errors.js';
import { probabilityRecord } from '../serve/predictor.js';

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('predict probabilities for samples in a FlexiModal JSON Lines file (labels optional)')
    .requiredOption('-m, --model <dir>', 'a run directory or its model/ directory')
    .option('-i, --input <jsonl>', 'samples in the FlexiModal JSONL format (docs/DATA.md)')
    .option('-d, --data <path>', 'instead of --input: a JSONL file, a data-source JSON, or PhysioNet 2012 records (with --outcomes)')
    .option('--data-config <json>', 'instead of --input: a JSON file holding any data source the trainer accepts (or a run config)')
    .option('--outcomes <file>', 'outcomes file for PhysioNet --data (the labels are not used)')
    .option('-o, --out <file>', 'write JSON lines here instead of stdout')
    .option('--explain', 'add each sample\'s top experts and modality shares (MoE models)')
    .option('--batch-size <n>', 'samples per batch', '64')
    .option('--backend <name>', 'tensor backend: wasm (default) or cpu', 'wasm')
    .action(async (o: { model: string; input?: string; data?: string; dataConfig?: string; outcomes?: string; out?: string; explain?: boolean; batchSize: string; backend: string }) => {
      await initEngine({ backend: o.backend === 'cpu' ? 'cpu' : 'wasm' });
      const { model, meta } = loadModel(o.model);
      if (o.explain && !model.explain) {
        throw new FlexiModalError(`model type '${model.type}' has no experts to explain`, { where: o.model, hint: 'drop --explain or use a fusemoe model' });
      }
      const outTmp = o.out ? tempPathFor(o.out) : null;
      const out = outTmp ? createWriteStream(outTmp) : process.stdout;
      const batchSize = Math.max(1, Number(o.batchSize) || 64);
      let pending: Sample[] = [];
      let count = 0;
      const flush = () => {
        if (!pending.length) return;
        const batch = makeBatch(meta.spec, pending, meta.normalizer, { maxTimesteps: meta.maxTimesteps });
        const probs = tf.tidy(() => logitsToProbs(meta.spec.task, model.forward(batch, { training: false }).logits).arraySync());
        const explanations = o.explain ? model.explain!(batch) : undefined;
        pending.forEach((s, i) => {
          const rec: Record<string, unknown> = { id: s.id, ...probabilityRecord(meta, probs[i]!) };
          if (explanations) rec.explanation = explanations[i];
          out.write(JSON.stringify(rec) + '\n');
        });
        count += pending.length;
        pending = [];
      };
      for await (const sample of samplesToPredict(o, meta.spec)) {
        pending.push(sample);
        if (pending.length >= batchSize) flush();
      }
      flush();
      if (o.out) {
        await new Promise<void>((r) => (out as ReturnType<typeof createWriteStream>).end(r));
        renameSync(outTmp!, o.out);
        process.stderr.write(`wrote ${count} predictions to ${o.out}\n`);
      }
      model.dispose();
    });
}

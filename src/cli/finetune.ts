/**
 * `fleximodal finetune --run <dir> --parts nothing,head,router,router+head,router+head+experts
 *  [--epochs 10] [--lr x] [--batch-size n] [-o <dir>]`
 * Fine-tunes a run's models on its held-out groups (split.holdOutGroups) with chosen parts
 * unfrozen and tabulates the held-out groups' metrics per choice (src/run/finetuneRun.ts).
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FlexiModalError } from '../errors.js';
import { runFinetune } from '../run/finetuneRun.js';
import { checkOverwriteForeign, OVERWRITE_HELP, OVERWRITE_FOREIGN_HELP } from './runDirOptions.js';

/** A positive number option, or a FlexiModalError naming it. */
function positive(name: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (!(x > 0) || (integer && !Number.isInteger(x))) throw new FlexiModalError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got '${text}'`);
  return x;
}

export function registerFinetuneCommand(program: Command): void {
  program
    .command('finetune')
    .description('fine-tune a run on its held-out modality combinations (split.holdOutGroups) with chosen parts unfrozen; one table + plot')
    .requiredOption('--run <dir>', 'a run directory trained with split.holdOutGroups')
    .option('--parts <list>', 'comma-separated choices: nothing, or parts joined by + from head, router, experts, missing, encoders', 'nothing,head,router,router+head,router+head+experts')
    .option('--epochs <n>', 'fine-tuning epochs', '10')
    .option('--lr <x>', "learning rate (default: the run's train.lr)")
    .option('--batch-size <n>', "batch size (default: the run's train.batchSize)")
    .option('-o, --out <dir>', 'output directory (default: <run>/finetune)')
    .option('--overwrite', OVERWRITE_HELP)
    .option('--overwrite-foreign', OVERWRITE_FOREIGN_HELP)
    .action(async (o: { run: string; parts: string; epochs: string; lr?: string; batchSize?: string; out?: string; overwrite?: boolean; overwriteForeign?: boolean }) => {
      checkOverwriteForeign(o);
      const choices = o.parts.split(',').map((c) => c.trim()).filter(Boolean);
      if (!choices.length) throw new FlexiModalError('--parts lists no choice', { hint: 'e.g. --parts nothing,head,router+head' });
      await runFinetune(o.run, {
        choices,
        epochs: positive('--epochs', o.epochs, true)!,
        lr: positive('--lr', o.lr, false),
        batchSize: positive('--batch-size', o.batchSize, true),
        outDir: resolve(o.out ?? join(o.run, 'finetune')),
        outMode: o.overwrite ? 'overwrite' : 'new',
        overwriteForeign: o.overwriteForeign,
        print: true,
      });
    });
}

/**
 * `fleximodal finetune`: for a run trained with split.holdOutGroups, fine-tune each seed's saved
 * model on the held-out groups' labelled part with only the chosen parts unfrozen (fixed epochs, last
 * weights kept: there is no validation set for unseen groups), evaluate on
 * the held-out test part, and write finetune.json (choice → metrics.json object), finetune.md
 * and plots/finetune.svg.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initEngine } from '../engine/backend.js';
import { parseConfig } from '../config/parse.js';
import { loadDataset } from '../data/load.js';
import { makeBatch } from '../data/batch.js';
import type { Sample } from '../data/schema.js';
import { loadModel } from '../models/persist.js';
import { FlexiModalError } from '../errors.js';
import { finetuneParts } from '../train/finetune.js';
import { parsePartChoice } from '../train/freeze.js';
import { labelsOf, predict } from '../train/predict.js';
import { computeMetrics } from '../eval/evaluate.js';
import { aggregateSeeds, seedResultFromEvaluations, type MetricsJson, type MetricSummary } from '../eval/aggregate.js';
import { compareTable } from '../eval/report.js';
import { barChartWithErrors } from '../eval/plots/barChartWithErrors.js';
import { applyMissingness } from './missingnessProtocol.js';
import { readHeldOutFile } from './heldOut.js';
import { evalTaskOf, groupedMetrics, resolvePosWeight } from './experiment.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { OwnedOutputDir, checkOwnedOpen } from '../io/ownedOutput.js';

/** Options of `runFinetune`. */
export interface FinetuneRunOptions {
  /** Choices such as "nothing", "head", "router+head". */
  choices: string[];
  epochs: number;
  /** Learning rate (default: the run's train.lr). */
  lr?: number;
  /** Batch size (default: the run's train.batchSize). */
  batchSize?: number;
  outDir: string;
  /** A non-empty outDir: refused ('new', default) or cleared of what fleximodal wrote ('overwrite'; src/io/ownedOutput.ts). */
  outMode?: 'new' | 'overwrite';
  /** With outMode 'overwrite': also delete entries fleximodal did not write. */
  overwriteForeign?: boolean;
  log?: (line: string) => void;
  /** Print the Markdown table on stdout (the CLI). */
  print?: boolean;
}

/** Runs every choice on every seed of the run; returns choice → metrics (split "test" = held-out test part). */
export async function runFinetune(runDir: string, opts: FinetuneRunOptions): Promise<Record<string, MetricsJson>> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const dir = resolve(runDir);
  const choices = opts.choices.map((c) => ({ name: c.trim(), parts: parsePartChoice(c, '--parts') }));
  const outOpts = { command: 'finetune', mode: opts.outMode ?? 'new', overwriteForeign: opts.overwriteForeign } as const;
  checkOwnedOpen(opts.outDir, outOpts); // refused before the fine-tuning, not after
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new FlexiModalError('config.json not found', { where: dir, hint: 'pass a run directory written by `fleximodal train`' });
  const cfg = parseConfig(JSON.parse(readFileSync(configPath, 'utf8')), configPath);
  const held = readHeldOutFile(dir);
  const seeds = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { seeds: number[] }).seeds;
  await initEngine(cfg.engine);
  const dataset = applyMissingness(await loadDataset(cfg.data, held.baseDir), cfg.missingness, () => {});
  const byId = new Map(dataset.samples.map((s) => [s.id, s] as const));
  const pick = (ids: string[], part: string): Sample[] =>
    ids.map((id) => {
      const s = byId.get(id);
      if (!s) throw new FlexiModalError(`held-out sample "${id}" (${part} part) is not in the data`, { where: join(dir, 'heldout.json'), hint: 'the data changed since the run; retrain' });
      return s;
    });
  const finetuneSet = pick(held.finetune, 'fine-tuning');
  const testSet = pick(held.test, 'test');
  if (!finetuneSet.length || !testSet.length) {
    throw new FlexiModalError(`the held-out pool has ${finetuneSet.length} fine-tuning and ${testSet.length} test samples`, { where: 'config key split.holdOutFinetuneFraction', hint: 'hold out larger groups or change the fraction' });
  }
  log(`held-out groups ${Object.keys(held.groups).join(', ')}: fine-tuning on ${finetuneSet.length}, testing on ${testSet.length} samples; seeds ${seeds.join(', ')}`);
  const task = evalTaskOf(dataset.spec.task);
  const results: Record<string, MetricsJson> = {};
  for (const choice of choices) {
    const perSeed = [];
    for (const seed of seeds) {
      const { model, meta } = loadModel(join(dir, 'seeds', String(seed), 'model'));
      try {
        const toBatch = (s: Sample[]) => makeBatch(meta.spec, s, meta.normalizer, { maxTimesteps: meta.maxTimesteps });
        const result = finetuneParts(
          {
            model,
            task: meta.spec.task,
            samples: finetuneSet,
            toBatch,
            scoreValidation: (pred, samples) => computeMetrics(task, pred.probs, labelsOf(meta.spec.task, samples)) as unknown as Record<string, number>,
            log,
            label: `${choice.name} seed ${seed}`,
          },
          choice.parts,
          { ...cfg.train, loss: { ...cfg.train.loss, posWeight: resolvePosWeight(cfg, dataset.spec.task, finetuneSet) }, epochs: opts.epochs, lr: opts.lr ?? cfg.train.lr, batchSize: opts.batchSize ?? cfg.train.batchSize, seed },
        );
        const threshold = typeof meta.threshold === 'number' ? meta.threshold : undefined;
        const grouped = groupedMetrics({ spec: meta.spec }, testSet, predict(model, meta.spec.task, testSet, toBatch, 64), threshold);
        perSeed.push(seedResultFromEvaluations({ test: grouped }));
        log(`${choice.name} seed ${seed}: ${result ? `fine-tuned ${result.history.length} epochs (last loss ${result.history[result.history.length - 1]!.trainLoss.toFixed(4)})` : 'no fine-tuning'}; held-out test ${Object.entries(grouped.overall).filter(([k]) => ['accuracy', 'auroc', 'f1'].includes(k)).map(([k, v]) => `${k} ${v?.toFixed(4)}`).join(', ')}`);
      } finally {
        model.dispose();
      }
    }
    results[choice.name] = aggregateSeeds(perSeed);
  }
  const owned = OwnedOutputDir.open(opts.outDir, outOpts);
  try {
    await writeFinetuneReport(opts.outDir, dir, held, cfg.data.type, results, task.kind === 'multiclass' ? 'accuracy' : 'auroc', opts);
  } finally {
    owned.close();
  }
  return results;
}

/** finetune.json, finetune.md and the bar plot of the main metric per choice. */
async function writeFinetuneReport(
  outDir: string,
  runDir: string,
  held: ReturnType<typeof readHeldOutFile>,
  dataType: string,
  results: Record<string, MetricsJson>,
  metric: string,
  opts: FinetuneRunOptions,
): Promise<void> {
  mkdirSync(join(outDir, 'plots'), { recursive: true });
  writeFileAtomic(join(outDir, 'finetune.json'), JSON.stringify(results, null, 2) + '\n');
  const md = [
    `# Fine-tuning on unseen modality combinations`,
    '',
    `Run \`${runDir}\` (${dataType} data). Held out of training: ${Object.entries(held.groups).map(([g, n]) => `${g} (${n} samples)`).join(', ')}; ` +
      `fine-tuned on ${held.finetune.length} of them (fraction ${held.fraction}, seed ${held.seed}) for ${opts.epochs} epochs` +
      `${opts.lr !== undefined ? ` at lr ${opts.lr}` : ''}${opts.batchSize !== undefined ? `, batch size ${opts.batchSize}` : ''}, keeping the last epoch's weights; evaluated on the other ${held.test.length}. ` +
      'Rows: the parts unfrozen (nothing = the trained model as is). Mean ± std over the run’s seeds.',
    '',
    compareTable(results, { split: 'test', groups: true, title: 'Held-out groups (test part)' }),
    '',
    '![finetune](plots/finetune.svg)',
    '',
  ].join('\n');
  writeFileAtomic(join(outDir, 'finetune.md'), md);
  const bars = Object.entries(results)
    .map(([label, m]) => ({ label, s: m.test?.[metric] as MetricSummary | undefined }))
    .filter((b) => b.s && b.s.mean !== null)
    .map((b) => ({ label: b.label, mean: b.s!.mean!, std: b.s!.std ?? undefined }));
  if (bars.length) writeFileAtomic(join(outDir, 'plots', 'finetune.svg'), await barChartWithErrors(bars, { title: `held-out groups: test ${metric} per fine-tuned part`, yLabel: metric }));
  if (opts.print) process.stdout.write(md + '\n');
}

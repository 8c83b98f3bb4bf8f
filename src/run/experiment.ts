/**
 * One experiment: load data → split → for each seed (fit normaliser on train, build, train,
 * evaluate every split overall and per modality-combination group) → aggregate over seeds →
 * write the run directory (metrics.json, summary.md, model/, split.json, manifest.json, plots).
 */
import { paramName } from '../engine/params.js';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { engineBlas, engineSummary, engineThreads, initEngine } from '../engine/backend.js';
import type { Dataset, Sample, TaskSpec } from '../data/schema.js';
import { loadDataset } from '../data/load.js';
import { stratifiedSplit, readSplitFile, writeSplitFile, splitSamples, type Split } from '../data/split.js';
import { fitNormalizer, type Normalizer } from '../data/normalize.js';
import { makeBatch, newBatchCounters } from '../data/batch.js';
import { groupIdOf, groupName } from '../data/groups.js';
import { formatReport } from '../data/report.js';
import { FlexiModalError } from '../errors.js';
import type { RunConfig } from '../config/schema.js';
import { buildModel } from '../models/build.js';
import { saveModel } from '../models/persist.js';
import { EnsembleModel, snapshotWeights } from '../models/ensemble.js';
import { seedFor } from '../engine/seed.js';
import type { tf } from '../engine/tf.js';
import type { FusionModel } from '../models/model.js';
import { train, type TrainResult } from '../train/trainer.js';
import { predict, labelsOf, type Predictions } from '../train/predict.js';
import type { TrainerCallback } from '../train/callbacks.js';
import { CollapseDetector } from '../train/collapseDetector.js';
import { computeMetrics, evaluateByGroup, type GroupedMetrics } from '../eval/evaluate.js';
import { aggregateSeeds, seedResultFromEvaluations, metricsJsonString, type MetricsJson, type SeedResult } from '../eval/aggregate.js';
import { bestF1Threshold } from '../eval/metrics/f1.js';
import type { Task, Split as EvalSplit } from '../eval/task.js';
import { newManifest } from './manifest.js';
import { writeRunReport } from './runReport.js';
import { expertUsage, type ExpertUsage } from '../analysis/expertUsage.js';
import { applyMissingness } from './missingnessProtocol.js';
import { RemindAnalyses } from '../analysis/remindAnalyses.js';
import { retrieverUsage, type RetrieverUsage } from '../analysis/retrieverUsage.js';
import { makeGroupWeighting } from '../train/groupWeighting.js';
import { heldOutTestSamples, withoutHeldOutGroups } from './heldOut.js';
import { writePredictionsFile } from './predictionsFile.js';
import { aggregatePresence, presenceMetrics, type PresenceSeed } from '../eval/presence.js';
import { hasModality } from '../data/schema.js';
import { aggregateLongTail, headTailGroups, longTailOfSeed, type LongTailSeed } from '../eval/longTail.js';
import { INCOMPLETE_FILE, withRunDirectory, type RunDirectory, type RunDirMode } from './runDirectory.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { withPlotsOptional } from '../eval/plots/render.js';
import { withDefaultSignals } from '../io/interrupt.js';
import { FileCheckpoint } from '../train/checkpoint.js';
import { checkEmptySamples, checkSplitClasses, overlapWarning, sharedWithTraining, writeTrainingSamples } from '../data/degenerate.js';
import { alignDataset } from '../data/specMatch.js';
import { rangePolicyOf } from '../data/load.js';
import { fitInputBounds } from '../data/inputBounds.js';

export interface ExperimentOptions {
  /** Directory of the config file: data paths in the config are relative to it. */
  baseDir: string;
  outDir: string;
  /** Overrides `config.seeds`. */
  seeds?: number[];
  progress?: boolean | 'auto';
  log?: (line: string) => void;
  /** Extra callbacks (e.g. a collapse detector). */
  callbacks?: (seed: number) => TrainerCallback[];
  /** Save the trained models (default true). */
  saveModels?: boolean;
  /** An existing non-empty outDir: refused ('new', default), cleared ('overwrite') or continued ('resume'). */
  runDir?: RunDirMode;
  /**
   * When the run fails and `outDir` did not exist before this call, the incomplete directory is
   * removed (default), so a failed call leaves nothing behind. `true` keeps it (with its
   * `INCOMPLETE` marker and checkpoints) for `--resume`; the CLI's `train` keeps it. A run stopped
   * by an AbortError (an AbortSignal) is always kept, so that it can be resumed.
   */
  keepIncomplete?: boolean;
  /** With runDir 'overwrite': also delete entries of outDir that fleximodal did not write (`--overwrite-foreign`). */
  overwriteForeign?: boolean;
}

export interface SeedRun {
  seed: number;
  /** Training of the seed's model: one entry, or one per ensemble member (train.ensemble). */
  members: TrainResult[];
  evaluations: Partial<Record<EvalSplit, GroupedMetrics>>;
  threshold?: number;
  /** Test-split predictions and labels (for the ROC plot). */
  test?: { probs: Float32Array; labels: Float32Array };
  /** Expert × modality usage on the test split (MoE models). */
  usage?: ExpertUsage | null;
  /** MoE-Retriever routing analyses on the test split (Fig. 3b/3c). */
  retrieval?: RetrieverUsage | null;
}

export interface ExperimentResult {
  metrics: MetricsJson;
  seeds: SeedRun[];
  outDir: string;
  wallSeconds: number;
}

/** The evaluation task of a dataset task. */
export function evalTaskOf(task: TaskSpec): Task {
  switch (task.kind) {
    case 'binary':
      return { kind: 'binary' };
    case 'multiclass':
      return { kind: 'multiclass', numClasses: task.classes.length };
    case 'multilabel':
      return { kind: 'multilabel', numLabels: task.labels.length };
  }
}

/** Positive weight 'auto' = negatives / positives on the training split (binary only). */
export function resolvePosWeight(cfg: RunConfig, task: TaskSpec, trainSet: Sample[]): number {
  const pw = cfg.train.loss.posWeight;
  if (pw !== 'auto') return pw;
  if (task.kind !== 'binary') {
    throw new FlexiModalError(`posWeight 'auto' is defined for binary tasks only`, {
      where: 'config key train.loss.posWeight',
      hint: 'give a number, or use train.loss.type = "focal"',
    });
  }
  const pos = trainSet.reduce((a, s) => a + (s.label as number), 0);
  return pos > 0 ? (trainSet.length - pos) / pos : 1;
}

/** Evaluate `model` on `samples`: overall and per modality-combination group. */
export function evaluateSamples(
  model: FusionModel,
  dataset: Pick<Dataset, 'spec'>,
  samples: Sample[],
  toBatch: (s: Sample[]) => import('../data/batchTypes.js').Batch,
  threshold: number | undefined,
): { grouped: GroupedMetrics; predictions: Predictions } {
  const predictions = predict(model, dataset.spec.task, samples, toBatch, 64);
  return { grouped: groupedMetrics(dataset, samples, predictions, threshold), predictions };
}

/** Metrics of predictions overall and per modality-combination group. */
export function groupedMetrics(dataset: Pick<Dataset, 'spec'>, samples: Sample[], predictions: Predictions, threshold: number | undefined): GroupedMetrics {
  const { spec } = dataset;
  const groups = samples.map((s) => groupName(spec, groupIdOf(spec, s)));
  return evaluateByGroup(evalTaskOf(spec.task), predictions.probs, labelsOf(spec.task, samples), groups, { threshold });
}

/** Run the experiment a config describes and write the run directory. */
export async function runExperiment(cfg: RunConfig, opts: ExperimentOptions): Promise<ExperimentResult> {
  const started = Date.now();
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const outDir = resolve(opts.outDir);
  const seeds = opts.seeds ?? cfg.seeds;
  const createdHere = !existsSync(outDir);
  try {
    const result = await withRunDirectory(outDir, { mode: opts.runDir ?? 'new', identity: { config: cfg, seeds }, log, overwriteForeign: opts.overwriteForeign }, (run) =>
      withPlotsOptional((m) => log(`plots: ${m}; the run writes placeholder SVGs`), () => runExperimentIn(run, cfg, seeds, opts, log)),
    );
    return { ...result, wallSeconds: (Date.now() - started) / 1000 };
  } catch (e) {
    if (createdHere && !opts.keepIncomplete && !isAbort(e) && existsSync(join(outDir, INCOMPLETE_FILE))) {
      rmSync(outDir, { recursive: true, force: true });
      log(`run failed: removed the incomplete output directory ${outDir} (created by this run; pass keepIncomplete: true to keep it)`);
    }
    throw e;
  }
}

/** Whether `e` is an abort (an AbortSignal fired): such a run stays resumable. */
function isAbort(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

/** The experiment itself, writing into the open run directory `run`. */
async function runExperimentIn(run: RunDirectory, cfg: RunConfig, seeds: number[], opts: ExperimentOptions, log: (l: string) => void): Promise<ExperimentResult> {
  const started = Date.now();
  const outDir = run.dir;
  const backend = await initEngine(cfg.engine);
  log(engineSummary());

  const loaded = await loadDataset(cfg.data, opts.baseDir);
  log(formatReport(loaded.report, 'text'));
  const withProtocol = applyMissingness(loaded, cfg.missingness, log);
  const dataset = withoutHeldOutGroups(withProtocol, cfg, outDir, opts.baseDir, log);
  const heldOutTest = heldOutTestSamples(withProtocol, cfg);
  checkEmptySamples(dataset, cfg.emptySamples, 'config key data');
  const analyses = new RemindAnalyses(cfg, dataset.spec, log);
  const external = cfg.externalData ? alignDataset(dataset.spec, await loadDataset(cfg.externalData, opts.baseDir, 'externalData'), 'config key externalData') : undefined;
  if (external) {
    log(formatReport(external.report, 'text'));
    checkCompatible(dataset, external);
  }
  // --resume refuses data that changed since the interrupted run started (naming the file)
  run.checkDataHashes({ ...(loaded.hashes ?? {}), ...(external?.hashes ?? {}) });

  const evalTask = evalTaskOf(dataset.spec.task);
  const perSeed: SeedResult[] = [];
  const longTailSeeds: LongTailSeed[] = [];
  const extreme = cfg.missingness?.protocol === 'extreme' ? cfg.missingness : null;
  const extremeSeeds: PresenceSeed[] = [];
  const runs: SeedRun[] = [];
  let bestVal = -Infinity;
  const perSeedSplits = cfg.split.seed === 'per-seed';
  const warnings = new Set<string>();
  const fixed = perSeedSplits ? undefined : await prepareSplit(cfg, dataset, opts.baseDir, cfg.split.seed as number, outDir, external, log);
  for (const seed of seeds) {
    const { parts, normalizer, toBatch, externalWarning } = fixed ?? (await prepareSplit(cfg, dataset, opts.baseDir, seed, join(outDir, 'seeds', String(seed)), external, log));
    if (externalWarning) warnings.add(externalWarning);
    // evaluation passes see every sample once: their counters say what batching truncated/clipped
    const counters = newBatchCounters();
    const toEvalBatch = (s: Sample[]) => makeBatch(dataset.spec, s, normalizer, { maxTimesteps: cfg.train.maxTimesteps, counters });
    const posWeight = resolvePosWeight(cfg, dataset.spec.task, parts.train);
    /** Train one model (the seed's model or one ensemble member) with its own seed. */
    const trainMember = (model: FusionModel, memberSeed: number, label: string): TrainResult => {
      // gradient-boosted trees: trained by their own library, early-stopped on the same validation split
      if (model.fit) return model.fit({ train: parts.train, val: parts.val, toBatch, posWeight, log, label });
      model.setTrainingPool?.(parts.train, toBatch);
      return train(
        {
          model,
          task: dataset.spec.task,
          train: parts.train,
          val: parts.val,
          toBatch,
          scoreValidation: (pred) => computeMetrics(evalTask, pred.probs, labelsOf(dataset.spec.task, parts.val)) as unknown as Record<string, number>,
          callbacks: [
            ...(cfg.train.collapseDetector && model.variables().some((v) => /\.expert\d+\./.test(paramName(v))) ? [new CollapseDetector()] : []),
            ...(opts.callbacks?.(seed) ?? []),
            ...analyses.callbacks(seed, model, parts.train, toBatch, { ...cfg.train.loss, posWeight }),
          ],
          progress: opts.progress ?? 'auto',
          log,
          label,
          groupWeighting: makeGroupWeighting(cfg.train.groupWeighting, parts.train.map((s) => groupIdOf(dataset.spec, s)), (id) => groupName(dataset.spec, id)),
          checkpoint: new FileCheckpoint(run.checkpointPath(seed, memberSeed)),
        },
        { ...cfg.train, loss: { ...cfg.train.loss, posWeight }, seed: memberSeed },
      );
    };
    // synchronous epochs: Ctrl-C ends the process at once here (src/io/interrupt.ts); checkpoints allow --resume
    const { model, members } = withDefaultSignals(() => trainSeedModel(cfg, dataset.spec, seed, trainMember));
    try {
      // Threshold for F1 chosen on validation (binary), then every split evaluated at 0.5 and at it.
      const valPred = predict(model, dataset.spec.task, parts.val, toEvalBatch, 64);
      let threshold: number | undefined;
      if (evalTask.kind === 'binary') {
        const t = bestF1Threshold(valPred.probs, labelsOf(dataset.spec.task, parts.val));
        threshold = Number.isFinite(t.f1) ? t.threshold : 0.5;
      }
      const evaluations: Partial<Record<EvalSplit, GroupedMetrics>> = {};
      evaluations.train = evaluateSamples(model, dataset, parts.train, toEvalBatch, threshold).grouped;
      evaluations.val = groupedMetrics(dataset, parts.val, valPred, threshold);
      let test: SeedRun['test'];
      let testPred: Predictions | undefined;
      if (parts.test.length > 0) {
        const t = evaluateSamples(model, dataset, parts.test, toEvalBatch, threshold);
        evaluations.test = t.grouped;
        testPred = t.predictions;
        test = { probs: t.predictions.probs, labels: labelsOf(dataset.spec.task, parts.test) };
        writePredictionsFile(outDir, seed, 'test', dataset.spec, parts.test, t.predictions);
      }
      if (heldOutTest.length > 0) {
        // zero-shot predictions on the held-out (unseen) combinations' test part
        writePredictionsFile(outDir, seed, 'heldout-test', dataset.spec, heldOutTest, predict(model, dataset.spec.task, heldOutTest, toEvalBatch, 64));
      }
      if (external) evaluations.external = evaluateSamples(model, external, external.samples, toEvalBatch, threshold).grouped;
      perSeed.push(seedResultFromEvaluations(evaluations));
      if (extreme) {
        const part = (samples: Sample[], p: Predictions) =>
          presenceMetrics(evalTask, p.probs, labelsOf(dataset.spec.task, samples), samples.map((s) => hasModality(s, extreme.modality)), threshold);
        extremeSeeds.push({ val: part(parts.val, valPred), ...(testPred ? { test: part(parts.test, testPred) } : {}) });
      }
      longTailSeeds.push(longTailOfSeed(evaluations, headTailGroups(parts.train.map((s) => groupName(dataset.spec, groupIdOf(dataset.spec, s))), cfg.evaluation.tailThreshold)));
      const usageSet = parts.test.length > 0 ? parts.test : parts.val;
      const usage = expertUsage(model, dataset.spec.modalities.map((m) => m.name), usageSet, toBatch);
      analyses.afterTraining(seed, model, usageSet, toEvalBatch);
      const retrieval = retrieverUsage(model, usageSet, toEvalBatch, { splits: { train: parts.train, val: parts.val, test: parts.test } });
      runs.push({ seed, members, evaluations, threshold, test, usage, retrieval });
      if (counters.truncatedTimesteps + counters.clippedValues > 0) {
        log(
          `seed ${seed}: batching (train, val, test${external ? ', external' : ''} once each) truncated ${counters.truncatedTimesteps} time steps (${counters.truncatedObservations} observations) beyond train.maxTimesteps=${cfg.train.maxTimesteps}; clipped ${counters.clippedValues} values`,
        );
      }
      const line = (['val', 'test', 'external'] as const)
        .filter((s) => evaluations[s])
        .map((s) => `${s} auroc ${fmt(evaluations[s]!.overall.auroc)}`)
        .join(', ');
      const seconds = members.reduce((t, m) => t + m.seconds, 0);
      log(`seed ${seed}: best epoch ${members.map((m) => m.bestEpoch).join(', ')} (${seconds.toFixed(1)} s) — ${line}`);
      if (opts.saveModels !== false) {
        const meta = { model: cfg.model, spec: dataset.spec, normalizer, maxTimesteps: cfg.train.maxTimesteps, threshold, seed, ranges: rangePolicyOf(cfg.data).toJson(), inputBounds: fitInputBounds(dataset.spec, parts.train) };
        saveModel(join(outDir, 'seeds', String(seed), 'model'), model, meta);
        writeTrainingSamples(join(outDir, 'seeds', String(seed), 'model'), dataset.spec, parts.train);
        const valScore = (evaluations.val!.overall as unknown as Record<string, number>)[cfg.train.monitor] ?? NaN;
        if (valScore > bestVal || bestVal === -Infinity) {
          bestVal = valScore;
          saveModel(join(outDir, 'model'), model, meta);
          writeTrainingSamples(join(outDir, 'model'), dataset.spec, parts.train);
        }
      }
      run.markSeedFinished(seed);
    } finally {
      model.dispose();
    }
  }

  const metrics = aggregateSeeds(perSeed);
  metrics.longTail = aggregateLongTail(longTailSeeds);
  if (extreme) metrics.extreme = aggregatePresence(extreme.modality, extreme.fraction, extremeSeeds);
  if (warnings.size) metrics.warnings = [...warnings];
  writeFileAtomic(join(outDir, 'metrics.json'), metricsJsonString(metrics));
  const wallSeconds = (Date.now() - started) / 1000;
  const manifest = newManifest({
    config: cfg,
    seeds,
    splitSeed: perSeedSplits ? 'per-seed' : fixed!.split.seed,
    dataHashes: { ...(dataset.hashes ?? {}), ...(external?.hashes ?? {}) },
    engine: { backend, threads: engineThreads(), ...(backend === 'wasm' ? { matmul: engineBlas().line.replace(/^engine: /, '') } : {}) },
  });
  manifest.wallSeconds = wallSeconds;
  if (run.resumed) manifest.resumed = true;
  writeFileAtomic(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileAtomic(join(outDir, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
  const analysisSection = await analyses.write(outDir);
  await writeRunReport(outDir, { cfg, dataset, external, metrics, runs, wallSeconds, analysisSection });
  return { metrics, seeds: runs, outDir, wallSeconds };
}

/** Seed of ensemble member j of model seed `seed` (member 0 uses the seed itself). */
export function ensembleMemberSeed(seed: number, j: number): number {
  return j === 0 ? seed : seedFor(seed, `train.ensemble.member${j}`);
}

/**
 * The seed's model: one trained model, or (train.ensemble = M > 1) an EnsembleModel of M members,
 * each built and trained with its own seed, trained one after another (one live copy at a time).
 */
function trainSeedModel(
  cfg: RunConfig,
  spec: Dataset['spec'],
  seed: number,
  trainMember: (model: FusionModel, memberSeed: number, label: string) => TrainResult,
): { model: FusionModel; members: TrainResult[] } {
  const M = cfg.train.ensemble;
  if (M > 1 && cfg.model.type === 'xgboost') {
    throw new FlexiModalError('train.ensemble > 1 is not supported for xgboost models (boosting is already an ensemble of trees)', {
      where: 'config key train.ensemble',
      hint: 'set train.ensemble to 1 (more trees: model.nRounds)',
    });
  }
  if (M > 1 && cfg.model.type === 'moe-retriever') {
    throw new FlexiModalError('train.ensemble > 1 is not supported for moe-retriever models (each member needs its own retrieval bank)', {
      where: 'config key train.ensemble',
      hint: 'set train.ensemble to 1',
    });
  }
  if (M === 1) {
    const model = buildModel(cfg.model, spec, seed);
    try {
      return { model, members: [trainMember(model, seed, `seed ${seed}`)] };
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  const snapshots: Map<string, tf.Tensor>[] = [];
  const members: TrainResult[] = [];
  try {
    for (let j = 0; j < M; j++) {
      const memberSeed = ensembleMemberSeed(seed, j);
      const member = buildModel(cfg.model, spec, memberSeed);
      try {
        members.push(trainMember(member, memberSeed, `seed ${seed} member ${j + 1}/${M}`));
        snapshots.push(snapshotWeights(member));
      } finally {
        member.dispose();
      }
    }
  } catch (e) {
    snapshots.forEach((w) => w.forEach((t) => t.dispose()));
    throw e;
  }
  return { model: new EnsembleModel(buildModel(cfg.model, spec, seed), snapshots, spec.task), members };
}

/** One split of the data and what is fitted on its training part. */
interface PreparedSplit {
  split: Split;
  parts: { train: Sample[]; val: Sample[]; test: Sample[] };
  normalizer: Normalizer;
  toBatch: (s: Sample[]) => import('../data/batchTypes.js').Batch;
  /** Set when external samples are training samples of this split (same id and data). */
  externalWarning?: string;
}

/**
 * Draw (or read) the split, write it as `<dir>/split.json`, check it is usable and fit the
 * normaliser on its training part.
 */
async function prepareSplit(
  cfg: RunConfig,
  dataset: Dataset,
  baseDir: string,
  splitSeed: number,
  dir: string,
  external: Dataset | undefined,
  log: (l: string) => void,
): Promise<PreparedSplit> {
  const split: Split = cfg.split.file
    ? await readSplitFile(resolve(baseDir, cfg.split.file), dataset)
    : stratifiedSplit(dataset, { seed: splitSeed, fractions: cfg.split.fractions });
  mkdirSync(dir, { recursive: true });
  await writeSplitFile(join(dir, 'split.json'), split);
  const parts = splitSamples(dataset, split);
  checkSplitClasses(dataset.spec.task, parts, cfg.split.file ? `split file ${cfg.split.file}` : 'config key split');
  if (parts.train.length === 0 || parts.val.length === 0) {
    throw new FlexiModalError(`the split has ${parts.train.length} training and ${parts.val.length} validation samples`, {
      where: 'config key split',
      hint: 'use more data or larger train/val fractions',
    });
  }
  log(`split (seed ${split.seed}): train ${parts.train.length}, val ${parts.val.length}, test ${parts.test.length}${external ? `, external ${external.samples.length}` : ''}`);
  // the external set is a held-out estimate only if none of its samples was trained on
  const shared = external ? sharedWithTraining(dataset.spec, parts.train, external.samples) : [];
  const externalWarning = shared.length ? `external set: ${overlapWarning(shared, external!.samples.length)} (split seed ${split.seed})` : undefined;
  if (externalWarning) log(`warning: ${externalWarning}`);
  const normalizer = fitNormalizer(dataset.spec, parts.train, { clip: cfg.normalize.clip, logSkewed: cfg.normalize.logSkewed, robust: cfg.normalize.robust, onWarning: (w) => log(`warning: ${w}`) });
  const toBatch = (s: Sample[]) => makeBatch(dataset.spec, s, normalizer, { maxTimesteps: cfg.train.maxTimesteps });
  return { split, parts, normalizer, toBatch, externalWarning };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : 'n/a';
}

/** The external set must have the same modalities and task as the training data. */
function checkCompatible(a: Dataset, b: Dataset): void {
  const names = (d: Dataset) => d.spec.modalities.map((m) => `${m.name}:${m.kind}`).join(',');
  if (names(a) !== names(b) || a.spec.task.kind !== b.spec.task.kind) {
    throw new FlexiModalError(`external data has modalities [${names(b)}] / task ${b.spec.task.kind}, the training data [${names(a)}] / ${a.spec.task.kind}`, {
      where: 'config key externalData',
      hint: 'read the external set with the same grouping and task as the training data',
    });
  }
}


/**
 * The training loop: AdamW with a learning-rate schedule, gradient accumulation, global-norm
 * clipping, early stopping on a validation metric with the best weights kept, a progress bar,
 * and callbacks. Every step runs inside tf.tidy-equivalents: tensor count stays flat.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import type { Sample, TaskSpec } from '../data/schema.js';
import type { Batch } from '../data/batchTypes.js';
import type { FusionModel } from '../models/model.js';
import { AdamW } from './optim/adamw.js';
import { learningRateAt, type ScheduleConfig } from './optim/schedule.js';
import { clipByGlobalNorm } from './clip.js';
import { taskLoss, type TaskLossOptions } from './taskLoss.js';
import { predict, type Predictions } from './predict.js';
import type { TrainerCallback } from './callbacks.js';
import { ProgressReporter } from './progress.js';
import { WeightAverage } from './ema.js';
import { augmentEnabled, augmentSamples, type AugmentConfig, type AugmentCounts } from './augment.js';
import { rngFor } from '../engine/seed.js';
import type { GroupWeighting } from './groupWeighting.js';
import { activeVariables } from './freeze.js';
import type { TrainingCheckpoint, TrainingObjects } from './checkpoint.js';
import { FlexiModalError } from '../errors.js';

export interface TrainerConfig {
  epochs: number;
  batchSize: number;
  /** Micro-batches whose gradients are averaged before one optimizer step. */
  accumulateSteps: number;
  lr: number;
  weightDecay: number;
  schedule: ScheduleConfig;
  /** Max global gradient norm; 0 disables clipping. */
  clipNorm: number;
  /** Stop after this many epochs without improvement of the monitored metric (0 = never). */
  patience: number;
  /** Validation metric to monitor (higher is better), e.g. 'auroc'. */
  monitor: string;
  loss: TaskLossOptions;
  seed: number;
  /** Exponential moving average of the weights with this decay (e.g. 0.99), used for validation and kept as the result; null = off. */
  ema?: number | null;
  /** Training-time observation / modality dropout (see augment.ts); absent or zeros = off. */
  augment?: AugmentConfig;
  /** Two-stage training (REMIND §3): encoder variables (`enc.*`) are frozen after this many epochs; null = never. */
  freezeEncodersAfter?: number | null;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  /** Mean of each auxiliary term over the epoch (unweighted). */
  aux: Record<string, number>;
  val: Record<string, number>;
  lr: number;
  seconds: number;
  /** What training-time augmentation removed this epoch (absent when it is off). */
  augmented?: AugmentCounts;
  /** Group weights at the end of the epoch, by group name (train.groupWeighting; absent when off). */
  groupWeights?: Record<string, number>;
}

export interface TrainResult {
  /** Validation metric of `bestScore` and of the curves in `history[].val` when not train.monitor (xgboost: its eval metric, e.g. 'logloss'; epochs are boosting rounds). */
  monitor?: string;
  history: EpochRecord[];
  bestEpoch: number;
  bestScore: number;
  stoppedEarly: boolean;
  seconds: number;
}

export interface TrainerInputs {
  model: FusionModel;
  task: TaskSpec;
  train: Sample[];
  val: Sample[];
  /** Turns samples into a dense batch (normaliser already bound). */
  toBatch: (samples: Sample[]) => Batch;
  /** Scores validation predictions, e.g. computeMetrics → { auroc, auprc, loss... }. */
  scoreValidation: (pred: Predictions, samples: Sample[]) => Record<string, number>;
  callbacks?: TrainerCallback[];
  /** Progress bar on stderr (auto: only on a TTY). */
  progress?: boolean | 'auto';
  /** Log sink for warnings and per-epoch lines. Default: stderr. */
  log?: (line: string) => void;
  /** Label for the progress bar (e.g. "seed 1"). */
  label?: string;
  /** Loss weighting by modality-combination group (group DRO, reweigh); absent = plain mean loss. */
  groupWeighting?: GroupWeighting | null;
  /** Only variables whose name passes are trained (e.g. fine-tuning chosen parts); default all. */
  trainable?: (name: string) => boolean;
  /** Saves the complete training state after every epoch and restores it on resume (checkpoint.ts). */
  checkpoint?: TrainingCheckpoint;
  /** Keep the weights of the last epoch instead of the best validation epoch (fine-tuning without a validation set). */
  keepLastWeights?: boolean;
}

/** Train `model` in place; on return its variables hold the best validation weights. */
export function train(inputs: TrainerInputs, cfg: TrainerConfig): TrainResult {
  const { model, task, train: trainSet, val, toBatch, scoreValidation } = inputs;
  const log = inputs.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const callbacks = inputs.callbacks ?? [];
  const variables = model.variables();
  const byName = new Map(variables.map((v) => [v.name, v] as const));
  if (byName.size !== variables.length) throw new Error('trainer: model variables must have unique names');
  const optimizer = new AdamW({ weightDecay: cfg.weightDecay });
  const rng = new Rng(cfg.seed);
  // a separate stream, so switching augmentation on does not change shuffling or dropout masks
  const augment = augmentEnabled(cfg.augment) ? { cfg: cfg.augment, rng: rngFor(cfg.seed, 'train.augment') } : null;
  const microPerEpoch = Math.ceil(trainSet.length / cfg.batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / cfg.accumulateSteps);
  const totalSteps = stepsPerEpoch * cfg.epochs;
  const ema = cfg.ema ? new WeightAverage(variables, cfg.ema) : null;
  const weighting = inputs.groupWeighting ?? null;
  const progress = new ProgressReporter(inputs.progress ?? 'auto', inputs.label ?? 'train', log);
  const started = Date.now();
  const objects: TrainingObjects = {
    model,
    variables,
    optimizer,
    ema,
    rngs: { shuffle: rng, ...(augment ? { augment: augment.rng } : {}) },
    stateful: weighting ? { groupWeighting: weighting } : {},
  };
  const resumed = inputs.checkpoint?.restore(objects) ?? null;
  if (resumed) log(`${inputs.label ?? 'train'}: resumed from the checkpoint of epoch ${resumed.epoch}${resumed.finished ? ' (training had ended)' : ''}`);

  const history: EpochRecord[] = resumed?.history ?? [];
  let best = resumed?.best ?? -Infinity;
  let bestEpoch = resumed?.bestEpoch ?? -1;
  let bestWeights: Map<string, tf.Tensor> | null = resumed?.bestWeights ?? null;
  let sinceBest = resumed?.sinceBest ?? 0;
  let stoppedEarly = resumed?.stoppedEarly ?? false;
  const elapsedBefore = resumed?.elapsedSeconds ?? 0;

  for (let epoch = (resumed?.epoch ?? 0) + 1; epoch <= cfg.epochs && !resumed?.finished; epoch++) {
    const epochStart = Date.now();
    const active = activeVariables(variables, epoch, cfg.freezeEncodersAfter, inputs.trainable);
    if (cfg.freezeEncodersAfter != null && epoch === cfg.freezeEncodersAfter + 1) log(`two-stage training: encoders frozen from epoch ${epoch} (${variables.length - active.length} variables fixed)`);
    const order = rng.shuffle(trainSet.map((_, i) => i));
    let lossSum = 0;
    let lossCount = 0;
    const auxSum: Record<string, number> = {};
    const augmented: AugmentCounts = { observationsDropped: 0, modalitiesDropped: 0 };
    let lr = cfg.lr;
    progress.startEpoch(epoch, cfg.epochs, microPerEpoch);
    for (let micro = 0; micro < microPerEpoch; micro += cfg.accumulateSteps) {
      lr = learningRateAt(cfg.schedule, cfg.lr, optimizer.step, totalSteps, stepsPerEpoch);
      const accumulated: Record<string, tf.Tensor> = {};
      const groupEnd = Math.min(microPerEpoch, micro + cfg.accumulateSteps);
      const groupSize = groupEnd - micro;
      for (let m = micro; m < groupEnd; m++) {
        const idx = order.slice(m * cfg.batchSize, (m + 1) * cfg.batchSize);
        const picked = idx.map((i) => trainSet[i]!);
        const batch = toBatch(augment ? augmentSamples(picked, augment.cfg, augment.rng, augmented) : picked);
        const auxValues: Record<string, number> = {};
        const stepSeed = rng.seed();
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward(batch, { training: true, seed: stepSeed });
          let loss = weighting ? weighting.loss(task, out.logits, batch.labels, batch.groupIds, cfg.loss) : taskLoss(task, out.logits, batch.labels, cfg.loss);
          for (const [k, t] of Object.entries(out.auxTerms ?? {})) auxValues[k] = t.dataSync()[0]!;
          if (out.auxLoss) loss = tf.add(loss, out.auxLoss) as tf.Scalar;
          return loss;
        }, active.filter((v) => v.trainable)); // non-trainable variables (e.g. a seen-groups mask) get no gradient
        const lossValue = value.dataSync()[0]!;
        value.dispose();
        if (!Number.isFinite(lossValue)) {
          for (const g of Object.values(grads)) g.dispose();
          for (const g of Object.values(accumulated)) g.dispose();
          throw new FlexiModalError(`the loss became ${lossValue} at epoch ${epoch}, micro-batch ${m}`, {
            where: 'training',
            hint: 'lower train.lr, enable train.clipNorm, or check the input data for extreme values',
          });
        }
        lossSum += lossValue;
        lossCount++;
        for (const [k, v] of Object.entries(auxValues)) auxSum[k] = (auxSum[k] ?? 0) + v;
        for (const [name, g] of Object.entries(grads)) {
          const prev = accumulated[name];
          if (prev) {
            accumulated[name] = tf.add(prev, g);
            prev.dispose();
            g.dispose();
          } else accumulated[name] = g;
        }
        progress.tick({ loss: lossSum / lossCount });
      }
      if (groupSize > 1) {
        for (const name of Object.keys(accumulated)) {
          const g = accumulated[name]!;
          accumulated[name] = tf.div(g, groupSize);
          g.dispose();
        }
      }
      const { grads: clipped } = clipByGlobalNorm(accumulated, cfg.clipNorm);
      for (const g of Object.values(accumulated)) g.dispose();
      optimizer.apply(variables, clipped, lr);
      for (const g of Object.values(clipped)) g.dispose();
      weighting?.afterStep();
      ema?.update();
    }

    const evalBatch = Math.max(cfg.batchSize, 64);
    const valPred = ema ? ema.withAveraged(() => predict(model, task, val, toBatch, evalBatch)) : predict(model, task, val, toBatch, evalBatch);
    const valMetrics = scoreValidation(valPred, val);
    const trainLoss = lossSum / Math.max(1, lossCount);
    const aux = Object.fromEntries(Object.entries(auxSum).map(([k, v]) => [k, v / Math.max(1, lossCount)]));
    const record: EpochRecord = { epoch, trainLoss, aux, val: valMetrics, lr, seconds: (Date.now() - epochStart) / 1000, ...(augment ? { augmented } : {}), ...(weighting ? { groupWeights: weighting.snapshot() } : {}) };
    history.push(record);
    progress.endEpoch(record, cfg.monitor);

    const score = valMetrics[cfg.monitor];
    if (score !== undefined && Number.isFinite(score) && score > best) {
      best = score;
      bestEpoch = epoch;
      sinceBest = 0;
      bestWeights?.forEach((t) => t.dispose());
      const snapshot = () => new Map(variables.map((v) => [v.name, tf.clone(v)] as const));
      bestWeights = ema ? ema.withAveraged(snapshot) : snapshot();
    } else {
      sinceBest++;
    }
    let stop = false;
    for (const cb of callbacks) {
      const r = cb.onEpochEnd?.({ epoch, trainLoss, valMetrics, weights: byName, warn: (msg) => progress.warn(`[${cb.name}] ${msg}`) });
      if (r && r.stop) stop = true;
    }
    const earlyStop = cfg.patience > 0 && sinceBest >= cfg.patience;
    if (earlyStop) stoppedEarly = true;
    const finished = earlyStop || stop || epoch === cfg.epochs;
    const elapsedSeconds = elapsedBefore + (Date.now() - started) / 1000;
    inputs.checkpoint?.save(objects, { epoch, finished, history, best, bestEpoch, sinceBest, stoppedEarly, elapsedSeconds, bestWeights });
    if (earlyStop) {
      progress.warn(`early stopping: no improvement of val ${cfg.monitor} for ${cfg.patience} epochs (best ${best.toFixed(4)} at epoch ${bestEpoch})`);
      break;
    }
    if (stop) break;
  }
  progress.stop();

  if (bestWeights && !inputs.keepLastWeights) {
    for (const v of variables) v.assign(bestWeights.get(v.name)!);
    bestWeights.forEach((t) => t.dispose());
  }
  optimizer.dispose();
  ema?.dispose();
  return { history, bestEpoch, bestScore: best, stoppedEarly, seconds: elapsedBefore + (Date.now() - started) / 1000 };
}

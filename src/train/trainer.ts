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
}

export interface TrainResult {
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
  const progress = new ProgressReporter(inputs.progress ?? 'auto', inputs.label ?? 'train', log);
  const started = Date.now();

  const history: EpochRecord[] = [];
  let best = -Infinity;
  let bestEpoch = -1;
  let bestWeights: Map<string, tf.Tensor> | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;

  for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
    const epochStart = Date.now();
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
          let loss = taskLoss(task, out.logits, batch.labels, cfg.loss);
          for (const [k, t] of Object.entries(out.auxTerms ?? {})) auxValues[k] = t.dataSync()[0]!;
          if (out.auxLoss) loss = tf.add(loss, out.auxLoss) as tf.Scalar;
          return loss;
        }, variables);
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
      ema?.update();
    }

    const evalBatch = Math.max(cfg.batchSize, 64);
    const valPred = ema ? ema.withAveraged(() => predict(model, task, val, toBatch, evalBatch)) : predict(model, task, val, toBatch, evalBatch);
    const valMetrics = scoreValidation(valPred, val);
    const trainLoss = lossSum / Math.max(1, lossCount);
    const aux = Object.fromEntries(Object.entries(auxSum).map(([k, v]) => [k, v / Math.max(1, lossCount)]));
    const record: EpochRecord = { epoch, trainLoss, aux, val: valMetrics, lr, seconds: (Date.now() - epochStart) / 1000, ...(augment ? { augmented } : {}) };
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
    if (cfg.patience > 0 && sinceBest >= cfg.patience) {
      stoppedEarly = true;
      progress.warn(`early stopping: no improvement of val ${cfg.monitor} for ${cfg.patience} epochs (best ${best.toFixed(4)} at epoch ${bestEpoch})`);
      break;
    }
    if (stop) break;
  }
  progress.stop();

  if (bestWeights) {
    for (const v of variables) v.assign(bestWeights.get(v.name)!);
    bestWeights.forEach((t) => t.dispose());
  }
  optimizer.dispose();
  ema?.dispose();
  return { history, bestEpoch, bestScore: best, stoppedEarly, seconds: (Date.now() - started) / 1000 };
}

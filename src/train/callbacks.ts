/**
 * Hooks the trainer calls during training. Callbacks observe; they may ask to stop and they may
 * log warnings, but they never change the model.
 */
import type { tf } from '../engine/tf.js';

/** What the trainer tells a callback at the end of an epoch. */
export interface EpochEndInfo {
  epoch: number;
  /** Mean training loss (task + auxiliary) over the epoch. */
  trainLoss: number;
  /** Validation metrics of this epoch (e.g. { auroc: 0.84, loss: 0.31 }). */
  valMetrics: Record<string, number>;
  /**
   * Every trainable variable by its stable name. MoE experts follow the naming convention
   * `<prefix>.expert<i>.<param>` (e.g. `fusion.block0.moe.expert3.w1`) and gate/router weights
   * `<prefix>.gate.<param>`, so analyses can find them.
   */
  weights: ReadonlyMap<string, tf.Variable>;
  /** Print a warning line in the training log (above the progress bar). */
  warn(message: string): void;
}

/** What the trainer tells a callback after each optimizer step. */
export interface StepEndInfo {
  /** The trainer's label (e.g. "seed 1", "seed 1 member 2"). */
  label: string;
  epoch: number;
  epochs: number;
  /** Optimizer steps completed since the start of training (over all epochs, resumed ones included). */
  step: number;
  /** This step's position in the epoch (1-based) and the epoch's number of steps. */
  stepInEpoch: number;
  stepsPerEpoch: number;
  /** Mean task + auxiliary loss of this step's micro-batches. */
  loss: number;
  /** Mean loss of the epoch so far. */
  epochLoss: number;
}

/** A training callback; all hooks are optional. */
export interface TrainerCallback {
  name: string;
  /** Return `{ stop: true }` to end training after this epoch. */
  onEpochEnd?(info: EpochEndInfo): void | { stop?: boolean };
  /**
   * After every optimizer step. It may throw to stop training at once (e.g. an abort): the
   * checkpoint of the last finished epoch stays, so the run can be resumed.
   */
  onStepEnd?(info: StepEndInfo): void;
}

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

/** A training callback; all hooks are optional. */
export interface TrainerCallback {
  name: string;
  /** Return `{ stop: true }` to end training after this epoch. */
  onEpochEnd?(info: EpochEndInfo): void | { stop?: boolean };
}

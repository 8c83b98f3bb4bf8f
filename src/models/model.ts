/**
 * What every fusion model exposes to the trainer, the evaluator and the serving API.
 */
import type { tf } from '../engine/tf.js';
import type { Batch } from '../data/batchTypes.js';
import type { Sample } from '../data/schema.js';
import type { TrainResult } from '../train/trainer.js';

/** The result of one forward pass. */
export interface ForwardOutput {
  /** Task logits: binary [B, 1], multilabel [B, L], multiclass [B, C]. */
  logits: tf.Tensor2D;
  /** Weighted sum of auxiliary (router) losses, already multiplied by their weights. */
  auxLoss?: tf.Scalar;
  /** Named auxiliary terms (unweighted) for the training log, e.g. { entropy, load }. */
  auxTerms?: Record<string, tf.Scalar>;
}

/** Per-sample routing explanation (models with experts). */
export interface SampleExplanation {
  id: string;
  /** Share of gate weight each modality received, summed over layers (sums to 1). */
  modalityShares: Record<string, number>;
  /**
   * Experts ranked by total gate weight for this sample; `weight` is its share of all gate weight.
   * `member`: which member's expert, for ensembles (src/models/ensemble.ts).
   */
  topExperts: { layer: number; expert: number; weight: number; modalityShares: Record<string, number>; member?: number }[];
  /**
   * MoE-Retriever: per retrieved (missing) modality, the supporting group used (`exact`,
   * fallback `observes-target`, or `empty`), the context sizes and the experts chosen (gate
   * weight share over the context tokens; names `<modality>#j` or `shared#j`).
   */
  retrieved?: { modality: string; pool: string; intraContext: number; interContext: number; experts: { expert: string; weight: number }[] }[];
}

/** What a model trained by its own library (not the gradient trainer) receives: see `FusionModel.fit`. */
export interface LibraryFitInputs {
  train: Sample[];
  /** The validation split (early stopping). */
  val: Sample[];
  /** Turns samples into a dense batch (the split's normaliser bound). */
  toBatch: (samples: Sample[]) => Batch;
  /** Resolved train.loss.posWeight (binary / multilabel). */
  posWeight: number;
  log?: (line: string) => void;
  /** Prefix of log lines, e.g. "seed 1". */
  label: string;
}

export interface FusionModel {
  /** Model type name as in the config (`baseline`, `fusemoe`, ...). */
  readonly type: string;
  /** Forward pass. `training` enables dropout / noisy gating; `seed` makes them repeatable. */
  forward(batch: Batch, opts: { training: boolean; seed?: number }): ForwardOutput;
  /** All trainable variables, with unique stable names. */
  variables(): tf.Variable[];
  /** Free every variable (names can then be reused by a new model in the same process). */
  dispose(): void;
  /** Optional: routing explanation for each sample of a batch (inference mode). */
  explain?(batch: Batch): SampleExplanation[];
  /** Optional: models that retrieve from the training split receive it before training. */
  setTrainingPool?(samples: Sample[], toBatch: (s: Sample[]) => Batch): void;
  /** Inference logits [B, C] and `explain`'s explanations from one forward pass (optional). */
  forwardExplained?(batch: Batch): { logits: tf.Tensor2D; explanations: SampleExplanation[] };
  /** Optional: models trained by their own library (gradient-boosted trees) instead of the gradient trainer. */
  fit?(inputs: LibraryFitInputs): TrainResult;
  /** Optional: parameters kept in the library's own files (not tf variables), written beside model.json. */
  saveFiles?(dir: string): void;
  /** Optional: read what `saveFiles` wrote. */
  loadFiles?(dir: string): void;
}

/**
 * What every fusion model exposes to the trainer, the evaluator and the serving API.
 */
import type { tf } from '../engine/tf.js';
import type { Batch } from '../data/batchTypes.js';
import type { Sample } from '../data/schema.js';

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

export interface FusionModel {
  /** Model type name as in the config (`baseline`, `fusemoe`, ...). */
  readonly type: string;
  /** Forward pass. `training` enables dropout / noisy gating; `seed` makes them repeatable. */
  forward(batch: Batch, opts: { training: boolean; seed?: number }): ForwardOutput;
  /**
   * All trainable variables. Their LOGICAL names (`paramName(v)`, src/engine/params.ts) are unique
   * and stable (files and checkpoints use them); `v.name` is the engine name, unique in the process
   * (suffixed `#<n>` when another live model holds the logical name).
   */
  variables(): tf.Variable[];
  /** Free every variable and tensor the model holds. */
  dispose(): void;
  /** Optional: routing explanation for each sample of a batch (inference mode). */
  explain?(batch: Batch): SampleExplanation[];
  /** Optional: models that retrieve from the training split receive it before training. */
  setTrainingPool?(samples: Sample[], toBatch: (s: Sample[]) => Batch): void;
  /** Inference logits [B, C] and `explain`'s explanations from one forward pass (optional). */
  forwardExplained?(batch: Batch): { logits: tf.Tensor2D; explanations: SampleExplanation[] };
}

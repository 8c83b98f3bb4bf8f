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

/**
 * What a model's routing did with one sample (models with experts): statistics of the router, not
 * a measure of how much a modality changed the prediction (that is `ModalityAttribution`).
 */
export interface RoutingExplanation {
  /**
   * What `shares` and each expert's `shares` divide up:
   *  - `tokens` (FuseMoE): the sample's routed tokens by modality. Each token's top-k gate weights
   *    sum to 1, so this is each modality's token count over the total: it follows from the
   *    record's shape (how many tokens each modality has), not from the model's weights;
   *  - `dispatch` (REMIND / Soft MoE): the dispatch weight the experts' slots draw from each present
   *    modality's tokens, weighted by the expert's combine weight;
   *  - `retrieval` (MoE-Retriever): the gate weight of the retrieval context tokens, by the missing
   *    modality they were retrieved for.
   */
  basis: 'tokens' | 'dispatch' | 'retrieval';
  /** Share of the sample's total (see `basis`) per modality; sums to 1 (or all 0 when nothing was routed). */
  shares: Record<string, number>;
  /**
   * Experts ranked by total gate (combine) weight for this sample; `weight` is its share of the
   * sample's total, `shares` the modality mix of what it received. `member`: which member's
   * expert, for ensembles (src/models/ensemble.ts).
   */
  topExperts: { layer: number; expert: number; weight: number; shares: Record<string, number>; member?: number }[];
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

/**
 * How much each modality moved this prediction: p(record) − p(record with that modality treated
 * as missing), each computed by the model itself (every model here accepts a missing modality, so
 * this is exact, not an approximation). A modality the record lacks gets 0.
 */
export interface ModalityAttribution {
  /**
   * The probability attributed: binary → the task name (the risk); multiclass → the predicted
   * class; multilabel → null (each label is in `byOutput`).
   */
  target: string | null;
  /** p(target | record) (binary: the risk); null for multilabel. */
  probability: number | null;
  /** Per modality: p(target | record) − p(target | record without it). Empty for multilabel. */
  byModality: Record<string, number>;
  /** Multiclass and multilabel: per modality, the change of every class's / label's probability. */
  byOutput?: Record<string, Record<string, number>>;
}

/** Per-sample explanation: the attribution, and for models with experts the routing statistics. */
export interface SampleExplanation {
  id: string;
  attribution: ModalityAttribution;
  routing?: RoutingExplanation;
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
  /** Optional: routing statistics of each sample of a batch (inference mode), in batch order. */
  explain?(batch: Batch): RoutingExplanation[];
  /** Optional: models that retrieve from the training split receive it before training. */
  setTrainingPool?(samples: Sample[], toBatch: (s: Sample[]) => Batch): void;
  /** Inference logits [B, C] and `explain`'s routing statistics from one forward pass (optional). */
  forwardExplained?(batch: Batch): { logits: tf.Tensor2D; explanations: RoutingExplanation[] };
  /** Optional: models trained by their own library (gradient-boosted trees) instead of the gradient trainer. */
  fit?(inputs: LibraryFitInputs): TrainResult;
  /** Optional: parameters kept in the library's own files (not tf variables), written beside model.json. */
  saveFiles?(dir: string): void;
  /** Optional: read what `saveFiles` wrote. */
  loadFiles?(dir: string): void;
}

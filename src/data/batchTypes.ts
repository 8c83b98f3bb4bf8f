/**
 * Dense, padded batches built from samples: plain typed arrays (row-major), no tensors, so the
 * data layer does not depend on the engine. Models turn them into tensors.
 *
 * B = batch size, M = number of modalities (spec order), T = padded number of distinct
 * observation times of one modality in this batch, V = variables, D = embedding width,
 * F = static features, L = labels/classes.
 */

/** An irregular time-series modality on the union of its observation times per sample. */
export interface TimeSeriesBatch {
  kind: 'timeseries';
  T: number;
  V: number;
  /** Observation times scaled to [0, 1] by the dataset horizon; 0 at padding.  [B, T] */
  times: Float32Array;
  /** 1 where the time step is real, 0 at padding.  [B, T] */
  timeMask: Float32Array;
  /** Normalised values, 0 where not observed.  [B, T, V] */
  values: Float32Array;
  /** 1 where the variable was observed at that time.  [B, T, V] */
  mask: Float32Array;
}

/** A timed-embedding modality. */
export interface EmbeddingBatch {
  kind: 'embedding';
  T: number;
  D: number;
  /** [B, T] scaled to [0, 1] */
  times: Float32Array;
  /** [B, T] */
  timeMask: Float32Array;
  /** [B, T, D] (normalised when the normaliser was fitted with embeddings) */
  values: Float32Array;
}

/** A static vector modality. */
export interface StaticBatch {
  kind: 'static';
  F: number;
  /** Normalised values, 0 where missing.  [B, F] */
  values: Float32Array;
  /** 1 where observed.  [B, F] */
  mask: Float32Array;
}

export type ModalityBatch = TimeSeriesBatch | EmbeddingBatch | StaticBatch;

export interface Batch {
  size: number;
  ids: string[];
  /** One entry per modality of the spec, by name (present even when all samples miss it). */
  modalities: Record<string, ModalityBatch>;
  /** 1 where the sample has the modality (spec order).  [B, M] */
  present: Float32Array;
  /** Modality combination of each sample as a bitmask over spec order (bit m = modality m).  [B] */
  groupIds: Int32Array;
  /**
   * Labels: binary → [B] of 0/1; multiclass → [B] of class indices; multilabel → [B, L] of 0/1.
   */
  labels: Float32Array;
}

/**
 * The FlexiModal sample model: what one record (e.g. one ICU stay) looks like in memory.
 *
 * A dataset has a fixed list of modalities (its spec); each sample holds data for any subset of
 * them. Three modality kinds exist:
 *  - `timeseries`: an irregular multivariate time series; each variable observed at its own times.
 *  - `embedding`: timed embeddings (notes, images): a list of (time, vector of fixed width).
 *  - `static`: one vector of named features, entries may be missing.
 */

/** An irregular multivariate time series modality (e.g. vitals, labs). */
export interface TimeSeriesModalitySpec {
  name: string;
  kind: 'timeseries';
  /** Variable names, in a fixed order; observation `variable` indices point into this list. */
  variables: string[];
}

/** A timed-embedding modality (e.g. note or X-ray embeddings). */
export interface EmbeddingModalitySpec {
  name: string;
  kind: 'embedding';
  /** Width of every vector. */
  dim: number;
}

/** A static vector modality (e.g. demographics). */
export interface StaticModalitySpec {
  name: string;
  kind: 'static';
  /** Feature names, in a fixed order. */
  features: string[];
}

export type ModalitySpec = TimeSeriesModalitySpec | EmbeddingModalitySpec | StaticModalitySpec;
export type ModalityKind = ModalitySpec['kind'];

/** The prediction task. Labels are stored per sample as described on `Sample.label`. */
export type TaskSpec =
  | { kind: 'binary'; name: string }
  | { kind: 'multiclass'; name: string; classes: string[] }
  | { kind: 'multilabel'; name: string; labels: string[] };

/** Everything needed to interpret samples: modalities (in order), task, and the time window. */
export interface DatasetSpec {
  name: string;
  modalities: ModalitySpec[];
  task: TaskSpec;
  /** Length of the observation window in hours (times are in hours from the window start). */
  horizonHours: number;
}

/** Observations of a time-series modality in long form, sorted by time (then variable). */
export interface TimeSeriesData {
  kind: 'timeseries';
  /** Observation times in hours, ascending.  [n] */
  times: Float64Array;
  /** Index into the modality's `variables` for each observation.  [n] */
  variables: Int32Array;
  /** Observed values (finite).  [n] */
  values: Float64Array;
}

/** Timed embeddings: `times[i]` is the time of `vectors[i]` (length = spec dim). */
export interface EmbeddingData {
  kind: 'embedding';
  /** [n] ascending */
  times: Float64Array;
  /** n vectors of width `dim` */
  vectors: Float32Array[];
}

/** A static vector; NaN marks a missing entry. */
export interface StaticData {
  kind: 'static';
  /** [F] */
  values: Float64Array;
}

export type ModalityData = TimeSeriesData | EmbeddingData | StaticData;

/**
 * One FlexiModal record. `modalities[name]` is absent (undefined) when the modality is missing
 * for this sample. Labels:
 *  - binary: 0 or 1
 *  - multiclass: the class index (0-based)
 *  - multilabel: an array of 0/1 of length = number of labels
 */
export interface Sample {
  id: string;
  modalities: Record<string, ModalityData | undefined>;
  label: number | number[];
  /** Optional source location for error messages (e.g. "set-a/132539.txt", "data.jsonl:17"). */
  source?: string;
  /**
   * Optional patient (subject) id. When samples carry it, splits are drawn per subject: all
   * samples of one subject land in the same split (e.g. several ICU stays of one patient).
   */
  subject?: string;
}

/** A loaded dataset with its spec, samples and the report of what was cleaned. */
export interface Dataset {
  spec: DatasetSpec;
  samples: Sample[];
  report: DataReport;
  /**
   * sha256 (hex) of the input files, keyed by the path as given to the reader (for the run
   * manifest). A directory of record files is keyed by its path and hashed as the sha256 of its
   * `sha256sum`-style listing (see docs/DATA.md). Absent for generated data.
   */
  hashes?: Record<string, string>;
}

/**
 * What a reader cleaned or skipped. Nothing is dropped silently: every dropped or altered value
 * is counted here by reason (and by variable where that applies).
 */
export interface DataReport {
  source: string;
  samplesRead: number;
  samplesKept: number;
  /** Total observations kept (all modalities). */
  observationsKept: number;
  /** reason → count, e.g. { "out-of-range": 1203, "duplicate (time, variable) averaged": 3744 } */
  counts: Record<string, number>;
  /** reason → variable → count */
  byVariable: Record<string, Record<string, number>>;
  /** Free-text notes (e.g. "3 records have no time series: 140501, 140936, 141264"). */
  notes: string[];
}

/** True when the sample has data for the modality (non-empty). */
export function hasModality(sample: Sample, name: string): boolean {
  const m = sample.modalities[name];
  if (!m) return false;
  switch (m.kind) {
    case 'timeseries':
      return m.times.length > 0;
    case 'embedding':
      return m.times.length > 0;
    case 'static':
      return m.values.some((v) => !Number.isNaN(v));
  }
}

/** The prediction task an evaluation is about; decides which metric variants are used. */
export type Task =
  | { kind: 'binary' }
  | { kind: 'multiclass'; numClasses: number }
  | { kind: 'multilabel'; numLabels: number };

/**
 * The metrics of one evaluation (one split or one group, one seed). The five contract metrics are
 * always present (NaN where undefined); extra keys depend on the task, see docs/METRICS.md.
 */
export interface Metrics {
  auroc: number;
  auprc: number;
  f1: number;
  f1_at_val_threshold?: number;
  accuracy: number;
  brier: number;
  ece: number;
  /** Number of samples. */
  n: number;
  /** Binary: positive samples; multi-label: positive (sample, label) entries. */
  positives?: number;
  [extra: string]: number | undefined;
}

/** The contract metric names, in report order. */
export const CONTRACT_METRICS = ['auroc', 'auprc', 'f1', 'accuracy', 'brier'] as const;

/** The contract split names, in report order. */
export const SPLITS = ['train', 'val', 'test', 'external'] as const;
/** One of the contract split names. */
export type Split = (typeof SPLITS)[number];

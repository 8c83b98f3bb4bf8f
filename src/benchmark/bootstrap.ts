/**
 * Paired bootstrap of metric differences on the same test samples.
 *
 * Every method of one dataset × protocol was evaluated on the same test samples (same split seed).
 * One replicate draws n indices uniformly with replacement from 0..n−1 (a seeded Rng, so the
 * intervals are reproducible) and evaluates EVERY method on that same resample — the pairing.
 * A method's replicate value is the mean over its seeds of the metric on the resample; the
 * difference of two methods is taken per replicate, and the interval is the (α/2, 1 − α/2)
 * percentile interval of those differences (quantiles with linear interpolation between order
 * statistics, R's type 7). Replicates where a metric is undefined (e.g. a resample with one class
 * for AUROC) are left out and counted. "Better" = the interval excludes zero.
 */
import { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import { auroc, aurocMulticlass, aurocMultilabel } from '../eval/metrics/auroc.js';
import { accuracy, accuracyMulticlass } from '../eval/metrics/accuracy.js';

/** A metric of probabilities [N·width] against labels ([N], or [N·width] for multi-label). */
export type MetricFn = (probs: Float32Array, labels: Float32Array) => number;

/** The task of a predictions file. */
export interface PredictionTask {
  kind: 'binary' | 'multiclass' | 'multilabel';
  /** Probability columns per sample. */
  width: number;
}

/** The benchmark's ranking metric as a function: 'auroc' (macro for multi-class/-label) or 'accuracy'. */
export function metricFn(name: 'auroc' | 'accuracy', task: PredictionTask): MetricFn {
  if (name === 'auroc') {
    if (task.kind === 'binary') return (p, y) => auroc(p, y);
    if (task.kind === 'multiclass') return (p, y) => aurocMulticlass(p, y, task.width).value;
    return (p, y) => aurocMultilabel(p, y, task.width).value;
  }
  if (task.kind === 'binary') return (p, y) => accuracy(p, y, 0.5);
  if (task.kind === 'multiclass') return (p, y) => accuracyMulticlass(p, y, task.width);
  throw new FlexiModalError('accuracy is not a ranking metric for multi-label tasks', { where: 'benchmark dataset primaryMetric', hint: "use 'auroc'" });
}

/** One method's predictions: one probability array [N·width] per seed, rows in the shared sample order. */
export type MethodPredictions = Float32Array[];

/** Replicate values of every method (mean over its seeds), and its value on the full test set. */
export interface BootstrapReplicates {
  /** Method → metric on all test samples (mean over seeds). */
  point: number[];
  /** Method → one value per replicate (NaN where undefined). */
  reps: Float64Array[];
  n: number;
}

/** Gather rows `idx` of a row-major matrix with `width` columns. */
function gather(values: Float32Array, width: number, idx: Int32Array, out: Float32Array): Float32Array {
  for (let i = 0; i < idx.length; i++) {
    const src = idx[i]! * width;
    for (let c = 0; c < width; c++) out[i * width + c] = values[src + c]!;
  }
  return out;
}

/** Mean of the finite values (NaN when none). */
function meanFinite(values: number[]): number {
  const ok = values.filter(Number.isFinite);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
}

/**
 * Resample the shared test samples `reps` times (seed `seed`) and evaluate every method on each
 * resample. `labels` has `labelWidth` entries per sample (1, or the label count for multi-label).
 */
export function bootstrapReplicates(
  methods: MethodPredictions[],
  labels: Float32Array,
  opts: { width: number; labelWidth: number; metric: MetricFn; reps: number; seed: number },
): BootstrapReplicates {
  const n = labels.length / opts.labelWidth;
  if (!Number.isInteger(n) || n < 1) throw new FlexiModalError(`bootstrap needs at least one test sample (got ${labels.length} labels of width ${opts.labelWidth})`, { where: 'bootstrapReplicates' });
  for (const m of methods) {
    for (const p of m) {
      if (p.length !== n * opts.width) throw new FlexiModalError(`predictions of length ${p.length} do not match ${n} samples × ${opts.width}`, { where: 'bootstrapReplicates', hint: 'pass predictions of the same test samples, in the same order' });
    }
  }
  const point = methods.map((m) => meanFinite(m.map((p) => opts.metric(p, labels))));
  const reps = methods.map(() => new Float64Array(opts.reps));
  const rng = new Rng(opts.seed);
  const idx = new Int32Array(n);
  const yBuf = new Float32Array(n * opts.labelWidth);
  const pBuf = new Float32Array(n * opts.width);
  for (let r = 0; r < opts.reps; r++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    const y = gather(labels, opts.labelWidth, idx, yBuf);
    methods.forEach((m, k) => {
      reps[k]![r] = meanFinite(m.map((p) => opts.metric(gather(p, opts.width, idx, pBuf), y)));
    });
  }
  return { point, reps, n };
}

/** Quantile q of sorted values, linear interpolation between order statistics (type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** A paired difference `method − against` and its bootstrap interval. */
export interface DifferenceInterval {
  against: string;
  /** Difference on the full test set. */
  diff: number;
  lo: number;
  hi: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
  /** Replicates used (those where both values were defined). */
  reps: number;
  /** Replicates left out because a metric was undefined on them. */
  undefinedReps: number;
  /** The interval excludes zero: the difference is significant at this level. */
  excludesZero: boolean;
}

/** The percentile interval of the per-replicate differences of methods `a` − `b` (indices into `r`). */
export function differenceInterval(r: BootstrapReplicates, a: number, b: number, against: string, level = 0.95): DifferenceInterval {
  const ra = r.reps[a]!;
  const rb = r.reps[b]!;
  const d: number[] = [];
  for (let i = 0; i < ra.length; i++) {
    const x = ra[i]! - rb[i]!;
    if (Number.isFinite(x)) d.push(x);
  }
  d.sort((x, y) => x - y);
  const alpha = 1 - level;
  const lo = quantileSorted(d, alpha / 2);
  const hi = quantileSorted(d, 1 - alpha / 2);
  return {
    against,
    diff: r.point[a]! - r.point[b]!,
    lo,
    hi,
    level,
    reps: d.length,
    undefinedReps: ra.length - d.length,
    excludesZero: d.length > 0 && (lo > 0 || hi < 0),
  };
}

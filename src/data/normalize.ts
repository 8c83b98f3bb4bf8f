/**
 * Normalisers fitted on the TRAINING split only: per time-series variable mean/std over observed
 * values, per static feature mean/std (NaN ignored), optionally per embedding dimension.
 * Serialisable to JSON (saved with the model). In normalised units the training mean of every
 * variable is 0, which is the value UTDE's imputation uses for never-observed variables.
 */
import { FlexiModalError } from '../errors.js';
import type { DatasetSpec, Sample } from './schema.js';

/** Mean/std of each variable (feature, dimension) of one modality. */
export interface ModalityStats {
  /** Variable / feature names (embedding: "0".."D-1"). */
  names: string[];
  /** Training mean (raw units). */
  mean: number[];
  /** Training std (raw units; 1 when fewer than 2 observations or std < 1e-8). */
  std: number[];
  /** Number of training observations used. */
  count: number[];
  /**
   * Per variable: true when values are log1p-transformed before standardising (then mean/std are
   * on the log1p scale). Absent = no transform.
   */
  log?: boolean[];
  /**
   * Per variable: true when robust scaling was used (then `mean` holds the training median and
   * `std` the IQR / 1.349, which equals the std for normal data). Absent = mean / std.
   */
  robust?: boolean[];
}

/** A fitted normaliser (plain JSON). */
export interface Normalizer {
  version: 1;
  /** Per modality name; embedding modalities only when fitted with `embeddings: true`. */
  modalities: Record<string, ModalityStats & { kind: 'timeseries' | 'static' | 'embedding' }>;
  /** Clip standardised time-series/static values to ±clip (null = no clipping). */
  clip: number | null;
}

/** Options of `fitNormalizer`. */
export interface NormalizerOptions {
  /** Robust option: clip standardised values to ±clip std (e.g. 5); clipped values are counted by makeBatch. */
  clip?: number | null;
  /** Also standardise embedding dimensions (default false). */
  embeddings?: boolean;
  /**
   * log1p-transform time-series/static variables whose training values are all ≥ 0 and whose
   * skewness exceeds this threshold (e.g. 2: urine output, liver enzymes, troponin). null = never.
   */
  logSkewed?: number | null;
  /**
   * Robust scaling (median / IQR) for heavy-tailed variables: true = every time-series and static
   * variable, a list = those variable names. Falls back to mean / std where the IQR is 0.
   */
  robust?: boolean | string[];
  /** Called with a warning per variable whose std is dominated by a few extreme values. */
  onWarning?: (message: string) => void;
}

/** Below these, sums of values and of squared deviations cannot overflow float64. */
const SAFE_MAGNITUDE = 1e150;
const SAFE_COUNT = 1e6;

/** IQR → std of a normal distribution. */
const IQR_TO_SD = 1.349;
/** Warn when the std exceeds the robust spread (IQR / 1.349) by this factor. */
const DOMINANCE_WARNING = 1000;

/**
 * Mean and sample std in float64 without overflow: a plain two-pass sum while |x| < 1e150 (and
 * fewer than 1e6 values), otherwise Welford's update on the values divided by their largest
 * magnitude, scaled back at the end. Infinity only when the std itself exceeds the float64 range.
 */
export function meanStd(v: ArrayLike<number>): { mean: number; std: number } {
  const k = v.length;
  let scale = 0;
  for (let i = 0; i < k; i++) scale = Math.max(scale, Math.abs(v[i]!));
  if (k === 0 || scale === 0) return { mean: 0, std: 0 };
  if (scale < SAFE_MAGNITUDE && k < SAFE_COUNT) {
    // sums of x and of squared deviations stay far below 1.8e308: plain two-pass (exact for hand checks)
    let mu = 0;
    for (let i = 0; i < k; i++) mu += v[i]!;
    mu /= k;
    let ss = 0;
    for (let i = 0; i < k; i++) ss += (v[i]! - mu) * (v[i]! - mu);
    return { mean: mu, std: k > 1 ? Math.sqrt(ss / (k - 1)) : 0 };
  }
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < k; i++) {
    const x = v[i]! / scale;
    const d = x - mean;
    mean += d / (i + 1);
    m2 += d * (x - mean);
  }
  return { mean: mean * scale, std: k > 1 ? Math.sqrt(m2 / (k - 1)) * scale : 0 };
}

/** The q-quantile (0..1) of ascending-sorted values, linear interpolation. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Median and IQR / 1.349 of values (float64). */
export function medianSpread(v: ArrayLike<number>): { median: number; spread: number } {
  const s = Float64Array.from(v).sort();
  return { median: quantileSorted(s, 0.5), spread: (quantileSorted(s, 0.75) - quantileSorted(s, 0.25)) / IQR_TO_SD };
}

/** Sample skewness of values (0 for fewer than 3 values or zero variance). */
export function skewness(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 3) return 0;
  let mu = 0;
  for (let i = 0; i < n; i++) mu += values[i]!;
  mu /= n;
  let m2 = 0;
  let m3 = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mu;
    m2 += d * d;
    m3 += d * d * d;
  }
  m2 /= n;
  m3 /= n;
  return m2 > 0 ? m3 / Math.pow(m2, 1.5) : 0;
}

/** The value a variable is standardised from: x, or log1p(x) for log-transformed variables. */
export function transformValue(stats: Pick<ModalityStats, 'log'>, j: number, x: number): number {
  return stats.log?.[j] ? Math.log1p(Math.max(0, x)) : x;
}

const MIN_STD = 1e-8;

/** Fit on training samples only (pass the train split, never val/test). */
export function fitNormalizer(spec: DatasetSpec, trainSamples: Sample[], opts: NormalizerOptions = {}): Normalizer {
  const out: Normalizer['modalities'] = {};
  for (const m of spec.modalities) {
    if (m.kind === 'embedding' && !opts.embeddings) continue;
    const names =
      m.kind === 'timeseries' ? m.variables : m.kind === 'static' ? m.features : Array.from({ length: m.dim }, (_, i) => String(i));
    const V = names.length;
    const values: number[][] = Array.from({ length: V }, () => []);
    for (const smp of trainSamples) {
      const d = smp.modalities[m.name];
      if (!d) continue;
      if (d.kind !== m.kind) {
        throw new FlexiModalError(`modality "${m.name}" has kind ${d.kind}, spec says ${m.kind}`, { where: `sample ${smp.id}` });
      }
      if (d.kind === 'timeseries') for (let i = 0; i < d.values.length; i++) values[d.variables[i]!]!.push(d.values[i]!);
      else if (d.kind === 'static') d.values.forEach((x, j) => Number.isNaN(x) || values[j]!.push(x));
      else for (const vec of d.vectors) vec.forEach((x, j) => values[j]!.push(x));
    }
    const threshold = m.kind === 'embedding' ? null : (opts.logSkewed ?? null);
    const log = values.map((v) => threshold !== null && v.length > 2 && v.every((x) => x >= 0) && skewness(v) > threshold);
    const mean: number[] = [];
    const std: number[] = [];
    const n = values.map((v) => v.length);
    const wantRobust = (name: string) => m.kind !== 'embedding' && (opts.robust === true || (Array.isArray(opts.robust) && opts.robust.includes(name)));
    const robust = names.map(() => false);
    values.forEach((raw, j) => {
      const v = log[j] ? raw.map((x) => Math.log1p(x)) : raw;
      const k = v.length;
      if (k === 0) {
        mean.push(0);
        std.push(1);
        return;
      }
      const where = `normaliser of ${m.name}.${names[j]}`;
      const bad = v.find((x) => !Number.isFinite(x));
      if (bad !== undefined) throw new FlexiModalError(`a training value is ${bad}`, { where, hint: 'the data readers reject non-finite values; check how the samples were built' });
      const ms = meanStd(v);
      if (!Number.isFinite(ms.std)) {
        throw new FlexiModalError(`the training std overflows float64 (values up to ${Math.max(...v.map(Math.abs)).toExponential(2)})`, {
          where,
          hint: `give ${names[j]} a plausible range (data.ranges) so such values are dropped, or fix the data`,
        });
      }
      const ro = k > 2 ? medianSpread(v) : null;
      if (wantRobust(names[j]!) && ro && ro.spread >= MIN_STD) {
        robust[j] = true;
        mean.push(ro.median);
        std.push(ro.spread);
        return;
      }
      if (ro && ro.spread >= MIN_STD && ms.std > DOMINANCE_WARNING * ro.spread) {
        opts.onWarning?.(
          `${where}: std ${ms.std.toPrecision(3)} is ${(ms.std / ro.spread).toExponential(1)}× the robust spread (IQR/1.349 = ${ro.spread.toPrecision(3)}): a few extreme values flatten this variable for every sample — give it a plausible range (data.ranges) or robust scaling (normalize.robust)`,
        );
      }
      mean.push(ms.mean);
      std.push(ms.std < MIN_STD ? 1 : ms.std);
    });
    out[m.name] = {
      kind: m.kind,
      names: [...names],
      mean,
      std,
      count: n,
      ...(log.some(Boolean) ? { log } : {}),
      ...(robust.some(Boolean) ? { robust } : {}),
    };
  }
  return { version: 1, modalities: out, clip: opts.clip ?? null };
}

/**
 * The JSON form (a plain object; `JSON.stringify` it). Refuses a non-finite statistic (JSON would
 * store it as null and the model could never be loaded again).
 */
export function normalizerToJson(n: Normalizer): Normalizer {
  for (const [name, st] of Object.entries(n.modalities)) {
    const j = st.mean.findIndex((x, i) => !Number.isFinite(x) || !Number.isFinite(st.std[i]!) || !(st.std[i]! > 0));
    if (j >= 0) {
      throw new FlexiModalError(`refusing to save a non-finite statistic: mean ${st.mean[j]}, std ${st.std[j]}`, {
        where: `normaliser of ${name}.${st.names[j]}`,
        hint: 'drop extreme values with a plausible range (data.ranges) and retrain',
      });
    }
  }
  return structuredClone(n);
}

/** Rebuild (and validate) a normaliser from its JSON object, checking it fits the spec. */
export function normalizerFromJson(json: unknown, spec?: DatasetSpec): Normalizer {
  const bad = (msg: string) =>
    new FlexiModalError(`invalid normaliser: ${msg}`, { where: 'normalizer', hint: 'save it with normalizerToJson' });
  if (typeof json !== 'object' || json === null) throw bad('not an object');
  const o = json as Partial<Normalizer>;
  if (o.version !== 1) throw bad(`unsupported version ${String(o.version)}`);
  if (typeof o.modalities !== 'object' || o.modalities === null) throw bad('no modalities');
  if (o.clip !== null && typeof o.clip !== 'number') throw bad('clip must be a number or null');
  for (const [name, st] of Object.entries(o.modalities)) {
    const V = st.names?.length;
    if (!Array.isArray(st.mean) || !Array.isArray(st.std) || st.mean.length !== V || st.std.length !== V) {
      throw bad(`modality "${name}": names/mean/std lengths differ`);
    }
    const j = st.mean.findIndex((x, i) => typeof x !== 'number' || !Number.isFinite(x) || !(Number.isFinite(st.std[i]) && st.std[i]! > 0));
    if (j >= 0) {
      throw new FlexiModalError(`invalid normaliser: modality "${name}" variable "${st.names[j]}" has mean ${st.mean[j]} and std ${st.std[j]} (must be finite, std > 0)`, {
        where: 'normalizer',
        hint: 'the model was saved with a non-finite statistic (an extreme training value); retrain it with a plausible range for that variable',
      });
    }
    if (st.robust !== undefined && (!Array.isArray(st.robust) || st.robust.length !== V)) throw bad(`modality "${name}": robust flags length differs`);
    if (st.log !== undefined && (!Array.isArray(st.log) || st.log.length !== V)) throw bad(`modality "${name}": log flags length differs`);
  }
  if (spec) {
    for (const m of spec.modalities) {
      const st = o.modalities[m.name];
      if (!st) {
        if (m.kind === 'embedding') continue;
        throw bad(`no statistics for modality "${m.name}"`);
      }
      const names = m.kind === 'timeseries' ? m.variables : m.kind === 'static' ? m.features : null;
      if (names && names.join('\u0000') !== st.names.join('\u0000')) {
        throw bad(`modality "${m.name}": variables differ from the dataset's`);
      }
      if (m.kind === 'embedding' && st.names.length !== m.dim) throw bad(`modality "${m.name}": dim differs`);
    }
  }
  return structuredClone(o as Normalizer);
}

/**
 * Training means per variable of a modality: in raw units, or in normalised units (all 0; what
 * UTDE-style imputation fills in for unobserved variables).
 */
export function trainingMeans(n: Normalizer, modality: string, normalised = true): number[] {
  const st = n.modalities[modality];
  if (!st) throw new FlexiModalError(`normaliser has no modality "${modality}"`);
  return normalised ? st.mean.map(() => 0) : [...st.mean];
}

/** Standardise one value: (t(x) − mean)/std with t = log1p for log-transformed variables, clipped to ±clip when set. */
export function normalizeValue(n: Normalizer, modality: string, j: number, x: number): number {
  const st = n.modalities[modality];
  if (!st) return x;
  const z = (transformValue(st, j, x) - st.mean[j]!) / st.std[j]!;
  if (n.clip !== null) return Math.max(-n.clip, Math.min(n.clip, z));
  return z;
}

/** Inverse of `normalizeValue` (ignoring clipping; undoes the log1p transform). */
export function denormalizeValue(n: Normalizer, modality: string, j: number, z: number): number {
  const st = n.modalities[modality];
  if (!st) return z;
  const y = z * st.std[j]! + st.mean[j]!;
  return st.log?.[j] ? Math.expm1(y) : y;
}

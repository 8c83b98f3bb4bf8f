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
    values.forEach((raw, j) => {
      const v = log[j] ? raw.map((x) => Math.log1p(x)) : raw;
      const k = v.length;
      if (k === 0) {
        mean.push(0);
        std.push(1);
        return;
      }
      let mu = 0;
      for (const x of v) mu += x;
      mu /= k;
      let ss = 0;
      for (const x of v) ss += (x - mu) * (x - mu);
      const sd = k > 1 ? Math.sqrt(ss / (k - 1)) : 0;
      mean.push(mu);
      std.push(sd < MIN_STD ? 1 : sd);
    });
    out[m.name] = { kind: m.kind, names: [...names], mean, std, count: n, ...(log.some(Boolean) ? { log } : {}) };
  }
  return { version: 1, modalities: out, clip: opts.clip ?? null };
}

/** The JSON form (a plain object; `JSON.stringify` it). */
export function normalizerToJson(n: Normalizer): Normalizer {
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
    if (st.std.some((x) => !(x > 0))) throw bad(`modality "${name}": std must be > 0`);
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

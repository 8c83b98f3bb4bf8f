/**
 * The range of every variable and of time a model saw in training (issue 19 §4), so prediction
 * input far outside it is flagged or dropped instead of getting a confident answer.
 *
 * Bounds are robust: from the training split's 1st and 99th percentiles q1, q99 of each
 * time-series variable and static feature (and of each modality's observation times),
 *   [q1 − 3·w, q99 + 3·w],  w = max(q99 − q1, 1e-6·max(|q1|, |q99|, 1))
 * so a few outliers in training do not widen them and a plausible new value is not flagged.
 * They sit on top of the source's configured plausible ranges (model.json `ranges`), which
 * already dropped impossible values at reading time. Stored in model.json as `inputBounds`;
 * models saved before it have none, and nothing is flagged for them.
 *
 * Policies (predict/evaluate `--out-of-range`, Predictor `outOfRange`): 'drop' (default) removes
 * the observation (a static entry becomes missing) before predicting; 'flag' keeps it; both mark
 * the sample's output line `"outOfRange": {"count": n, "variables": {...}}` and count it in the
 * summary; 'off' does nothing.
 */
import type { DatasetSpec, Sample } from './schema.js';
import { FlexiModalError } from '../errors.js';

/** How a model treats input outside its training bounds. */
export type OutOfRangePolicy = 'drop' | 'flag' | 'off';
export const OUT_OF_RANGE_POLICIES: readonly OutOfRangePolicy[] = ['drop', 'flag', 'off'];

/** What model.json stores (`inputBounds`). */
export interface InputBounds {
  version: 1;
  /** How the bounds were computed (for readers of model.json). */
  method: 'quantile-1-99-pm-3w';
  /** "<modality>/<variable or feature>" → [low, high] (absent: never observed in training). */
  variables: Record<string, [number, number]>;
  /** "<modality>" → [low, high] of observation times in hours (time series and embeddings). */
  time: Record<string, [number, number]>;
}

/** One sample's values outside the bounds: "<modality>/<variable>" (or "<modality>/time") → count. */
export interface OutOfRangeMark {
  count: number;
  variables: Record<string, number>;
}

function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The robust bounds of a list of values (see the module comment); null when empty. */
export function robustBounds(values: number[]): [number, number] | null {
  if (!values.length) return null;
  const s = Float64Array.from(values).sort();
  const q1 = quantile(s, 0.01);
  const q99 = quantile(s, 0.99);
  const w = Math.max(q99 - q1, 1e-6 * Math.max(Math.abs(q1), Math.abs(q99), 1));
  return [q1 - 3 * w, q99 + 3 * w];
}

/** Fit the bounds on the training samples. */
export function fitInputBounds(spec: DatasetSpec, train: Sample[]): InputBounds {
  const vals = new Map<string, number[]>();
  const times = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, x: number) => {
    let a = m.get(k);
    if (!a) m.set(k, (a = []));
    a.push(x);
  };
  for (const s of train) {
    for (const ms of spec.modalities) {
      const d = s.modalities[ms.name];
      if (!d) continue;
      if (d.kind === 'timeseries' && ms.kind === 'timeseries') {
        for (let i = 0; i < d.values.length; i++) push(vals, `${ms.name}/${ms.variables[d.variables[i]!]}`, d.values[i]!);
        for (const t of d.times) push(times, ms.name, t);
      } else if (d.kind === 'embedding') {
        for (const t of d.times) push(times, ms.name, t);
      } else if (d.kind === 'static' && ms.kind === 'static') {
        d.values.forEach((x, j) => Number.isNaN(x) || push(vals, `${ms.name}/${ms.features[j]}`, x));
      }
    }
  }
  const out = (m: Map<string, number[]>) => Object.fromEntries([...m].map(([k, v]) => [k, robustBounds(v)!] as const));
  return { version: 1, method: 'quantile-1-99-pm-3w', variables: out(vals), time: out(times) };
}

const outside = (b: [number, number] | undefined, x: number) => b !== undefined && (x < b[0] || x > b[1]);

/** Bounds of a time-series modality's variables, by variable index (undefined: never observed in training). */
type VariableBounds = ([number, number] | undefined)[];
const variableBoundsCache = new WeakMap<InputBounds, Map<string, { names: string[]; bounds: VariableBounds }>>();

/** The bounds of `ms`'s variables by index, looked up once per model (not once per observation). */
function variableBoundsOf(bounds: InputBounds, ms: { name: string; variables: string[] }): VariableBounds {
  let byModality = variableBoundsCache.get(bounds);
  if (!byModality) variableBoundsCache.set(bounds, (byModality = new Map()));
  const hit = byModality.get(ms.name);
  if (hit && hit.names === ms.variables) return hit.bounds;
  const vb = ms.variables.map((v) => bounds.variables[`${ms.name}/${v}`]);
  byModality.set(ms.name, { names: ms.variables, bounds: vb });
  return vb;
}

/**
 * Check one sample against the bounds: returns the sample (with the values outside removed when
 * the policy is 'drop') and its mark (null when nothing is outside).
 */
export function applyInputBounds(spec: DatasetSpec, bounds: InputBounds | undefined, sample: Sample, policy: OutOfRangePolicy): { sample: Sample; mark: OutOfRangeMark | null } {
  if (!bounds || policy === 'off') return { sample, mark: null };
  const mark: OutOfRangeMark = { count: 0, variables: {} };
  const note = (k: string) => {
    mark.count++;
    mark.variables[k] = (mark.variables[k] ?? 0) + 1;
  };
  const modalities: Sample['modalities'] = { ...sample.modalities };
  for (const ms of spec.modalities) {
    const d = sample.modalities[ms.name];
    if (!d) continue;
    const tb = bounds.time[ms.name];
    if (d.kind === 'timeseries' && ms.kind === 'timeseries') {
      const vb = variableBoundsOf(bounds, ms);
      const n = d.values.length;
      let outsideRows: Uint8Array | null = null; // [n] 1 = outside (allocated at the first one)
      for (let i = 0; i < n; i++) {
        const v = d.variables[i]!;
        const badTime = outside(tb, d.times[i]!);
        const badValue = outside(vb[v], d.values[i]!);
        if (badTime) note(`${ms.name}/time`);
        if (badValue) note(`${ms.name}/${ms.variables[v]}`);
        if (badTime || badValue) (outsideRows ??= new Uint8Array(n))[i] = 1;
      }
      if (policy === 'drop' && outsideRows) {
        const keep = (_: number, i: number) => outsideRows![i] === 0;
        const values = d.values.filter(keep);
        modalities[ms.name] = values.length ? { kind: 'timeseries', times: d.times.filter(keep), variables: d.variables.filter(keep), values } : undefined;
      }
    } else if (d.kind === 'embedding') {
      const keep = [...d.times.keys()].filter((i) => !outside(tb, d.times[i]!));
      for (let i = 0; i < d.times.length - keep.length; i++) note(`${ms.name}/time`);
      if (policy === 'drop' && keep.length < d.times.length) {
        modalities[ms.name] = keep.length ? { kind: 'embedding', times: Float64Array.from(keep, (i) => d.times[i]!), vectors: keep.map((i) => d.vectors[i]!) } : undefined;
      }
    } else if (d.kind === 'static' && ms.kind === 'static') {
      const values = Float64Array.from(d.values);
      let changed = false;
      values.forEach((x, j) => {
        const key = `${ms.name}/${ms.features[j]}`;
        if (!Number.isNaN(x) && outside(bounds.variables[key], x)) {
          note(key);
          values[j] = NaN;
          changed = true;
        }
      });
      if (policy === 'drop' && changed) modalities[ms.name] = values.some((x) => !Number.isNaN(x)) ? { kind: 'static', values } : undefined;
    }
  }
  if (!mark.count) return { sample, mark: null };
  return { sample: policy === 'drop' ? { ...sample, modalities } : sample, mark };
}

/** Parse a policy name (CLI option), or throw naming the option. */
export function outOfRangePolicyOf(text: string, option = '--out-of-range'): OutOfRangePolicy {
  if ((OUT_OF_RANGE_POLICIES as readonly string[]).includes(text)) return text as OutOfRangePolicy;
  throw new FlexiModalError(`${option} must be one of ${OUT_OF_RANGE_POLICIES.join(', ')}, got '${text}'`, { where: option, hint: 'drop (default) removes values outside the training range, flag keeps and marks them, off ignores the bounds' });
}

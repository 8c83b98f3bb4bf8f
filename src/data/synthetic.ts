/**
 * Synthetic FlexiModal data with a KNOWN mechanism (the built-in default dataset). See
 * docs/DATA.md "Synthetic data" for the full description; in short:
 *
 *  - two latent factors per sample: risk z ~ N(0,1) and organ dysfunction w ~ N(0,1);
 *  - `vitals` (HR, SBP, RR, Temp, SpO2) drift with z over time; `labs` (Lactate, Creatinine, WBC,
 *    Na) drift with w (and a little z); each modality has Poisson charting events (vitals 1/h,
 *    labs 0.15/h) at which each variable is observed with its own probability, so every variable
 *    is a thinned Poisson process (irregular, variable-specific times);
 *  - `notes`: 1 + Poisson(2) timed 16-d vectors, mean z·u₁ + 0.8·w·u₂ (fixed unit directions) + noise;
 *  - `demo` (static): age depends on z, sex and bmi are independent noise; bmi missing 10%;
 *  - labels: binary y ~ Bernoulli(σ(1.6 z + 1.2 w − 1.7)) (prevalence ≈ 26%); multiclass =
 *    thresholds on s = 1.6 z + 1.2 w + 0.5 ε at equal-probability quantiles; multilabel label l
 *    ~ Bernoulli(σ(α_l z + β_l w − 1.2));
 *  - missingness: modalities missing independently at per-modality rates, or a long-tailed
 *    distribution over combinations; a sample never has no modality (empty draws are redrawn).
 * Deterministic for a seed.
 */
import { FlexiModalError } from '../errors.js';
import { Rng } from '../engine/rng.js';
import type { Dataset, DatasetSpec, ModalitySpec, Sample, TaskSpec } from './schema.js';
import { ReportBuilder } from './report.js';
import { buildTimeSeries } from './timeseries.js';

/** The synthetic modalities, in spec order. */
export const SYNTHETIC_MODALITIES = ['demo', 'vitals', 'labs', 'notes'] as const;
export type SyntheticModality = (typeof SYNTHETIC_MODALITIES)[number];

/** Default per-modality missing rates. */
export const SYNTHETIC_DEFAULT_MISSING: Record<SyntheticModality, number> = { demo: 0.05, vitals: 0.1, labs: 0.3, notes: 0.5 };

/** Options of `generateSynthetic`. */
export interface SyntheticOptions {
  /** Number of samples (default 1200). */
  n?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Task (default 'binary'). */
  task?: 'binary' | 'multiclass' | 'multilabel';
  /** Which modalities to generate (default all four, spec order demo, vitals, labs, notes). */
  modalities?: SyntheticModality[];
  /**
   * Missing rate per modality (independent; missing ones default to SYNTHETIC_DEFAULT_MISSING),
   * 'long-tail' (combination rank r drawn with prob ∝ (r+1)^−1.5) or { longTail: exponent }.
   */
  missingness?: Partial<Record<SyntheticModality, number>> | 'long-tail' | { longTail: number };
  /** Observation window (default 48 h). */
  horizonHours?: number;
  /** Width of note embeddings (default 16). */
  noteDim?: number;
  /** Number of classes for multiclass (default 3). */
  classes?: number;
  /** Number of labels for multilabel (default 4). */
  labels?: number;
}

/** A synthetic dataset with the latent factors that generated it (for checks and theory). */
export interface SyntheticDataset extends Dataset {
  latents: { z: number[]; w: number[] };
}

interface VarDef {
  name: string;
  mu: number;
  sd: number;
  az: number;
  aw: number;
  pObs: number;
}

const VITALS: VarDef[] = [
  { name: 'HR', mu: 85, sd: 15, az: 0.8, aw: 0, pObs: 0.9 },
  { name: 'SBP', mu: 120, sd: 20, az: -0.6, aw: 0, pObs: 0.8 },
  { name: 'RR', mu: 18, sd: 4, az: 0.7, aw: 0, pObs: 0.6 },
  { name: 'Temp', mu: 37, sd: 0.6, az: 0.3, aw: 0.2, pObs: 0.4 },
  { name: 'SpO2', mu: 96, sd: 2, az: -0.5, aw: 0, pObs: 0.7 },
];
const LABS: VarDef[] = [
  { name: 'Lactate', mu: 1.8, sd: 1.0, az: 0.3, aw: 0.8, pObs: 0.9 },
  { name: 'Creatinine', mu: 1.2, sd: 0.5, az: 0, aw: 0.7, pObs: 0.9 },
  { name: 'WBC', mu: 10, sd: 4, az: 0.2, aw: 0.6, pObs: 0.8 },
  { name: 'Na', mu: 139, sd: 4, az: 0, aw: -0.4, pObs: 0.9 },
];
const RATE = { vitals: 1.0, labs: 0.15 };
const MULTILABEL_COEF: [number, number][] = [[2, 0], [0, 2], [1.4, 1.4], [1.5, -1.5]];

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Poisson draw (Knuth; fine for the small means used here). */
function poisson(rng: Rng, mean: number): number {
  const L = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > L) {
    k++;
    p *= rng.next();
  }
  return k;
}

/** Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normInv(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normInv(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * Combinations of M modalities in long-tail rank order: the full set first, then by number of
 * modalities (descending), then by bitmask (ascending).
 */
export function longTailOrder(M: number): number[] {
  const ids = Array.from({ length: 2 ** M - 1 }, (_, i) => i + 1);
  const pop = (x: number) => x.toString(2).split('').filter((c) => c === '1').length;
  return ids.sort((a, b) => pop(b) - pop(a) || a - b);
}

/** Generate a synthetic FlexiModal dataset (deterministic for `seed`). */
export function generateSynthetic(opts: SyntheticOptions = {}): SyntheticDataset {
  const n = opts.n ?? 1200;
  const seed = opts.seed ?? 0;
  const taskKind = opts.task ?? 'binary';
  const H = opts.horizonHours ?? 48;
  const dim = opts.noteDim ?? 16;
  const K = opts.classes ?? 3;
  const L = opts.labels ?? 4;
  const mods = opts.modalities ?? [...SYNTHETIC_MODALITIES];
  if (!Number.isInteger(n) || n < 1) throw new FlexiModalError(`n must be a positive integer, got ${n}`, { where: 'synthetic.n' });
  if (mods.length === 0 || mods.some((m) => !SYNTHETIC_MODALITIES.includes(m)) || new Set(mods).size !== mods.length) {
    throw new FlexiModalError(`invalid synthetic modalities [${mods.join(', ')}]`, {
      where: 'synthetic.modalities',
      hint: `a non-empty subset of ${SYNTHETIC_MODALITIES.join(', ')}`,
    });
  }
  if (!(H > 0)) throw new FlexiModalError(`horizonHours must be > 0`, { where: 'synthetic.horizonHours' });
  if (!(dim >= 2)) throw new FlexiModalError(`noteDim must be ≥ 2`, { where: 'synthetic.noteDim' });
  if (taskKind === 'multiclass' && !(K >= 2)) throw new FlexiModalError(`classes must be ≥ 2`, { where: 'synthetic.classes' });
  if (taskKind === 'multilabel' && !(L >= 1)) throw new FlexiModalError(`labels must be ≥ 1`, { where: 'synthetic.labels' });
  const order = SYNTHETIC_MODALITIES.filter((m) => mods.includes(m));

  const specs: Record<SyntheticModality, ModalitySpec> = {
    demo: { name: 'demo', kind: 'static', features: ['age', 'sex', 'bmi'] },
    vitals: { name: 'vitals', kind: 'timeseries', variables: VITALS.map((v) => v.name) },
    labs: { name: 'labs', kind: 'timeseries', variables: LABS.map((v) => v.name) },
    notes: { name: 'notes', kind: 'embedding', dim },
  };
  let task: TaskSpec;
  if (taskKind === 'binary') task = { kind: 'binary', name: 'outcome' };
  else if (taskKind === 'multiclass') task = { kind: 'multiclass', name: 'stage', classes: Array.from({ length: K }, (_, k) => `stage${k}`) };
  else task = { kind: 'multilabel', name: 'phenotypes', labels: Array.from({ length: L }, (_, l) => `pheno${l}`) };
  const spec: DatasetSpec = { name: 'synthetic', modalities: order.map((m) => specs[m]), task, horizonHours: H };

  // Missingness model.
  const miss = opts.missingness ?? {};
  let rates: number[] | null = null;
  let tail: { ids: number[]; cum: number[] } | null = null;
  if (miss === 'long-tail' || (typeof miss === 'object' && 'longTail' in miss)) {
    const alpha = miss === 'long-tail' ? 1.5 : (miss as { longTail: number }).longTail;
    if (!(alpha >= 0)) throw new FlexiModalError('longTail exponent must be ≥ 0', { where: 'synthetic.missingness.longTail' });
    const ids = longTailOrder(order.length);
    const w = ids.map((_, r) => (r + 1) ** -alpha);
    const tot = w.reduce((a, b) => a + b, 0);
    let acc = 0;
    tail = { ids, cum: w.map((x) => (acc += x / tot)) };
  } else {
    const r = miss as Partial<Record<SyntheticModality, number>>;
    for (const k of Object.keys(r)) {
      if (!order.includes(k as SyntheticModality)) {
        throw new FlexiModalError(`missing rate for unknown modality "${k}"`, { where: 'synthetic.missingness', hint: `modalities: ${order.join(', ')}` });
      }
    }
    rates = order.map((m) => r[m] ?? SYNTHETIC_DEFAULT_MISSING[m]);
    if (rates.some((p) => !(p >= 0 && p <= 1))) throw new FlexiModalError('missing rates must be in [0, 1]', { where: 'synthetic.missingness' });
    if (rates.every((p) => p === 1)) throw new FlexiModalError('every modality has missing rate 1', { where: 'synthetic.missingness' });
  }

  // Fixed (seed-independent) note directions u1 ⟂ u2.
  const dirRng = new Rng(0x5eed);
  const u1 = Array.from({ length: dim }, () => dirRng.normal());
  const n1 = Math.hypot(...u1);
  for (let j = 0; j < dim; j++) u1[j]! /= n1;
  const u2 = Array.from({ length: dim }, () => dirRng.normal());
  const dot = u2.reduce((a, x, j) => a + x * u1[j]!, 0);
  for (let j = 0; j < dim; j++) u2[j]! -= dot * u1[j]!;
  const n2 = Math.hypot(...u2);
  for (let j = 0; j < dim; j++) u2[j]! /= n2;

  const master = new Rng(seed);
  const rLat = new Rng(master.seed());
  const rMiss = new Rng(master.seed());
  const rObs = new Rng(master.seed());
  const rLab = new Rng(master.seed());
  const report = new ReportBuilder();
  const sdS = Math.sqrt(1.6 ** 2 + 1.2 ** 2 + 0.5 ** 2);
  const thresholds = Array.from({ length: K - 1 }, (_, k) => sdS * normInv((k + 1) / K));
  const toMinute = (t: number) => Math.min(H, Math.round(t * 60) / 60);

  const samples: Sample[] = [];
  const zs: number[] = [];
  const ws: number[] = [];
  let redrawn = 0;
  for (let i = 0; i < n; i++) {
    const z = rLat.normal();
    const w = rLat.normal();
    zs.push(z);
    ws.push(w);
    // Which modalities the sample has.
    let comb = 0;
    if (tail) {
      const u = rMiss.next();
      let r = tail.cum.findIndex((c) => u < c);
      if (r < 0) r = tail.ids.length - 1;
      comb = tail.ids[r]!;
    } else {
      for (;;) {
        comb = 0;
        rates!.forEach((p, m) => {
          if (rMiss.next() >= p) comb |= 1 << m;
        });
        if (comb !== 0) break;
        redrawn++;
      }
    }
    const modalities: Sample['modalities'] = {};
    order.forEach((name, m) => {
      // Always draw (so that missingness does not change the other samples' values).
      const data = drawModality(name);
      if ((comb >> m) & 1) modalities[name] = data;
      else report.count('modality missing (by design)', 1, name);
    });
    function drawModality(name: SyntheticModality): Sample['modalities'][string] {
      if (name === 'demo') {
        const age = Math.max(18, Math.min(95, 65 + 12 * (0.5 * z + 0.87 * rObs.normal())));
        const sex = rObs.next() < 0.5 ? 1 : 0;
        let bmi = 27 + 5 * rObs.normal();
        if (rObs.next() < 0.1) bmi = NaN;
        return { kind: 'static', values: Float64Array.from([Math.round(age), sex, bmi]) };
      }
      if (name === 'notes') {
        const k = 1 + poisson(rObs, 2);
        const times = Array.from({ length: k }, () => toMinute(rObs.next() * H)).sort((a, b) => a - b);
        const vectors = times.map(() => {
          const v = new Float32Array(dim);
          for (let j = 0; j < dim; j++) v[j] = z * u1[j]! + 0.8 * w * u2[j]! + 0.7 * rObs.normal();
          return v;
        });
        return { kind: 'embedding', times: Float64Array.from(times), vectors };
      }
      const defs = name === 'vitals' ? VITALS : LABS;
      const rate = RATE[name];
      const events: number[] = [];
      for (let t = -Math.log(1 - rObs.next()) / rate; t <= H; t += -Math.log(1 - rObs.next()) / rate) {
        const tm = toMinute(t);
        if (events[events.length - 1] !== tm) events.push(tm); // events in the same minute coincide
      }
      if (events.length === 0) events.push(toMinute(rObs.next() * H));
      const offsets = defs.map(() => rObs.normal());
      const tt: number[] = [];
      const vv: number[] = [];
      const xx: number[] = [];
      for (const t of events) {
        let any = false;
        defs.forEach((d, j) => {
          const last = j === defs.length - 1 && !any;
          if (rObs.next() < d.pObs || last) {
            any = true;
            const x = d.mu + d.sd * ((d.az * z + d.aw * w) * (0.5 + t / H) + 0.5 * offsets[j]! + 0.3 * rObs.normal());
            tt.push(t);
            vv.push(j);
            xx.push(Number(x.toFixed(3)));
          }
        });
      }
      return buildTimeSeries(tt, vv, xx, defs.map((d) => d.name), report);
    }
    let label: number | number[];
    if (taskKind === 'binary') label = rLab.next() < sigmoid(1.6 * z + 1.2 * w - 1.7) ? 1 : 0;
    else if (taskKind === 'multiclass') {
      const s = 1.6 * z + 1.2 * w + 0.5 * rLab.normal();
      label = thresholds.filter((t) => s >= t).length;
    } else {
      label = Array.from({ length: L }, (_, l) => {
        const [a, b] = MULTILABEL_COEF[l % 4]!;
        const sign = Math.floor(l / 4) % 2 === 0 ? 1 : -1;
        return rLab.next() < sigmoid(sign * (a * z + b * w) - 1.2) ? 1 : 0;
      });
    }
    samples.push({ id: `syn${String(i).padStart(5, '0')}`, modalities, label });
  }
  if (redrawn > 0) {
    report.count('empty combination redrawn', redrawn);
    report.note(`${redrawn} samples drew no modality and were redrawn (a sample always has ≥ 1 modality)`);
  }
  report.note(`synthetic mechanism: seed ${seed}, task ${taskKind}, missingness ${JSON.stringify(miss)}`);
  return {
    spec,
    samples,
    report: report.build(`synthetic (n=${n}, seed=${seed})`, n, samples),
    latents: { z: zs, w: ws },
  };
}

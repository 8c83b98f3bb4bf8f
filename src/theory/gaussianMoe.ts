/**
 * Gaussian mixture of experts for regression with softmax or Laplace gating (FuseMoE §4, eq. 5,
 * dense gate): p(y | x) = Σᵢ softmaxᵢ(hᵢ(x)) · N(y; aᵢᵀx + bᵢ, νᵢ), with
 *   softmax gate: hᵢ(x) = Wᵢᵀx + βᵢ      (gauge: W_k = 0, β_k = 0),
 *   Laplace gate: hᵢ(x) = −‖Wᵢ − x‖ + βᵢ  (gauge: β_k = 0; W is identifiable).
 * Includes a sampler, the log-likelihood, EM (closed-form weighted least squares for the experts,
 * Fisher scoring with a line search for the gate) and the Voronoi losses of FuseMoE eq. 8.
 */
import { FlexiModalError } from '../errors.js';
import type { Rng } from '../engine/rng.js';
import { solveSpd } from './linalg.js';
import { drawCategorical, sampleCovariates, type CovariateDist } from './mlogitMoe.js';
import { alignReferenceCell, nearestAtomCells } from './voronoi.js';

/** Gating function of the Gaussian MoE. */
export type GaussianGate = 'softmax' | 'laplace';

/** Parameters of a k-expert Gaussian MoE on d-dimensional covariates. */
export interface GaussianMoeParams {
  k: number;
  d: number;
  gate: GaussianGate;
  /** [k] gate biases βᵢ. */
  beta: Float64Array;
  /** [k, d] gate weights Wᵢ. */
  W: Float64Array;
  /** [k, d] expert slopes aᵢ. */
  a: Float64Array;
  /** [k] expert intercepts bᵢ. */
  b: Float64Array;
  /** [k] expert variances νᵢ > 0. */
  nu: Float64Array;
}

/** Regression data: X [n, d], Y [n]. */
export interface GaussianData {
  n: number;
  d: number;
  X: Float64Array;
  Y: Float64Array;
}

/** One atom, for building parameters by hand. */
export interface GaussianAtom {
  beta: number;
  W: number[];
  a: number[];
  b: number;
  nu: number;
}

/** Flat parameters from atoms. */
export function gaussianParamsFromAtoms(atoms: GaussianAtom[], gate: GaussianGate): GaussianMoeParams {
  const k = atoms.length;
  const d = atoms[0]?.W.length ?? 0;
  const p = zeroGaussianParams(k, d, gate);
  atoms.forEach((at, i) => {
    if (at.W.length !== d || at.a.length !== d || !(at.nu > 0)) {
      throw new FlexiModalError(`atom ${i}: W and a need length ${d} and ν must be > 0`, { where: 'gaussianParamsFromAtoms', hint: 'fix the atom' });
    }
    p.beta[i] = at.beta;
    p.b[i] = at.b;
    p.nu[i] = at.nu;
    for (let c = 0; c < d; c++) {
      p.W[i * d + c] = at.W[c]!;
      p.a[i * d + c] = at.a[c]!;
    }
  });
  return p;
}

/** Atoms of flat parameters. */
export function gaussianAtoms(p: GaussianMoeParams): GaussianAtom[] {
  return Array.from({ length: p.k }, (_, i) => ({
    beta: p.beta[i]!,
    W: Array.from(p.W.subarray(i * p.d, (i + 1) * p.d)),
    a: Array.from(p.a.subarray(i * p.d, (i + 1) * p.d)),
    b: p.b[i]!,
    nu: p.nu[i]!,
  }));
}

/** All-zero parameters with unit variances. */
export function zeroGaussianParams(k: number, d: number, gate: GaussianGate): GaussianMoeParams {
  return { k, d, gate, beta: new Float64Array(k), W: new Float64Array(k * d), a: new Float64Array(k * d), b: new Float64Array(k), nu: new Float64Array(k).fill(1) };
}

/** Deep copy. */
export function cloneGaussianParams(p: GaussianMoeParams): GaussianMoeParams {
  return { ...p, beta: p.beta.slice(), W: p.W.slice(), a: p.a.slice(), b: p.b.slice(), nu: p.nu.slice() };
}

/** Move to the gauge: β_k = 0 (and W_k = 0 for the softmax gate). Same conditional density. */
export function canonicalizeGaussian(p: GaussianMoeParams): GaussianMoeParams {
  const q = cloneGaussianParams(p);
  const { k, d } = q;
  for (let i = 0; i < k; i++) q.beta[i] = p.beta[i]! - p.beta[k - 1]!;
  if (q.gate === 'softmax') for (let i = 0; i < k; i++) for (let c = 0; c < d; c++) q.W[i * d + c] = p.W[i * d + c]! - p.W[(k - 1) * d + c]!;
  return q;
}

/** Gate logit hᵢ(x) and its derivative w.r.t. Wᵢ (written to dW[0..d)). */
function gateLogit(p: GaussianMoeParams, i: number, x: ArrayLike<number>, xo: number, dW: Float64Array | null): number {
  const { d } = p;
  if (p.gate === 'softmax') {
    let v = p.beta[i]!;
    for (let c = 0; c < d; c++) {
      v += p.W[i * d + c]! * x[xo + c]!;
      if (dW) dW[c] = x[xo + c]!;
    }
    return v;
  }
  let s = 0;
  for (let c = 0; c < d; c++) s += (p.W[i * d + c]! - x[xo + c]!) ** 2;
  const nrm = Math.sqrt(s);
  if (dW) for (let c = 0; c < d; c++) dW[c] = nrm > 0 ? (x[xo + c]! - p.W[i * d + c]!) / nrm : 0;
  return p.beta[i]! - nrm;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** log N(y; aᵢᵀx + bᵢ, νᵢ). */
function expertLogDensity(p: GaussianMoeParams, i: number, x: ArrayLike<number>, xo: number, y: number): number {
  let mu = p.b[i]!;
  for (let c = 0; c < p.d; c++) mu += p.a[i * p.d + c]! * x[xo + c]!;
  const nu = p.nu[i]!;
  return -0.5 * (LOG_2PI + Math.log(nu) + ((y - mu) * (y - mu)) / nu);
}

/** Gate probabilities [k] at x. */
export function gaussianGateProbs(p: GaussianMoeParams, x: ArrayLike<number>, xo = 0): Float64Array {
  const h = new Float64Array(p.k);
  let m = -Infinity;
  for (let i = 0; i < p.k; i++) {
    h[i] = gateLogit(p, i, x, xo, null);
    if (h[i]! > m) m = h[i]!;
  }
  let s = 0;
  for (let i = 0; i < p.k; i++) s += Math.exp(h[i]! - m);
  return h.map((v) => Math.exp(v - m) / s);
}

/** Σₜ log p_G(yₜ | xₜ). */
export function gaussianLogLik(p: GaussianMoeParams, data: GaussianData): number {
  let total = 0;
  const l = new Float64Array(p.k);
  for (let t = 0; t < data.n; t++) {
    const g = gaussianGateProbs(p, data.X, t * p.d);
    let m = -Infinity;
    for (let i = 0; i < p.k; i++) {
      l[i] = Math.log(g[i]!) + expertLogDensity(p, i, data.X, t * p.d, data.Y[t]!);
      if (l[i]! > m) m = l[i]!;
    }
    let s = 0;
    for (let i = 0; i < p.k; i++) s += Math.exp(l[i]! - m);
    total += m + Math.log(s);
  }
  return total;
}

/** Sample n pairs: x ~ dist, expert i ~ gate(x), y ~ N(aᵢᵀx + bᵢ, νᵢ). */
export function sampleGaussianMoe(p: GaussianMoeParams, n: number, rng: Rng, dist: CovariateDist = { kind: 'uniform', lo: -1, hi: 1 }): GaussianData {
  const X = sampleCovariates(n, p.d, dist, rng);
  const Y = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const g = gaussianGateProbs(p, X, t * p.d);
    const i = drawCategorical(g, 0, p.k, rng);
    let mu = p.b[i]!;
    for (let c = 0; c < p.d; c++) mu += p.a[i * p.d + c]! * X[t * p.d + c]!;
    Y[t] = mu + Math.sqrt(p.nu[i]!) * rng.normal();
  }
  return { n, d: p.d, X, Y };
}

/** EM options (as for the multinomial-logistic EM). */
export interface GaussianEmOptions {
  tol?: number;
  maxIter?: number;
  /** Fisher-scoring steps for the gate per M-step (default 10). */
  gateSteps?: number;
  trace?: boolean;
  /** Smallest allowed variance. */
  minVariance?: number;
}

/** EM result. */
export interface GaussianEmResult {
  params: GaussianMoeParams;
  logLik: number;
  iterations: number;
  converged: boolean;
  trace?: number[];
}

/** Number of free gate parameters and the index of βᵢ / Wᵢ in the gate vector. */
function gateLayout(p: GaussianMoeParams): { P: number; betaIdx: (i: number) => number; wIdx: (i: number) => number } {
  const { k, d } = p;
  const nW = p.gate === 'softmax' ? k - 1 : k;
  return {
    P: k - 1 + nW * d,
    betaIdx: (i) => (i < k - 1 ? i : -1),
    wIdx: (i) => (i < nW ? k - 1 + i * d : -1),
  };
}

/** Q_gate(p; r) = Σₜ Σᵢ rₜᵢ log πᵢ(xₜ). */
function gateQ(p: GaussianMoeParams, data: GaussianData, r: Float64Array): number {
  let q = 0;
  const h = new Float64Array(p.k);
  for (let t = 0; t < data.n; t++) {
    let m = -Infinity;
    for (let i = 0; i < p.k; i++) {
      h[i] = gateLogit(p, i, data.X, t * p.d, null);
      if (h[i]! > m) m = h[i]!;
    }
    let s = 0;
    for (let i = 0; i < p.k; i++) s += Math.exp(h[i]! - m);
    const lz = m + Math.log(s);
    for (let i = 0; i < p.k; i++) q += r[t * p.k + i]! * (h[i]! - lz);
  }
  return q;
}

/** Gradient and Fisher matrix of Q_gate (exact negative Hessian for the softmax gate). */
export function gateSystem(p: GaussianMoeParams, data: GaussianData, r: Float64Array): { grad: Float64Array; fisher: Float64Array } {
  const { k, d } = p;
  const lay = gateLayout(p);
  const P = lay.P;
  const grad = new Float64Array(P);
  const fisher = new Float64Array(P * P);
  const J = new Float64Array(k * P);
  const h = new Float64Array(k);
  const pi = new Float64Array(k);
  const dW = new Float64Array(d);
  for (let t = 0; t < data.n; t++) {
    J.fill(0);
    let m = -Infinity;
    for (let i = 0; i < k; i++) {
      h[i] = gateLogit(p, i, data.X, t * d, dW);
      if (h[i]! > m) m = h[i]!;
      const bi = lay.betaIdx(i);
      if (bi >= 0) J[i * P + bi] = 1;
      const wi = lay.wIdx(i);
      if (wi >= 0) for (let c = 0; c < d; c++) J[i * P + wi + c] = dW[c]!;
    }
    let s = 0;
    for (let i = 0; i < k; i++) {
      pi[i] = Math.exp(h[i]! - m);
      s += pi[i]!;
    }
    for (let i = 0; i < k; i++) pi[i] = pi[i]! / s;
    for (let i = 0; i < k; i++) {
      const gi = r[t * k + i]! - pi[i]!;
      for (let a = 0; a < P; a++) grad[a] = grad[a]! + gi * J[i * P + a]!;
    }
    // Fisher: Jᵀ (diag π − ππᵀ) J
    for (let a = 0; a < P; a++) {
      let pj = 0; // Σ_j π_j J_ja
      for (let j = 0; j < k; j++) pj += pi[j]! * J[j * P + a]!;
      for (let b2 = 0; b2 <= a; b2++) {
        let v = 0;
        let pjb = 0;
        for (let j = 0; j < k; j++) {
          v += pi[j]! * J[j * P + a]! * J[j * P + b2]!;
          pjb += pi[j]! * J[j * P + b2]!;
        }
        fisher[a * P + b2] = fisher[a * P + b2]! + v - pj * pjb;
      }
    }
  }
  for (let a = 0; a < P; a++) for (let b2 = 0; b2 < a; b2++) fisher[b2 * P + a] = fisher[a * P + b2]!;
  return { grad, fisher };
}

function addGateStep(p: GaussianMoeParams, dir: Float64Array, alpha: number): GaussianMoeParams {
  const q = cloneGaussianParams(p);
  const lay = gateLayout(p);
  for (let i = 0; i < p.k; i++) {
    const bi = lay.betaIdx(i);
    if (bi >= 0) q.beta[i] = q.beta[i]! + alpha * dir[bi]!;
    const wi = lay.wIdx(i);
    if (wi >= 0) for (let c = 0; c < p.d; c++) q.W[i * p.d + c] = q.W[i * p.d + c]! + alpha * dir[wi + c]!;
  }
  return q;
}

/** E-step: responsibilities [n, k] into r; returns the log-likelihood. */
function eStep(p: GaussianMoeParams, data: GaussianData, r: Float64Array): number {
  const { k, d } = p;
  const l = new Float64Array(k);
  let ll = 0;
  for (let t = 0; t < data.n; t++) {
    const g = gaussianGateProbs(p, data.X, t * d);
    let m = -Infinity;
    for (let i = 0; i < k; i++) {
      l[i] = Math.log(g[i]!) + expertLogDensity(p, i, data.X, t * d, data.Y[t]!);
      if (l[i]! > m) m = l[i]!;
    }
    let s = 0;
    for (let i = 0; i < k; i++) s += Math.exp(l[i]! - m);
    const lt = m + Math.log(s);
    ll += lt;
    for (let i = 0; i < k; i++) r[t * k + i] = Math.exp(l[i]! - lt);
  }
  return ll;
}

/** Fit by EM from `init`. Every iteration increases the log-likelihood (generalised EM). */
export function fitGaussianEm(data: GaussianData, init: GaussianMoeParams, opts: GaussianEmOptions = {}): GaussianEmResult {
  const tol = opts.tol ?? 1e-6;
  const maxIter = opts.maxIter ?? 2000;
  const gateSteps = opts.gateSteps ?? 10;
  const minVar = opts.minVariance ?? 1e-6;
  const { k, d, n } = { k: init.k, d: init.d, n: data.n };
  let p = canonicalizeGaussian(init);
  const r = new Float64Array(n * k);
  let ll = eStep(p, data, r);
  const trace = opts.trace ? [ll] : undefined;
  let converged = false;
  let it = 0;
  const pe = d + 1;
  for (it = 1; it <= maxIter; it++) {
    // experts: weighted least squares on [1, x], then the weighted residual variance
    const q = cloneGaussianParams(p);
    for (let i = 0; i < k; i++) {
      const A = new Float64Array(pe * pe);
      const rhs = new Float64Array(pe);
      let wsum = 0;
      for (let t = 0; t < n; t++) {
        const w = r[t * k + i]!;
        wsum += w;
        for (let c = 0; c < pe; c++) {
          const fc = c === 0 ? 1 : data.X[t * d + c - 1]!;
          rhs[c] = rhs[c]! + w * fc * data.Y[t]!;
          for (let c2 = 0; c2 <= c; c2++) A[c * pe + c2] = A[c * pe + c2]! + w * fc * (c2 === 0 ? 1 : data.X[t * d + c2 - 1]!);
        }
      }
      if (wsum < 1e-8) continue;
      for (let c = 0; c < pe; c++) for (let c2 = 0; c2 < c; c2++) A[c2 * pe + c] = A[c * pe + c2]!;
      const th = solveSpd(A, rhs, pe, 1e-12 * wsum);
      q.b[i] = th[0]!;
      for (let c = 0; c < d; c++) q.a[i * d + c] = th[c + 1]!;
      let rss = 0;
      for (let t = 0; t < n; t++) {
        let mu = q.b[i]!;
        for (let c = 0; c < d; c++) mu += q.a[i * d + c]! * data.X[t * d + c]!;
        rss += r[t * k + i]! * (data.Y[t]! - mu) ** 2;
      }
      q.nu[i] = Math.max(rss / wsum, minVar);
    }
    p = q;
    // gate: Fisher scoring with step halving on Q_gate
    let qCur = gateQ(p, data, r);
    for (let s = 0; s < gateSteps; s++) {
      const sys = gateSystem(p, data, r);
      const dir = solveSpd(sys.fisher, sys.grad, sys.grad.length, 1e-10 * n);
      let dec = 0;
      for (let j = 0; j < dir.length; j++) dec += dir[j]! * sys.grad[j]!;
      if (!(dec > 1e-10 * n)) break;
      let mx = 0;
      for (const v of dir) mx = Math.max(mx, Math.abs(v));
      let alpha = mx > 5 ? 5 / mx : 1;
      let moved = false;
      for (let ls = 0; ls < 40; ls++) {
        const cand = addGateStep(p, dir, alpha);
        const qc = gateQ(cand, data, r);
        if (qc >= qCur) {
          p = cand;
          qCur = qc;
          moved = true;
          break;
        }
        alpha /= 2;
      }
      if (!moved) break;
    }
    const llPrev = ll;
    ll = eStep(p, data, r);
    trace?.push(ll);
    if (Math.abs(ll - llPrev) <= tol * Math.abs(llPrev)) {
      converged = true;
      break;
    }
  }
  return { params: p, logLik: ll, iterations: Math.min(it, maxIter), converged, trace };
}

/** Exposed for tests: Q_gate and its Fisher system at p under responsibilities r. */
export const gaussianGateInternals = { gateQ, gateSystem, eStep };

/** Losses of a fitted Gaussian MoE against the truth (FuseMoE eq. 7–8, dense gate). */
export interface GaussianLosses {
  /** FuseMoE D₂ (eq. 8): over-specified cells use exponents (2, 2, r̄, r̄/2) on (W, a, b, ν). */
  d2: number;
  /** Gating-only Voronoi loss: Σⱼ |Σ exp βᵢ − exp βⱼ*| + Σᵢ exp βᵢ ‖Wᵢ − Wⱼ*‖. */
  gate: number;
  cells: number[][];
}

/** r̄(m) of Ho & Nguyen (2016): r̄(1) = 1 (unused), r̄(2) = 4, r̄(3) = 6; larger m extrapolated as 2m. */
export function rBar(m: number): number {
  return m <= 1 ? 1 : m === 2 ? 4 : m === 3 ? 6 : 2 * m;
}

/** Voronoi losses with the gauge aligned on the reference cell (as for the multinomial model). */
export function gaussianVoronoiLosses(fit: GaussianMoeParams, truth: GaussianMoeParams): GaussianLosses {
  const { d } = fit;
  const theta = (p: GaussianMoeParams, i: number, t1: number[]): number[] => [
    ...Array.from({ length: d }, (_, c) => p.W[i * d + c]! + t1[c]!),
    ...Array.from(p.a.subarray(i * d, (i + 1) * d)),
    p.b[i]!,
    p.nu[i]!,
  ];
  const zero = new Array<number>(d).fill(0);
  const trueAtoms = Array.from({ length: truth.k }, (_, j) => theta(truth, j, zero));
  const cellsFor = (t1: number[]): number[][] => nearestAtomCells(Array.from({ length: fit.k }, (_, i) => theta(fit, i, t1)), trueAtoms);
  const ref = truth.k - 1;
  const { t0, t1, cells } = alignReferenceCell({
    d,
    ref,
    intercept: (i) => fit.beta[i]!,
    slope: (i, c) => fit.W[i * d + c]!,
    refIntercept: truth.beta[ref]!,
    refSlope: (c) => truth.W[ref * d + c]!,
    shiftSlope: fit.gate === 'softmax',
    cellsFor,
  });
  let d2 = 0;
  let gate = 0;
  for (let j = 0; j < truth.k; j++) {
    const cell = cells[j]!;
    let mass = 0;
    for (const i of cell) mass += Math.exp(fit.beta[i]! + t0);
    const massTerm = Math.abs(mass - Math.exp(truth.beta[j]!));
    d2 += massTerm;
    gate += massTerm;
    const over = cell.length > 1;
    const rb = rBar(cell.length);
    for (const i of cell) {
      const w = Math.exp(fit.beta[i]! + t0);
      let dW = 0;
      let da = 0;
      for (let c = 0; c < d; c++) {
        dW += (fit.W[i * d + c]! + t1[c]! - truth.W[j * d + c]!) ** 2;
        da += (fit.a[i * d + c]! - truth.a[j * d + c]!) ** 2;
      }
      const nW = Math.sqrt(dW);
      const na = Math.sqrt(da);
      const db = Math.abs(fit.b[i]! - truth.b[j]!);
      const dn = Math.abs(fit.nu[i]! - truth.nu[j]!);
      d2 += w * (over ? nW ** 2 + na ** 2 + db ** rb + dn ** (rb / 2) : nW + na + db + dn);
      gate += w * nW;
    }
  }
  return { d2, gate, cells };
}

/**
 * The softmax-gating multinomial logistic mixture of experts of seed 002, eq. 1 (and eq. 8 with a
 * modified gate): P(Y = s | X) = Σᵢ softmaxᵢ(β₁ᵢᵀM(X) + β₀ᵢ) · softmax_s(a_{is} + b_{is}ᵀX),
 * with the identifiability constraints β₁ₖ = 0, β₀ₖ = 0 (last atom) and a_{iK} = 0, b_{iK} = 0
 * (last class). Classes are 0-based here (s ∈ {0, …, K−1}).
 */
import { FlexiModalError } from '../errors.js';
import type { Rng } from '../engine/rng.js';
import { applyGateTransform, type GateTransform } from './gateTransform.js';
import { logSumExp } from './linalg.js';

/** Parameters of a k-expert, K-class, d-dimensional multinomial logistic MoE (flat, row-major). */
export interface MlogitMoeParams {
  k: number;
  K: number;
  d: number;
  /** Gate transform M (identity = the standard gate). */
  gate: GateTransform;
  /** [k] gate intercepts β₀ᵢ. */
  beta0: Float64Array;
  /** [k, d] gate slopes β₁ᵢ. */
  beta1: Float64Array;
  /** [k, K] expert intercepts a_{is}; a_{i,K−1} = 0. */
  a: Float64Array;
  /** [k, K, d] expert slopes b_{is}; b_{i,K−1} = 0. */
  b: Float64Array;
}

/** A data set of n covariates X [n, d] and labels Y [n] in {0, …, K−1}. */
export interface MlogitData {
  n: number;
  d: number;
  K: number;
  X: Float64Array;
  Y: Int32Array;
}

/** Atom-wise description used to build parameters by hand (tables, tests). */
export interface MlogitAtom {
  beta0: number;
  beta1: number[];
  /** K intercepts (the last must be 0). */
  a: number[];
  /** K slope vectors of length d (the last must be 0). */
  b: number[][];
}

/** Build flat parameters from atoms; checks shapes and the class constraint. */
export function mlogitParamsFromAtoms(atoms: MlogitAtom[], gate: GateTransform): MlogitMoeParams {
  const k = atoms.length;
  if (k < 1) throw new FlexiModalError('a mixture needs at least one atom', { where: 'mlogitParamsFromAtoms' });
  const K = atoms[0]!.a.length;
  const d = atoms[0]!.beta1.length;
  const p = zeroMlogitParams(k, K, d, gate);
  atoms.forEach((at, i) => {
    if (at.a.length !== K || at.b.length !== K || at.beta1.length !== d || at.b.some((v) => v.length !== d)) {
      throw new FlexiModalError(`atom ${i} has inconsistent shapes`, {
        where: 'mlogitParamsFromAtoms',
        hint: `every atom needs beta1 of length ${d}, a of length ${K}, b of ${K}×${d}`,
      });
    }
    p.beta0[i] = at.beta0;
    for (let c = 0; c < d; c++) p.beta1[i * d + c] = at.beta1[c]!;
    for (let s = 0; s < K; s++) {
      p.a[i * K + s] = at.a[s]!;
      for (let c = 0; c < d; c++) p.b[(i * K + s) * d + c] = at.b[s]![c]!;
    }
  });
  return p;
}

/** Atoms of flat parameters (inverse of {@link mlogitParamsFromAtoms}). */
export function mlogitAtoms(p: MlogitMoeParams): MlogitAtom[] {
  const out: MlogitAtom[] = [];
  for (let i = 0; i < p.k; i++) {
    out.push({
      beta0: p.beta0[i]!,
      beta1: Array.from(p.beta1.subarray(i * p.d, (i + 1) * p.d)),
      a: Array.from(p.a.subarray(i * p.K, (i + 1) * p.K)),
      b: Array.from({ length: p.K }, (_, s) => Array.from(p.b.subarray((i * p.K + s) * p.d, (i * p.K + s + 1) * p.d))),
    });
  }
  return out;
}

/** All-zero parameters. */
export function zeroMlogitParams(k: number, K: number, d: number, gate: GateTransform): MlogitMoeParams {
  return {
    k,
    K,
    d,
    gate,
    beta0: new Float64Array(k),
    beta1: new Float64Array(k * d),
    a: new Float64Array(k * K),
    b: new Float64Array(k * K * d),
  };
}

/** Deep copy. */
export function cloneMlogitParams(p: MlogitMoeParams): MlogitMoeParams {
  return { ...p, beta0: p.beta0.slice(), beta1: p.beta1.slice(), a: p.a.slice(), b: p.b.slice() };
}

/**
 * Move to the identifiability gauge: subtract the last atom's gate parameters from every atom
 * (β₁ₖ = 0, β₀ₖ = 0) and each expert's last-class parameters from its classes (a_{iK} = 0,
 * b_{iK} = 0). The conditional distribution is unchanged.
 */
export function canonicalizeMlogit(p: MlogitMoeParams): MlogitMoeParams {
  const q = cloneMlogitParams(p);
  const { k, K, d } = q;
  const r0 = q.beta0[k - 1]!;
  for (let i = 0; i < k; i++) {
    q.beta0[i] = q.beta0[i]! - r0;
    for (let c = 0; c < d; c++) q.beta1[i * d + c] = q.beta1[i * d + c]! - p.beta1[(k - 1) * d + c]!;
  }
  for (let i = 0; i < k; i++) {
    const aRef = q.a[i * K + K - 1]!;
    for (let s = 0; s < K; s++) {
      q.a[i * K + s] = q.a[i * K + s]! - aRef;
      for (let c = 0; c < d; c++) q.b[(i * K + s) * d + c] = q.b[(i * K + s) * d + c]! - p.b[(i * K + K - 1) * d + c]!;
    }
  }
  return q;
}

/**
 * Gate probabilities π [k] and expert class probabilities F [k, K] at one covariate x (length d).
 * Scratch-free convenience used by the sampler and tests.
 */
export function mlogitComponents(p: MlogitMoeParams, x: ArrayLike<number>): { gate: Float64Array; expert: Float64Array } {
  const { k, K, d } = p;
  const mx = new Float64Array(d);
  applyGateTransform(p.gate, x, 0, d, mx, 0);
  const eta = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let v = p.beta0[i]!;
    for (let c = 0; c < d; c++) v += p.beta1[i * d + c]! * mx[c]!;
    eta[i] = v;
  }
  const lz = logSumExp(eta);
  const gate = eta.map((v) => Math.exp(v - lz));
  const expert = new Float64Array(k * K);
  const z = new Float64Array(K);
  for (let i = 0; i < k; i++) {
    for (let s = 0; s < K; s++) {
      let v = p.a[i * K + s]!;
      for (let c = 0; c < d; c++) v += p.b[(i * K + s) * d + c]! * x[c]!;
      z[s] = v;
    }
    const l = logSumExp(z);
    for (let s = 0; s < K; s++) expert[i * K + s] = Math.exp(z[s]! - l);
  }
  return { gate, expert };
}

/** P(Y = s | X = x) for s = 0..K−1 (eq. 1 / eq. 8). */
export function mlogitClassProbs(p: MlogitMoeParams, x: ArrayLike<number>): Float64Array {
  const { gate, expert } = mlogitComponents(p, x);
  const out = new Float64Array(p.K);
  for (let i = 0; i < p.k; i++) for (let s = 0; s < p.K; s++) out[s] = out[s]! + gate[i]! * expert[i * p.K + s]!;
  return out;
}

/** Total conditional log-likelihood Σₜ log g_G(Yₜ | Xₜ), computed with log-sum-exp. */
export function mlogitLogLik(p: MlogitMoeParams, data: MlogitData): number {
  checkData(p, data);
  const { k, K, d } = p;
  const mx = new Float64Array(d);
  const eta = new Float64Array(k);
  const z = new Float64Array(K);
  const l = new Float64Array(k);
  let total = 0;
  for (let t = 0; t < data.n; t++) {
    applyGateTransform(p.gate, data.X, t * d, d, mx, 0);
    for (let i = 0; i < k; i++) {
      let v = p.beta0[i]!;
      for (let c = 0; c < d; c++) v += p.beta1[i * d + c]! * mx[c]!;
      eta[i] = v;
    }
    const lz = logSumExp(eta);
    const y = data.Y[t]!;
    for (let i = 0; i < k; i++) {
      for (let s = 0; s < K; s++) {
        let v = p.a[i * K + s]!;
        for (let c = 0; c < d; c++) v += p.b[(i * K + s) * d + c]! * data.X[t * d + c]!;
        z[s] = v;
      }
      l[i] = eta[i]! - lz + z[y]! - logSumExp(z);
    }
    total += logSumExp(l);
  }
  return total;
}

/** Covariate distributions for the sampler. */
export type CovariateDist = { kind: 'uniform'; lo: number; hi: number } | { kind: 'normal'; mean: number; sd: number };

/** Draw n covariates [n, d] i.i.d. from `dist` (seed 002 App. D: uniform on [0, 1]). */
export function sampleCovariates(n: number, d: number, dist: CovariateDist, rng: Rng): Float64Array {
  const X = new Float64Array(n * d);
  for (let j = 0; j < n * d; j++) {
    X[j] = dist.kind === 'uniform' ? dist.lo + (dist.hi - dist.lo) * rng.next() : dist.mean + dist.sd * rng.normal();
  }
  return X;
}

/**
 * Sample n pairs (X, Y) from the model: X from `dist`, then an expert i ~ gate(X), then a class
 * s ~ expert i (two-stage sampling of eq. 1).
 */
export function sampleMlogitMoe(
  p: MlogitMoeParams,
  n: number,
  rng: Rng,
  dist: CovariateDist = { kind: 'uniform', lo: 0, hi: 1 },
): MlogitData {
  const { k, K, d } = p;
  const X = sampleCovariates(n, d, dist, rng);
  const Y = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    const { gate, expert } = mlogitComponents(p, X.subarray(t * d, (t + 1) * d));
    const i = drawCategorical(gate, 0, k, rng);
    Y[t] = drawCategorical(expert, i * K, K, rng);
  }
  return { n, d, K, X, Y };
}

/** Index drawn from probabilities probs[off .. off+len). */
export function drawCategorical(probs: ArrayLike<number>, off: number, len: number, rng: Rng): number {
  let u = rng.next();
  for (let j = 0; j < len - 1; j++) {
    u -= probs[off + j]!;
    if (u < 0) return j;
  }
  return len - 1;
}

function checkData(p: MlogitMoeParams, data: MlogitData): void {
  if (data.d !== p.d || data.K !== p.K || data.X.length !== data.n * data.d || data.Y.length !== data.n) {
    throw new FlexiModalError(`data (n=${data.n}, d=${data.d}, K=${data.K}) does not match the model (d=${p.d}, K=${p.K})`, {
      where: 'mlogit data',
      hint: 'sample the data with the same d and K as the model',
    });
  }
}

/**
 * Identifiability diagnostics of the (modified) softmax-gating multinomial logistic MoE: the
 * per-sample Fisher information
 *
 *   I(θ) = E_X Σ_s ∂P_s(X)/∂θ · ∂P_s(X)/∂θᵀ / P_s(X),   P_s(x) = P_θ(Y = s | X = x),
 *
 * over the free parameters θ of the identifiability gauge (β₀ᵢ, β₁ᵢ for i < k; a_{is}, b_{is} for
 * every expert i and class s < K), the expected log-likelihood E log P_θ(Y | X) under a second
 * parameter (its Hessian at θ = θ* is −I(θ*)), and the expected total-variation distance
 * E_X ½ Σ_s |P_s(X) − P*_s(X)| between two conditional laws. The expectation over X is a weighted
 * point set (CovariateRule): Gauss–Legendre quadrature for X ~ U[0, 1]ᵈ (default, 64 nodes per axis)
 * or Monte-Carlo draws.
 *
 * Derivatives (gate score ηᵢ = β₀ᵢ + β₁ᵢᵀM(x), expert scores z_{is} = a_{is} + b_{is}ᵀx):
 *   ∂P_s/∂ηⱼ = πⱼ (f_{js} − P_s),   ∂P_s/∂z_{jc} = πⱼ f_{js} (δ_{sc} − f_{jc}),
 * times the features [1, M(x)] (gate) or [1, x] (experts).
 */
import { FlexiModalError } from '../errors.js';
import { applyGateTransform } from './gateTransform.js';
import { symmetricEigen, symmetrizeLower } from './linalg.js';
import { canonicalizeMlogit, cloneMlogitParams, type MlogitData, type MlogitMoeParams } from './mlogitMoe.js';
import { uniformTensorRule, type CovariateRule } from './quadrature.js';

/** Number of free parameters: (k−1)(d+1) gate + k(K−1)(d+1) expert coordinates. */
export function mlogitFreeParamCount(p: { k: number; K: number; d: number }): number {
  return (p.k - 1) * (p.d + 1) + p.k * (p.K - 1) * (p.d + 1);
}

/** Names of the free parameters in the paper's 1-based notation: beta0[i], beta1[i], a[i,s], b[i,s] (b[i,s,c] when d > 1). */
export function mlogitFreeParamNames(p: { k: number; K: number; d: number }): string[] {
  const names: string[] = [];
  const slope = (base: string, c: number): string => (p.d === 1 ? `${base}]` : `${base},${c + 1}]`);
  for (let i = 0; i < p.k - 1; i++) {
    names.push(`beta0[${i + 1}]`);
    for (let c = 0; c < p.d; c++) names.push(slope(`beta1[${i + 1}`, c));
  }
  for (let i = 0; i < p.k; i++) {
    for (let s = 0; s < p.K - 1; s++) {
      names.push(`a[${i + 1},${s + 1}]`);
      for (let c = 0; c < p.d; c++) names.push(slope(`b[${i + 1},${s + 1}`, c));
    }
  }
  return names;
}

/** The free parameters of the gauge-fixed (canonical) parameters as a vector, in {@link mlogitFreeParamNames} order. */
export function mlogitFreeParams(params: MlogitMoeParams): Float64Array {
  const p = canonicalizeMlogit(params);
  const { k, K, d } = p;
  const out = new Float64Array(mlogitFreeParamCount(p));
  let j = 0;
  for (let i = 0; i < k - 1; i++) {
    out[j++] = p.beta0[i]!;
    for (let c = 0; c < d; c++) out[j++] = p.beta1[i * d + c]!;
  }
  for (let i = 0; i < k; i++) {
    for (let s = 0; s < K - 1; s++) {
      out[j++] = p.a[i * K + s]!;
      for (let c = 0; c < d; c++) out[j++] = p.b[(i * K + s) * d + c]!;
    }
  }
  return out;
}

/** Canonical parameters with the free coordinates set from θ (inverse of {@link mlogitFreeParams}). */
export function mlogitWithFreeParams(template: MlogitMoeParams, theta: ArrayLike<number>): MlogitMoeParams {
  const p = cloneMlogitParams(template);
  const { k, K, d } = p;
  p.beta0.fill(0);
  p.beta1.fill(0);
  p.a.fill(0);
  p.b.fill(0);
  let j = 0;
  for (let i = 0; i < k - 1; i++) {
    p.beta0[i] = theta[j++]!;
    for (let c = 0; c < d; c++) p.beta1[i * d + c] = theta[j++]!;
  }
  for (let i = 0; i < k; i++) {
    for (let s = 0; s < K - 1; s++) {
      p.a[i * K + s] = theta[j++]!;
      for (let c = 0; c < d; c++) p.b[(i * K + s) * d + c] = theta[j++]!;
    }
  }
  return p;
}

/**
 * Evaluator of P_s(x) and its Jacobian ∂P_s/∂θ [K, p] at one covariate, for canonical parameters.
 * Reuses its scratch buffers: the returned arrays are overwritten by the next call.
 */
export function classProbJacobian(params: MlogitMoeParams): (X: ArrayLike<number>, off: number) => { P: Float64Array; J: Float64Array } {
  const p = canonicalizeMlogit(params);
  const { k, K, d } = p;
  const np = mlogitFreeParamCount(p);
  const mx = new Float64Array(d);
  const pi = new Float64Array(k);
  const f = new Float64Array(k * K);
  const z = new Float64Array(K);
  const P = new Float64Array(K);
  const J = new Float64Array(K * np);
  const pe = d + 1;
  const gateOff = 0;
  const expertOff = (k - 1) * pe;
  return (X, off) => {
    applyGateTransform(p.gate, X, off, d, mx, 0);
    let m = -Infinity;
    for (let i = 0; i < k; i++) {
      let v = p.beta0[i]!;
      for (let c = 0; c < d; c++) v += p.beta1[i * d + c]! * mx[c]!;
      pi[i] = v;
      if (v > m) m = v;
    }
    let sg = 0;
    for (let i = 0; i < k; i++) {
      pi[i] = Math.exp(pi[i]! - m);
      sg += pi[i]!;
    }
    for (let i = 0; i < k; i++) pi[i] = pi[i]! / sg;
    P.fill(0);
    for (let i = 0; i < k; i++) {
      let mz = -Infinity;
      for (let s = 0; s < K; s++) {
        let v = p.a[i * K + s]!;
        for (let c = 0; c < d; c++) v += p.b[(i * K + s) * d + c]! * X[off + c]!;
        z[s] = v;
        if (v > mz) mz = v;
      }
      let se = 0;
      for (let s = 0; s < K; s++) {
        z[s] = Math.exp(z[s]! - mz);
        se += z[s]!;
      }
      for (let s = 0; s < K; s++) {
        f[i * K + s] = z[s]! / se;
        P[s] = P[s]! + pi[i]! * f[i * K + s]!;
      }
    }
    J.fill(0);
    for (let s = 0; s < K; s++) {
      const row = s * np;
      for (let i = 0; i < k - 1; i++) {
        const g = pi[i]! * (f[i * K + s]! - P[s]!);
        const o = row + gateOff + i * pe;
        J[o] = g;
        for (let c = 0; c < d; c++) J[o + 1 + c] = g * mx[c]!;
      }
      for (let i = 0; i < k; i++) {
        for (let cl = 0; cl < K - 1; cl++) {
          const g = pi[i]! * f[i * K + s]! * ((s === cl ? 1 : 0) - f[i * K + cl]!);
          const o = row + expertOff + (i * (K - 1) + cl) * pe;
          J[o] = g;
          for (let c = 0; c < d; c++) J[o + 1 + c] = g * X[off + c]!;
        }
      }
    }
    return { P, J };
  };
}

/** Add w · Σ_s J_s J_sᵀ / P_s into the lower triangle of F [p, p] (mirror with symmetrizeLower). */
function addOuter(F: Float64Array, P: Float64Array, J: Float64Array, K: number, np: number, w: number): void {
  for (let s = 0; s < K; s++) {
    if (!(P[s]! > 0)) continue;
    const ws = w / P[s]!;
    const row = s * np;
    for (let a = 0; a < np; a++) {
      const ja = J[row + a]! * ws;
      if (ja === 0) continue;
      for (let b = 0; b <= a; b++) F[a * np + b] = F[a * np + b]! + ja * J[row + b]!;
    }
  }
}

/** The default covariate rule of seed 002 App. D: X ~ U[0, 1]ᵈ by Gauss–Legendre (64 nodes per axis in d = 1, fewer above). */
export function defaultCovariateRule(d: number): CovariateRule {
  const m = d === 1 ? 64 : d === 2 ? 32 : Math.max(4, Math.floor(1e5 ** (1 / d)));
  return uniformTensorRule(d, m);
}

/** Per-sample Fisher information I(θ) [p, p] (row-major) under the covariate rule. */
export function mlogitFisherInformation(params: MlogitMoeParams, rule: CovariateRule = defaultCovariateRule(params.d)): Float64Array {
  checkRule(params, rule);
  const np = mlogitFreeParamCount(params);
  const F = new Float64Array(np * np);
  const ev = classProbJacobian(params);
  for (let t = 0; t < rule.count; t++) {
    const { P, J } = ev(rule.X, t * rule.d);
    addOuter(F, P, J, params.K, np, rule.weights[t]!);
  }
  symmetrizeLower(F, np);
  return F;
}

/** Expected conditional log-likelihood E_X Σ_s P*_s(X) log P_s(X) of `params` when the data follow `truth`. */
export function mlogitExpectedLogLik(params: MlogitMoeParams, truth: MlogitMoeParams, rule: CovariateRule = defaultCovariateRule(params.d)): number {
  checkRule(params, rule);
  const ev = classProbJacobian(params);
  const evT = classProbJacobian(truth);
  let total = 0;
  for (let t = 0; t < rule.count; t++) {
    const Ps = ev(rule.X, t * rule.d).P.slice();
    const Pt = evT(rule.X, t * rule.d).P;
    let v = 0;
    for (let s = 0; s < params.K; s++) if (Pt[s]! > 0) v += Pt[s]! * Math.log(Ps[s]!);
    total += rule.weights[t]! * v;
  }
  return total;
}

/** E_X TV(P_fit(·|X), P_truth(·|X)) = E_X ½ Σ_s |P_fit,s(X) − P_truth,s(X)| (the density-estimation error). */
export function mlogitExpectedTv(fit: MlogitMoeParams, truth: MlogitMoeParams, rule: CovariateRule = defaultCovariateRule(truth.d)): number {
  checkRule(truth, rule);
  if (fit.K !== truth.K || fit.d !== truth.d) throw new FlexiModalError(`fit (K=${fit.K}, d=${fit.d}) and truth (K=${truth.K}, d=${truth.d}) differ in shape`, { where: 'mlogitExpectedTv' });
  const ev = classProbJacobian(fit);
  const evT = classProbJacobian(truth);
  let total = 0;
  for (let t = 0; t < rule.count; t++) {
    const Pf = ev(rule.X, t * rule.d).P.slice();
    const Pt = evT(rule.X, t * rule.d).P;
    let v = 0;
    for (let s = 0; s < truth.K; s++) v += Math.abs(Pf[s]! - Pt[s]!);
    total += (rule.weights[t]! * v) / 2;
  }
  return total;
}

/** Σₜ score and Fisher-scoring matrix of a data set: g = Σₜ ∇log P_{yₜ}(xₜ), F = Σₜ Σ_s ∇P_s ∇P_sᵀ / P_s at xₜ; also ℓ. */
export function mlogitScoreAndInformation(params: MlogitMoeParams, data: MlogitData): { logLik: number; grad: Float64Array; info: Float64Array } {
  const np = mlogitFreeParamCount(params);
  const grad = new Float64Array(np);
  const info = new Float64Array(np * np);
  const ev = classProbJacobian(params);
  let ll = 0;
  for (let t = 0; t < data.n; t++) {
    const { P, J } = ev(data.X, t * data.d);
    const y = data.Y[t]!;
    const py = P[y]!;
    ll += Math.log(py);
    for (let a = 0; a < np; a++) grad[a] = grad[a]! + J[y * np + a]! / py;
    addOuter(info, P, J, data.K, np, 1);
  }
  symmetrizeLower(info, np);
  return { logLik: ll, grad, info };
}

/** The identifiability view of one parameter: spectrum, asymptotic standard errors and the n they need. */
export interface FisherDiagnostics {
  /** Free-parameter names (paper notation, 1-based). */
  names: string[];
  /** The parameter the information is evaluated at (free coordinates, same order). */
  theta: number[];
  /** Per-sample Fisher information [p][p]. */
  fisher: number[][];
  /** Its eigenvalues, increasing. */
  eigenvalues: number[];
  /** Eigenvectors (columns of the matrix), eigenvectors[m] belongs to eigenvalues[m]. */
  eigenvectors: number[][];
  /** λ_max / λ_min (Infinity when λ_min ≤ 0). */
  condition: number;
  /** Numerical rank: eigenvalues above rankTol · λ_max. */
  rank: number;
  /** √((I⁻¹)_jj): the asymptotic standard error of parameter j is seSqrtN[j] / √n (Infinity when not identified). */
  seSqrtN: number[];
  /** Tolerance τ of `nForSe`. */
  seTol: number;
  /** n at which the standard error of parameter j falls below τ: (I⁻¹)_jj / τ². */
  nForSe: number[];
  /** How E_X was computed. */
  rule: string;
}

/**
 * Fisher diagnostics at `params` (any gauge; it is canonicalised): the per-sample information, its
 * eigen-decomposition, the asymptotic standard error of every free parameter (√((I⁻¹)_jj / n),
 * I⁻¹ through the eigen-decomposition, so a near-singular I is resolved to ≈ ε·λ_max) and the
 * sample size at which each falls below `seTol`. Eigenvalues ≤ rankTol·λ_max count as zero; a
 * parameter with weight on such a direction has an infinite standard error.
 * Works for any fitted small MoE of this family, e.g. the result of fitMlogitEm.
 */
export function mlogitFisherDiagnostics(
  params: MlogitMoeParams,
  opts: { rule?: CovariateRule; seTol?: number; rankTol?: number } = {},
): FisherDiagnostics {
  const rule = opts.rule ?? defaultCovariateRule(params.d);
  const seTol = opts.seTol ?? 0.1;
  const rankTol = opts.rankTol ?? 1e-14;
  const np = mlogitFreeParamCount(params);
  const F = mlogitFisherInformation(params, rule);
  const { values, vectors } = symmetricEigen(F, np);
  const lmax = Math.max(...values);
  const zero = rankTol * lmax;
  const seSqrtN: number[] = [];
  for (let j = 0; j < np; j++) {
    let v = 0;
    for (let m = 0; m < np; m++) {
      const u = vectors[j * np + m]!;
      if (values[m]! <= zero) {
        if (Math.abs(u) > 1e-8) v = Infinity;
      } else v += (u * u) / values[m]!;
    }
    seSqrtN.push(Math.sqrt(v));
  }
  const lmin = values[0]!;
  return {
    names: mlogitFreeParamNames(params),
    theta: Array.from(mlogitFreeParams(params)),
    fisher: Array.from({ length: np }, (_, a) => Array.from(F.subarray(a * np, (a + 1) * np))),
    eigenvalues: Array.from(values),
    eigenvectors: Array.from({ length: np }, (_, m) => Array.from({ length: np }, (_, j) => vectors[j * np + m]!)),
    condition: lmin > 0 ? lmax / lmin : Infinity,
    rank: values.filter((v) => v > zero).length,
    seSqrtN,
    seTol,
    nForSe: seSqrtN.map((s) => (s * s) / (seTol * seTol)),
    rule: rule.description,
  };
}

function checkRule(p: { d: number }, rule: CovariateRule): void {
  if (rule.d !== p.d) {
    throw new FlexiModalError(`the covariate rule has d = ${rule.d} but the model has d = ${p.d}`, { where: 'Fisher information', hint: 'build the rule with the model\'s d' });
  }
}

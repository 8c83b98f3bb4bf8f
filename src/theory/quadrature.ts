/**
 * Gauss–Legendre quadrature for expectations over X ~ U[lo, hi]ᵈ (the covariate law of seed 002
 * App. D). An m-node rule integrates polynomials of degree ≤ 2m − 1 exactly; for the smooth
 * (analytic) integrands of the theory lab its error falls geometrically in m.
 */
import { FlexiModalError } from '../errors.js';

/** Nodes and weights of the m-node Gauss–Legendre rule on [−1, 1] (weights sum to 2). */
export function gaussLegendre(m: number): { nodes: Float64Array; weights: Float64Array } {
  if (!(Number.isInteger(m) && m >= 1 && m <= 2000)) {
    throw new FlexiModalError(`Gauss–Legendre rule with ${m} nodes`, { where: 'gaussLegendre', hint: 'use an integer node count in 1..2000' });
  }
  const nodes = new Float64Array(m);
  const weights = new Float64Array(m);
  // Newton on P_m from the Chebyshev-like initial guesses; P_m by the three-term recurrence.
  for (let i = 0; i < Math.ceil(m / 2); i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (m + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = x;
      for (let j = 2; j <= m; j++) {
        const p2 = ((2 * j - 1) * x * p1 - (j - 1) * p0) / j;
        p0 = p1;
        p1 = p2;
      }
      const pm = m === 1 ? x : p1;
      const pm1 = m === 1 ? 1 : p0;
      dp = (m * (x * pm - pm1)) / (x * x - 1);
      const dx = pm / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    // recompute the derivative at the converged node
    let p0 = 1;
    let p1 = x;
    for (let j = 2; j <= m; j++) {
      const p2 = ((2 * j - 1) * x * p1 - (j - 1) * p0) / j;
      p0 = p1;
      p1 = p2;
    }
    dp = m === 1 ? 1 : (m * (x * p1 - p0)) / (x * x - 1);
    const w = 2 / ((1 - x * x) * dp * dp);
    nodes[i] = -x;
    nodes[m - 1 - i] = x;
    weights[i] = w;
    weights[m - 1 - i] = w;
  }
  if (m % 2 === 1) nodes[(m - 1) / 2] = 0;
  return { nodes, weights };
}

/** A weighted point set {(xⱼ, wⱼ)} approximating a covariate law: X [count, d], weights [count] summing to 1. */
export interface CovariateRule {
  d: number;
  count: number;
  X: Float64Array;
  weights: Float64Array;
  /** How the rule was built, for reports ("Gauss–Legendre, 64 nodes per axis on [0, 1]¹"). */
  description: string;
}

/**
 * Tensor-product Gauss–Legendre rule for X ~ U[lo, hi]ᵈ with m nodes per axis (mᵈ points, at most
 * 10⁶). Weights are probabilities (they sum to 1).
 */
export function uniformTensorRule(d: number, m: number, lo = 0, hi = 1): CovariateRule {
  const count = m ** d;
  if (!(d >= 1) || count > 1e6) {
    throw new FlexiModalError(`a ${m}-node tensor rule in d = ${d} needs ${count} points`, { where: 'uniformTensorRule', hint: 'use fewer nodes per axis, or a Monte-Carlo rule for large d' });
  }
  const { nodes, weights } = gaussLegendre(m);
  const X = new Float64Array(count * d);
  const W = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    let rest = j;
    let w = 1;
    for (let c = 0; c < d; c++) {
      const idx = rest % m;
      rest = Math.floor(rest / m);
      X[j * d + c] = lo + ((hi - lo) * (nodes[idx]! + 1)) / 2;
      w *= weights[idx]! / 2;
    }
    W[j] = w;
  }
  return { d, count, X, weights: W, description: `Gauss–Legendre, ${m} nodes per axis on [${lo}, ${hi}]^${d} (${count} points)` };
}

/** Monte-Carlo rule: the given draws [count, d], each with weight 1/count. */
export function monteCarloRule(X: Float64Array, d: number, description: string): CovariateRule {
  const count = X.length / d;
  return { d, count, X, weights: new Float64Array(count).fill(1 / count), description };
}

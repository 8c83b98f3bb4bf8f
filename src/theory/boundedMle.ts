/**
 * Bounded maximum likelihood for the (modified) softmax-gating multinomial logistic MoE: projected
 * Fisher scoring on the box |θⱼ| ≤ B over the free parameters of the identifiability gauge.
 *
 * Each iteration builds, in one data pass, ℓ, the score g = Σₜ ∇log P_{yₜ}(xₜ) and the scoring
 * matrix F = Σₜ Σ_s ∇P_s ∇P_sᵀ / P_s at xₜ (PSD; its expectation is n·I(θ), see fisher.ts). The
 * coordinates on the bound whose score points outwards are held fixed (active set); on the others
 * (F_free + μ·mean diag(F_free)) Δ = g_free is solved by Cholesky (Levenberg–Marquardt damping μ:
 * divided by 3 after an accepted step, multiplied by 4 until ℓ does not decrease), the step is
 * capped at `maxStep` per coordinate and projected onto the box. The fit stops when the last 10
 * iterations raised ℓ by at most 10·tol·|ℓ| in all, when no damping gives an ascent step, or
 * after maxIter iterations. It finds a local maximiser from the given start (the likelihood is
 * not concave).
 * Because the information at the seed-002 truths is nearly singular, the unbounded MLE runs far
 * away at n ≤ 10⁵; the bound keeps it in a compact set, as the theory assumes (Θ compact).
 */
import { FlexiModalError } from '../errors.js';
import { mlogitFreeParamCount, mlogitFreeParams, mlogitScoreAndInformation, mlogitWithFreeParams } from './fisher.js';
import { solveSpd } from './linalg.js';
import { canonicalizeMlogit, mlogitLogLik, type MlogitData, type MlogitMoeParams } from './mlogitMoe.js';

/** Options of {@link fitMlogitBoundedMle}. */
export interface BoundedMleOptions {
  /** Box bound B: every free parameter satisfies |θⱼ| ≤ B. */
  bound: number;
  /** At most this many scoring iterations (default 500). */
  maxIter?: number;
  /** Stop when the last 10 iterations raised ℓ by at most 10·tol·|ℓ| in all (default 1e-9). */
  tol?: number;
  /** Largest |Δθⱼ| of one step (default 5). */
  maxStep?: number;
}

/** Result of {@link fitMlogitBoundedMle}. */
export interface BoundedMleResult {
  params: MlogitMoeParams;
  logLik: number;
  iterations: number;
  converged: boolean;
  /** Free parameters that end on the bound (|θⱼ| ≥ B(1 − 1e-9)). */
  onBoundCount: number;
}

/** Fit the bounded MLE from `init` (any gauge; canonicalised, then projected onto the box). Deterministic. */
export function fitMlogitBoundedMle(data: MlogitData, init: MlogitMoeParams, opts: BoundedMleOptions): BoundedMleResult {
  const B = opts.bound;
  if (!(B > 0)) throw new FlexiModalError(`bound ${B}`, { where: '--bound', hint: 'use a positive bound, e.g. 10' });
  const maxIter = opts.maxIter ?? 500;
  const tol = opts.tol ?? 1e-9;
  const maxStep = opts.maxStep ?? 5;
  const template = canonicalizeMlogit(init);
  const np = mlogitFreeParamCount(template);
  const clip = (v: number): number => Math.min(B, Math.max(-B, v));
  let theta: Float64Array = mlogitFreeParams(template).map(clip);
  let sys = mlogitScoreAndInformation(mlogitWithFreeParams(template, theta), data);
  let converged = false;
  let it = 0;
  // Levenberg–Marquardt damping μ (relative to the mean diagonal of F): the information is nearly
  // singular, so an undamped scoring step is huge along the flat directions.
  let mu = 1e-3;
  const window = 10;
  const history: number[] = [sys.logLik];
  for (; it < maxIter; it++) {
    const onEdge = (j: number): boolean => (theta[j]! >= B * (1 - 1e-12) && sys.grad[j]! > 0) || (theta[j]! <= -B * (1 - 1e-12) && sys.grad[j]! < 0);
    const free: number[] = [];
    for (let j = 0; j < np; j++) if (!onEdge(j)) free.push(j);
    if (free.length === 0) {
      converged = true;
      break;
    }
    const nf = free.length;
    const Ff = new Float64Array(nf * nf);
    const gf = new Float64Array(nf);
    let meanDiag = 0;
    free.forEach((a, ia) => {
      gf[ia] = sys.grad[a]!;
      meanDiag += sys.info[a * np + a]! / nf;
      free.forEach((b, ib) => (Ff[ia * nf + ib] = sys.info[a * np + b]!));
    });
    let accepted: Float64Array | null = null;
    let llNew = -Infinity;
    for (let tries = 0; tries < 60 && mu < 1e12; tries++) {
      const df = solveSpd(Ff, gf, nf, mu * meanDiag);
      let mx = 0;
      for (let j = 0; j < nf; j++) mx = Math.max(mx, Math.abs(df[j]!));
      if (Number.isFinite(mx) && mx > 0) {
        const scale = mx > maxStep ? maxStep / mx : 1;
        const cand = theta.slice();
        free.forEach((j, i) => (cand[j] = clip(theta[j]! + scale * df[i]!)));
        llNew = mlogitLogLik(mlogitWithFreeParams(template, cand), data);
        if (Number.isFinite(llNew) && llNew >= sys.logLik) {
          accepted = cand;
          mu = Math.max(1e-12, mu / 3);
          break;
        }
      }
      mu *= 4;
    }
    if (!accepted) {
      converged = true; // no damping gives an ascent step: a (bounded) local maximum
      break;
    }
    theta = accepted;
    sys = mlogitScoreAndInformation(mlogitWithFreeParams(template, theta), data);
    history.push(sys.logLik);
    const h = history.length - 1;
    if (h >= window && history[h]! - history[h - window]! <= window * tol * Math.abs(sys.logLik)) {
      converged = true;
      it++;
      break;
    }
  }
  let onBoundCount = 0;
  for (let j = 0; j < np; j++) if (Math.abs(theta[j]!) >= B * (1 - 1e-9)) onBoundCount++;
  return { params: mlogitWithFreeParams(template, theta), logLik: sys.logLik, iterations: it, converged, onBoundCount };
}

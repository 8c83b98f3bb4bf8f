/**
 * Maximum likelihood for the (modified) softmax-gating multinomial logistic MoE by EM
 * (seed 002 App. D). E-step: responsibilities rₜᵢ ∝ πᵢ(xₜ) fᵢ(yₜ|xₜ). M-step: a weighted
 * multinomial logistic regression with soft labels r for the gate and, for every expert i, a
 * multinomial logistic regression of y on [1, x] weighted by r·ᵢ; each is solved by Newton (the
 * exact Hessian of the concave objective, i.e. IRLS) with a step-halving line search on its own
 * block of Q, so every EM iteration increases the log-likelihood (generalised EM).
 *
 * One data pass computes, at candidate parameters, the line-search objective under the current
 * responsibilities and the next Newton system, so each Newton step costs one pass; the E-step is
 * one more pass. Optional SQUAREM acceleration of the EM map keeps ℓ monotone.
 */
import type { Rng } from '../engine/rng.js';
import { applyGateTransform } from './gateTransform.js';
import { solveSpd } from './linalg.js';
import { canonicalizeMlogit, cloneMlogitParams, type MlogitData, type MlogitMoeParams } from './mlogitMoe.js';

/** EM options. */
export interface MlogitEmOptions {
  /** Stop when |ℓₜ − ℓₜ₋₁| / |ℓₜ₋₁| < tol (seed 002: 1e-6), or |ℓₜ − ℓₜ₋₁| < tol with `stopRule: 'absolute'`. */
  tol?: number;
  /**
   * 'relative' (default, the paper's rule): |ℓₜ − ℓₜ₋₁| ≤ tol·|ℓₜ₋₁|, a threshold that grows with n.
   * 'absolute': |ℓₜ − ℓₜ₋₁| ≤ tol, the same threshold at every n.
   */
  stopRule?: 'relative' | 'absolute';
  /** At most this many EM iterations (seed 002: 2000). */
  maxIter?: number;
  /**
   * At most this many Newton steps per M-step (each with its own line search; default 10). 1 gives
   * the EM-gradient algorithm (generalised EM, same fixed points, cheaper iterations).
   */
  newtonSteps?: number;
  /** Stop the M-step's Newton loop when the Newton decrement gᵀΔ ≤ newtonTol·n (default 1e-10). */
  newtonTol?: number;
  /** Largest allowed |Δ| of one Newton step per coordinate (a trust bound; parameters live in a compact set). */
  maxStep?: number;
  /** Record the log-likelihood after every iteration (index 0 = initial). */
  trace?: boolean;
  /**
   * 'squarem': accelerate the EM map with SQUAREM (monotone safeguard); iterations then count EM-map
   * evaluations and one trace entry is recorded per SQUAREM cycle. Default: plain EM.
   */
  accelerate?: 'none' | 'squarem';
  /** Run exactly maxIter iterations, ignoring tol (used for Fig. 3 traces). */
  fixedIterations?: boolean;
}

/** EM result. */
export interface MlogitEmResult {
  params: MlogitMoeParams;
  logLik: number;
  iterations: number;
  converged: boolean;
  /** ℓ after each iteration, trace[0] = ℓ(init); present when `trace` was asked for. */
  trace?: number[];
}

/** Flat working representation: gate rows [β₀, β₁] (pg = d+1), expert rows [a, b] (pe = d+1). */
interface Work {
  k: number;
  K: number;
  d: number;
  n: number;
  pg: number;
  pe: number;
  /** [n, pg] gate features [1, M(x)] */
  phiG: Float64Array;
  /** [n, pe] expert features [1, x] */
  phiE: Float64Array;
  Y: Int32Array;
}

/** Output of one pass over the data at parameters (Bg, Be). */
interface PassOut {
  ll: number;
  /** Q blocks (gate, then each expert) under the *previous* responsibilities. */
  qOld: Float64Array;
  /** Q blocks under the responsibilities computed in this pass. */
  qNew: Float64Array;
  /** Newton systems per block: gradient and the negated Hessian (PSD). */
  grad: Float64Array[];
  negHess: Float64Array[];
}

function blockSizes(w: Work): number[] {
  return [(w.k - 1) * w.pg, ...Array.from({ length: w.k }, () => (w.K - 1) * w.pe)];
}

/**
 * One pass. Bg [k, pg] gate coefficients (row k−1 = 0), Be [k, K, pe] expert coefficients (class
 * K−1 = 0). rOld [n, k] previous responsibilities (or null); rNew receives this pass's.
 * Gradients use rOld when `gradWithOld` (inner Newton steps) and rNew otherwise.
 */
function pass(w: Work, Bg: Float64Array, Be: Float64Array, rOld: Float64Array | null, rNew: Float64Array, gradWithOld: boolean): PassOut {
  const { k, K, n, pg, pe, phiG, phiE, Y } = w;
  const sizes = blockSizes(w);
  const grad = sizes.map((s) => new Float64Array(s));
  const negHess = sizes.map((s) => new Float64Array(s * s));
  const qOld = new Float64Array(k + 1);
  const qNew = new Float64Array(k + 1);
  const eta = new Float64Array(k);
  const logPi = new Float64Array(k);
  const pi = new Float64Array(k);
  const logF = new Float64Array(k);
  const prob = new Float64Array(k * K);
  const z = new Float64Array(K);
  const lj = new Float64Array(k);
  const gG = grad[0]!;
  const hG = negHess[0]!;
  const nG = (k - 1) * pg;
  const nE = (K - 1) * pe;
  let ll = 0;
  for (let t = 0; t < n; t++) {
    const fo = t * pg;
    const eo = t * pe;
    // gate
    let m = -Infinity;
    for (let i = 0; i < k; i++) {
      let v = 0;
      for (let c = 0; c < pg; c++) v += Bg[i * pg + c]! * phiG[fo + c]!;
      eta[i] = v;
      if (v > m) m = v;
    }
    let s = 0;
    for (let i = 0; i < k; i++) s += Math.exp(eta[i]! - m);
    const lz = m + Math.log(s);
    for (let i = 0; i < k; i++) {
      logPi[i] = eta[i]! - lz;
      pi[i] = Math.exp(logPi[i]!);
    }
    // experts
    const y = Y[t]!;
    for (let i = 0; i < k; i++) {
      let mz = -Infinity;
      for (let sc = 0; sc < K; sc++) {
        let v = 0;
        const bo = (i * K + sc) * pe;
        for (let c = 0; c < pe; c++) v += Be[bo + c]! * phiE[eo + c]!;
        z[sc] = v;
        if (v > mz) mz = v;
      }
      let se = 0;
      for (let sc = 0; sc < K; sc++) {
        const e = Math.exp(z[sc]! - mz);
        prob[i * K + sc] = e;
        se += e;
      }
      const inv = 1 / se;
      for (let sc = 0; sc < K; sc++) prob[i * K + sc] = prob[i * K + sc]! * inv;
      logF[i] = z[y]! - mz - Math.log(se);
      lj[i] = logPi[i]! + logF[i]!;
    }
    // E-step
    let ml = -Infinity;
    for (let i = 0; i < k; i++) if (lj[i]! > ml) ml = lj[i]!;
    let sl = 0;
    for (let i = 0; i < k; i++) sl += Math.exp(lj[i]! - ml);
    const llt = ml + Math.log(sl);
    ll += llt;
    const ro = t * k;
    for (let i = 0; i < k; i++) {
      const r = Math.exp(lj[i]! - llt);
      rNew[ro + i] = r;
      qNew[0] = qNew[0]! + r * logPi[i]!;
      qNew[i + 1] = qNew[i + 1]! + r * logF[i]!;
      if (rOld) {
        const r0 = rOld[ro + i]!;
        qOld[0] = qOld[0]! + r0 * logPi[i]!;
        qOld[i + 1] = qOld[i + 1]! + r0 * logF[i]!;
      }
    }
    const R = gradWithOld && rOld ? rOld : rNew;
    // gate Newton system (free rows 0..k−2)
    for (let i = 0; i < k - 1; i++) {
      const gi = R[ro + i]! - pi[i]!;
      for (let c = 0; c < pg; c++) gG[i * pg + c] = gG[i * pg + c]! + gi * phiG[fo + c]!;
      for (let j = 0; j <= i; j++) {
        const wij = pi[i]! * ((i === j ? 1 : 0) - pi[j]!);
        for (let c = 0; c < pg; c++) {
          const row = (i * pg + c) * nG;
          const fc = wij * phiG[fo + c]!;
          for (let c2 = 0; c2 < pg; c2++) hG[row + j * pg + c2] = hG[row + j * pg + c2]! + fc * phiG[fo + c2]!;
        }
      }
    }
    // expert Newton systems (free classes 0..K−2)
    for (let i = 0; i < k; i++) {
      const ri = R[ro + i]!;
      if (ri === 0) continue;
      const gE = grad[i + 1]!;
      const hE = negHess[i + 1]!;
      for (let sc = 0; sc < K - 1; sc++) {
        const ps = prob[i * K + sc]!;
        const gs = ri * ((y === sc ? 1 : 0) - ps);
        for (let c = 0; c < pe; c++) gE[sc * pe + c] = gE[sc * pe + c]! + gs * phiE[eo + c]!;
        for (let s2 = 0; s2 <= sc; s2++) {
          const wss = ri * ps * ((sc === s2 ? 1 : 0) - prob[i * K + s2]!);
          for (let c = 0; c < pe; c++) {
            const row = (sc * pe + c) * nE;
            const fc = wss * phiE[eo + c]!;
            for (let c2 = 0; c2 < pe; c2++) hE[row + s2 * pe + c2] = hE[row + s2 * pe + c2]! + fc * phiE[eo + c2]!;
          }
        }
      }
    }
  }
  // the block-lower triangles were filled with j ≤ i blocks including full pg×pg sub-blocks; mirror
  for (let b = 0; b < negHess.length; b++) {
    const H = negHess[b]!;
    const sz = sizes[b]!;
    const blk = b === 0 ? pg : pe;
    for (let r = 0; r < sz; r++) {
      for (let c = 0; c < sz; c++) {
        if (Math.floor(c / blk) > Math.floor(r / blk)) H[r * sz + c] = H[c * sz + r]!;
      }
    }
  }
  return { ll, qOld, qNew, grad, negHess };
}

function packParams(p: MlogitMoeParams): { Bg: Float64Array; Be: Float64Array } {
  const { k, K, d } = p;
  const pg = d + 1;
  const Bg = new Float64Array(k * pg);
  const Be = new Float64Array(k * K * pg);
  for (let i = 0; i < k; i++) {
    Bg[i * pg] = p.beta0[i]!;
    for (let c = 0; c < d; c++) Bg[i * pg + 1 + c] = p.beta1[i * d + c]!;
    for (let s = 0; s < K; s++) {
      Be[(i * K + s) * pg] = p.a[i * K + s]!;
      for (let c = 0; c < d; c++) Be[(i * K + s) * pg + 1 + c] = p.b[(i * K + s) * d + c]!;
    }
  }
  return { Bg, Be };
}

function unpackParams(template: MlogitMoeParams, Bg: Float64Array, Be: Float64Array): MlogitMoeParams {
  const p = cloneMlogitParams(template);
  const { k, K, d } = p;
  const pg = d + 1;
  for (let i = 0; i < k; i++) {
    p.beta0[i] = Bg[i * pg]!;
    for (let c = 0; c < d; c++) p.beta1[i * d + c] = Bg[i * pg + 1 + c]!;
    for (let s = 0; s < K; s++) {
      p.a[i * K + s] = Be[(i * K + s) * pg]!;
      for (let c = 0; c < d; c++) p.b[(i * K + s) * d + c] = Be[(i * K + s) * pg + 1 + c]!;
    }
  }
  return p;
}

/** Build the feature matrices [1, M(x)] and [1, x] for a data set. */
function makeWork(p: MlogitMoeParams, data: MlogitData): Work {
  const { k, K, d } = p;
  const n = data.n;
  const pg = d + 1;
  const phiG = new Float64Array(n * pg);
  const phiE = new Float64Array(n * pg);
  const mx = new Float64Array(d);
  for (let t = 0; t < n; t++) {
    applyGateTransform(p.gate, data.X, t * d, d, mx, 0);
    phiG[t * pg] = 1;
    phiE[t * pg] = 1;
    for (let c = 0; c < d; c++) {
      phiG[t * pg + 1 + c] = mx[c]!;
      phiE[t * pg + 1 + c] = data.X[t * d + c]!;
    }
  }
  return { k, K, d, n, pg, pe: pg, phiG, phiE, Y: data.Y };
}

/** Apply step α_b·Δ_b to block b of (Bg, Be) into new arrays. */
function applySteps(w: Work, Bg: Float64Array, Be: Float64Array, dirs: Float64Array[], alpha: number[]): { Bg: Float64Array; Be: Float64Array } {
  const nb = Bg.slice();
  const ne = Be.slice();
  const { k, K, pg, pe } = w;
  const dG = dirs[0]!;
  for (let i = 0; i < k - 1; i++) for (let c = 0; c < pg; c++) nb[i * pg + c] = nb[i * pg + c]! + alpha[0]! * dG[i * pg + c]!;
  for (let i = 0; i < k; i++) {
    const dE = dirs[i + 1]!;
    const al = alpha[i + 1]!;
    if (al === 0) continue;
    for (let s = 0; s < K - 1; s++) for (let c = 0; c < pe; c++) ne[(i * K + s) * pe + c] = ne[(i * K + s) * pe + c]! + al * dE[s * pe + c]!;
  }
  return { Bg: nb, Be: ne };
}

function newtonDirections(out: PassOut, maxStep: number, totalWeight: number): Float64Array[] {
  return out.grad.map((g, b) => {
    const n = g.length;
    const dir = solveSpd(out.negHess[b]!, g, n, 1e-10 * totalWeight);
    let mx = 0;
    for (let j = 0; j < n; j++) {
      if (!Number.isFinite(dir[j]!)) return new Float64Array(n);
      mx = Math.max(mx, Math.abs(dir[j]!));
    }
    if (mx > maxStep) for (let j = 0; j < n; j++) dir[j] = (dir[j]! * maxStep) / mx;
    return dir;
  });
}

/**
 * Fit by EM from `init` (any gauge; it is canonicalised first). Deterministic.
 * Returns the fitted parameters in the identifiability gauge.
 */
export function fitMlogitEm(data: MlogitData, init: MlogitMoeParams, opts: MlogitEmOptions = {}): MlogitEmResult {
  const tol = opts.tol ?? 1e-6;
  const maxIter = opts.maxIter ?? 2000;
  const newtonSteps = Math.max(1, opts.newtonSteps ?? 10);
  const newtonTol = opts.newtonTol ?? 1e-10;
  const maxStep = opts.maxStep ?? 5;
  const start = canonicalizeMlogit(init);
  const w = makeWork(start, data);
  const rA = new Float64Array(w.n * w.k);
  const rB = new Float64Array(w.n * w.k);
  const nBlocks = w.k + 1;

  /** The EM map θ ↦ F(θ): E-step at θ, then the Newton M-step. Returns F(θ) and ℓ(θ). */
  const emMap = (Bg: Float64Array, Be: Float64Array): { Bg: Float64Array; Be: Float64Array; llIn: number } => {
    const e = pass(w, Bg, Be, null, rA, false);
    let baseline = e.qNew;
    let sys = e;
    for (let step = 0; step < newtonSteps; step++) {
      const dirs = newtonDirections(sys, maxStep, w.n);
      let dec = 0;
      dirs.forEach((dv, b) => {
        for (let j = 0; j < dv.length; j++) dec += dv[j]! * sys.grad[b]![j]!;
      });
      if (!(dec > newtonTol * w.n)) break;
      const alpha = new Array<number>(nBlocks).fill(1);
      let accepted: { Bg: Float64Array; Be: Float64Array; out: PassOut } | null = null;
      for (let ls = 0; ls < 40; ls++) {
        const cand = applySteps(w, Bg, Be, dirs, alpha);
        const out = pass(w, cand.Bg, cand.Be, rA, rB, true);
        let ok = true;
        for (let b = 0; b < nBlocks; b++) {
          if (alpha[b] === 0) continue;
          const slack = 1e-12 * Math.abs(baseline[b]!);
          if (!(out.qOld[b]! >= baseline[b]! - slack)) {
            ok = false;
            alpha[b] = alpha[b]! < 1e-8 ? 0 : alpha[b]! / 2;
          }
        }
        if (ok) {
          accepted = { ...cand, out };
          break;
        }
      }
      if (!accepted) break;
      Bg = accepted.Bg;
      Be = accepted.Be;
      sys = accepted.out;
      baseline = sys.qOld;
    }
    return { Bg, Be, llIn: e.ll };
  };
  const logLik = (Bg: Float64Array, Be: Float64Array): number => pass(w, Bg, Be, null, rB, false).ll;

  let { Bg, Be } = packParams(start);
  let ll = logLik(Bg, Be);
  const trace: number[] | undefined = opts.trace ? [ll] : undefined;
  let converged = false;
  let evals = 0;
  const absolute = opts.stopRule === 'absolute';
  const done = (llPrev: number, llNew: number): boolean =>
    !opts.fixedIterations && Math.abs(llNew - llPrev) <= tol * (absolute ? 1 : Math.abs(llPrev));
  if (opts.accelerate !== 'squarem') {
    let next = emMap(Bg, Be);
    for (evals = 1; evals <= maxIter; evals++) {
      Bg = next.Bg;
      Be = next.Be;
      const llPrev = ll;
      if (evals < maxIter || opts.trace) {
        next = emMap(Bg, Be); // also yields ℓ at the new parameters
        ll = next.llIn;
      } else ll = logLik(Bg, Be);
      trace?.push(ll);
      if (done(llPrev, ll)) {
        converged = true;
        break;
      }
    }
    evals = Math.min(evals, maxIter);
  } else {
    // SQUAREM (Varadhan & Roland 2008, scheme S3) with a monotone safeguard: the extrapolated
    // point is accepted only if ℓ does not fall below ℓ(F(θ₀)); otherwise α moves towards −1,
    // where the extrapolation equals F(F(θ₀)).
    const vec = (g: Float64Array, e: Float64Array): Float64Array => {
      const v = new Float64Array(g.length + e.length);
      v.set(g, 0);
      v.set(e, g.length);
      return v;
    };
    while (evals < maxIter) {
      const llPrev = ll;
      const f1 = emMap(Bg, Be);
      const f2 = emMap(f1.Bg, f1.Be);
      evals += 2;
      const ll1 = f2.llIn;
      const t0 = vec(Bg, Be);
      const t1 = vec(f1.Bg, f1.Be);
      const t2 = vec(f2.Bg, f2.Be);
      let rr = 0;
      let vv = 0;
      for (let j = 0; j < t0.length; j++) {
        const r = t1[j]! - t0[j]!;
        const v = t2[j]! - 2 * t1[j]! + t0[j]!;
        rr += r * r;
        vv += v * v;
      }
      let alpha = vv > 0 ? -Math.sqrt(rr / vv) : -1;
      alpha = Math.min(-1, alpha);
      let accepted = false;
      for (let bt = 0; bt < 30 && !accepted; bt++) {
        if (alpha > -1 - 1e-9) alpha = -1;
        const cand = new Float64Array(t0.length);
        for (let j = 0; j < t0.length; j++) {
          const r = t1[j]! - t0[j]!;
          const v = t2[j]! - 2 * t1[j]! + t0[j]!;
          cand[j] = t0[j]! - 2 * alpha * r + alpha * alpha * v;
        }
        const cg = cand.subarray(0, Bg.length).slice();
        const ce = cand.subarray(Bg.length).slice();
        const llc = logLik(cg, ce);
        if (Number.isFinite(llc) && (llc >= ll1 || alpha === -1)) {
          Bg = cg;
          Be = ce;
          ll = llc;
          accepted = true;
        } else alpha = (alpha - 1) / 2;
      }
      trace?.push(ll);
      if (done(llPrev, ll)) {
        converged = true;
        break;
      }
    }
  }
  const params = unpackParams(start, Bg, Be);
  return { params, logLik: ll, iterations: evals, converged, trace };
}

/**
 * Initialisation of seed 002 App. D: the k fitted atoms are split at random into k* non-empty
 * groups S_j (one per true atom); each atom of S_j starts at the true atom j plus N(0, sd²) noise on
 * every free parameter, with β₀ = β₀ⱼ* − log|S_j| + noise so that the cell's gate mass matches the
 * truth. The result is canonicalised (last atom pinned to β = 0).
 */
/** Options of {@link initFromTruth} (defaults: our original protocol). */
export interface InitFromTruthOptions {
  /**
   * 'split' (default): an atom of Sⱼ starts at β₀ⱼ* − log|Sⱼ| so that the cell's gate mass starts at
   * the truth. 'truth': every atom of Sⱼ starts at β₀ⱼ* (+ noise), the literal App. D wording
   * ("a Gaussian … with a mean centered around its true counterpart"); a split cell then starts with
   * |Sⱼ| times its true mass and EM has to move the gate.
   */
  beta0?: 'split' | 'truth';
  /**
   * 'random' (default): the k atoms are shuffled into k* non-empty groups, then the whole fit is
   * translated so that atom k−1 is pinned. 'pin-last': fitted atom k−1 (the one the identifiability
   * constraint β₀ₖ = β₁ₖ = 0 pins) always belongs to the group of the pinned true atom k*, so no
   * translation is needed (the other atoms are assigned at random, every group non-empty).
   */
  groups?: 'random' | 'pin-last';
}

export function initFromTruth(truth: MlogitMoeParams, k: number, rng: Rng, sd = 0.1, opts: InitFromTruthOptions = {}): MlogitMoeParams {
  const ks = truth.k;
  const { K, d } = truth;
  const assign = new Array<number>(k);
  if ((opts.groups ?? 'random') === 'pin-last') {
    // atom k−1 → true atom ks−1; atoms 0..k−2 cover the true atoms 0..ks−2 (shuffled), the rest at random
    assign[k - 1] = ks - 1;
    const order = rng.shuffle(Array.from({ length: k - 1 }, (_, i) => i));
    for (let j = 0; j < k - 1; j++) assign[order[j]!] = j < ks - 1 ? j : rng.int(ks);
  } else {
    const order = rng.shuffle(Array.from({ length: k }, (_, i) => i));
    for (let j = 0; j < k; j++) assign[order[j]!] = j < ks ? j : rng.int(ks);
  }
  const counts = new Array<number>(ks).fill(0);
  for (const j of assign) counts[j] = counts[j]! + 1;
  const massSplit = (opts.beta0 ?? 'split') === 'split';
  const p = cloneMlogitParams({ ...truth, k, beta0: new Float64Array(k), beta1: new Float64Array(k * d), a: new Float64Array(k * K), b: new Float64Array(k * K * d) });
  for (let i = 0; i < k; i++) {
    const j = assign[i]!;
    p.beta0[i] = truth.beta0[j]! - (massSplit ? Math.log(counts[j]!) : 0) + sd * rng.normal();
    for (let c = 0; c < d; c++) p.beta1[i * d + c] = truth.beta1[j * d + c]! + sd * rng.normal();
    for (let s = 0; s < K - 1; s++) {
      p.a[i * K + s] = truth.a[j * K + s]! + sd * rng.normal();
      for (let c = 0; c < d; c++) p.b[(i * K + s) * d + c] = truth.b[(j * K + s) * d + c]! + sd * rng.normal();
    }
  }
  return canonicalizeMlogit(p);
}

/** Random initialisation: every free parameter ~ N(0, scale²). */
export function initRandom(template: { K: number; d: number; gate: MlogitMoeParams['gate'] }, k: number, rng: Rng, scale = 1): MlogitMoeParams {
  const { K, d, gate } = template;
  const p: MlogitMoeParams = { k, K, d, gate, beta0: new Float64Array(k), beta1: new Float64Array(k * d), a: new Float64Array(k * K), b: new Float64Array(k * K * d) };
  for (let i = 0; i < k - 1; i++) {
    p.beta0[i] = scale * rng.normal();
    for (let c = 0; c < d; c++) p.beta1[i * d + c] = scale * rng.normal();
  }
  for (let i = 0; i < k; i++) {
    for (let s = 0; s < K - 1; s++) {
      p.a[i * K + s] = scale * rng.normal();
      for (let c = 0; c < d; c++) p.b[(i * K + s) * d + c] = scale * rng.normal();
    }
  }
  return p;
}

/** Exposed for tests: the M-step Newton system (gradient and negated Hessian per block) at params. */
export function mStepSystem(data: MlogitData, params: MlogitMoeParams, resp: Float64Array): { grad: Float64Array[]; negHess: Float64Array[]; q: Float64Array } {
  const w = makeWork(params, data);
  const { Bg, Be } = packParams(params);
  const rNew = new Float64Array(w.n * w.k);
  const out = pass(w, Bg, Be, resp, rNew, true);
  return { grad: out.grad, negHess: out.negHess, q: out.qOld };
}

/** Exposed for tests: the E-step responsibilities [n, k] at params. */
export function responsibilities(data: MlogitData, params: MlogitMoeParams): Float64Array {
  const w = makeWork(params, data);
  const { Bg, Be } = packParams(params);
  const r = new Float64Array(w.n * w.k);
  pass(w, Bg, Be, null, r, false);
  return r;
}

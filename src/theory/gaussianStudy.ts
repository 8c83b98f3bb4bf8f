/**
 * Rate study for the Gaussian MoE with softmax vs Laplace gating (FuseMoE §4, Table 2): the same
 * machinery as the seed-002 study, with a fixed k* = 2 truth on X ~ U[−1, 1] (d = 1).
 */
import { Rng } from '../engine/rng.js';
import { fitGaussianEm, gaussianParamsFromAtoms, gaussianVoronoiLosses, canonicalizeGaussian, sampleGaussianMoe, type GaussianGate, type GaussianMoeParams } from './gaussianMoe.js';
import { unitSeed } from './seeds.js';
import type { UnitResult } from './rateUnit.js';

/** Configuration of a Gaussian-MoE rate study. */
export interface GaussianStudyConfig {
  kind: 'gaussian-moe';
  gate: GaussianGate;
  k: number;
  seed: number;
  init: 'truth' | 'random';
  initSd: number;
  /** The perturbation sd at size n is initSd · n^initSdExponent (default 0). */
  initSdExponent?: number;
  tol: number;
  maxIter: number;
  /** Which loss is the study's headline `loss`: the gating-only loss or FuseMoE's D₂. */
  loss: 'gate' | 'd2';
}

/**
 * The default truth (k* = 2, d = 1): atom 1 β = 0.5, W = 1.5, expert y = 2x + 1 (ν = 0.25);
 * atom 2 β = 0, W = 0, expert y = −x − 0.5 (ν = 0.16). The same numbers serve both gates.
 */
export function gaussianTruth(gate: GaussianGate): GaussianMoeParams {
  return gaussianParamsFromAtoms(
    [
      { beta: 0.5, W: [1.5], a: [2], b: 1, nu: 0.25 },
      { beta: 0, W: [0], a: [-1], b: -0.5, nu: 0.16 },
    ],
    gate,
  );
}

/** App. D-style initialisation: random non-empty split of the k atoms over the true atoms, Gaussian noise. */
export function gaussianInitFromTruth(truth: GaussianMoeParams, k: number, rng: Rng, sd: number): GaussianMoeParams {
  const ks = truth.k;
  const d = truth.d;
  const order = rng.shuffle(Array.from({ length: k }, (_, i) => i));
  const assign = new Array<number>(k);
  for (let j = 0; j < k; j++) assign[order[j]!] = j < ks ? j : rng.int(ks);
  const counts = new Array<number>(ks).fill(0);
  for (const j of assign) counts[j] = counts[j]! + 1;
  const p: GaussianMoeParams = { ...truth, k, beta: new Float64Array(k), W: new Float64Array(k * d), a: new Float64Array(k * d), b: new Float64Array(k), nu: new Float64Array(k) };
  for (let i = 0; i < k; i++) {
    const j = assign[i]!;
    p.beta[i] = truth.beta[j]! - Math.log(counts[j]!) + sd * rng.normal();
    for (let c = 0; c < d; c++) {
      p.W[i * d + c] = truth.W[j * d + c]! + sd * rng.normal();
      p.a[i * d + c] = truth.a[j * d + c]! + sd * rng.normal();
    }
    p.b[i] = truth.b[j]! + sd * rng.normal();
    p.nu[i] = Math.max(0.01, truth.nu[j]! * Math.exp(sd * rng.normal()));
  }
  return canonicalizeGaussian(p);
}

/** Run one (n, rep) unit of a Gaussian-MoE study. */
export function runGaussianUnit(cfg: GaussianStudyConfig, n: number, rep: number): UnitResult {
  const t0 = performance.now();
  const truth = gaussianTruth(cfg.gate);
  const rng = new Rng(unitSeed(cfg.seed, n, rep, 2));
  const data = sampleGaussianMoe(truth, n, rng);
  let init: GaussianMoeParams;
  if (cfg.init === 'truth') init = gaussianInitFromTruth(truth, cfg.k, rng, cfg.initSd * n ** (cfg.initSdExponent ?? 0));
  else {
    init = gaussianInitFromTruth(truth, cfg.k, rng, 1);
  }
  const res = fitGaussianEm(data, init, { tol: cfg.tol, maxIter: cfg.maxIter });
  const losses = gaussianVoronoiLosses(res.params, truth);
  return {
    n,
    rep,
    loss: cfg.loss === 'gate' ? losses.gate : losses.d2,
    extra: { gate: losses.gate, d2: losses.d2 },
    iterations: res.iterations,
    converged: res.converged,
    logLik: res.logLik,
    ms: performance.now() - t0,
  };
}

/**
 * One unit of a rate study: sample a data set of size n from the true model, fit by EM from the
 * App. D (or random) initialisation and return the Voronoi loss. Pure function of (config, n, rep),
 * so results do not depend on how units are spread over workers.
 */
import { Rng } from '../engine/rng.js';
import { parseGateTransform } from './gateTransform.js';
import { fitMlogitEm, initFromTruth, initRandom } from './mlogitEm.js';
import { fitMlogitBoundedMle } from './boundedMle.js';
import { mlogitExpectedTv } from './fisher.js';
import { sampleMlogitMoe } from './mlogitMoe.js';
import { regimeTruth } from './regimes.js';
import { unitSeed } from './seeds.js';
import { voronoiLossDetailed } from './voronoi.js';
import { mlogitAtoms, type MlogitAtom } from './mlogitMoe.js';
import { runGaussianUnit, type GaussianStudyConfig } from './gaussianStudy.js';

/** Configuration of a multinomial-logistic MoE rate study (seed 002 App. D). */
export interface MlogitStudyConfig {
  kind: 'mlogit-moe';
  regime: 1 | 2;
  /** Fitted number of experts k (> k* = 2). */
  k: number;
  /** Gate name (parseGateTransform); the data are generated with the same gate (eq. 43/44). */
  gate: string;
  seed: number;
  init: 'truth' | 'random';
  /** Standard deviation of the Gaussian perturbation of the truth (init = truth). */
  initSd: number;
  /**
   * The perturbation sd at size n is initSd · n^initSdExponent (default 0). The authors' released
   * code for the sibling Gaussian-MoE paper (CRPE-SGaME) uses 0.005 · n^−0.083.
   */
  initSdExponent?: number;
  /** β₀ of the initial atoms (initFromTruth; absent = 'split'). */
  initBeta0?: 'split' | 'truth';
  /** Grouping of the initial atoms (initFromTruth; absent = 'random'). */
  initGroups?: 'random' | 'pin-last';
  /** Gauge of the Voronoi loss (absent = 'reference-cell'). */
  gauge?: 'reference-cell' | 'none';
  tol: number;
  maxIter: number;
  newtonSteps: number;
  /** EM acceleration ('none' = plain EM as in the paper). */
  accelerate: 'none' | 'squarem';
  /** Order r of the Voronoi loss D_r. */
  r: number;
  /**
   * EM stopping protocol (absent = 'relative', the paper's |Δℓ| ≤ tol·|ℓ|): 'absolute' stops on
   * |Δℓ| ≤ tol; 'budget' runs exactly maxIter EM iterations with no stopping rule.
   */
  stop?: 'absolute' | 'budget';
  /**
   * Bounded MLE instead of EM (absent = EM): projected Fisher scoring on |θⱼ| ≤ bound
   * (boundedMle.ts), from the same initialisation, at most maxIter iterations.
   */
  bound?: number;
  /** Relative ℓ-gain stopping tolerance of the bounded MLE (absent = 1e-9). */
  mleTol?: number;
}

/** Any study configuration. */
export type StudyConfig = MlogitStudyConfig | GaussianStudyConfig;

/** What one unit returns. */
export interface UnitResult {
  n: number;
  rep: number;
  loss: number;
  /** Extra losses (parts of D_r; gating-only loss of the Gaussian study). */
  extra?: Record<string, number>;
  /** The fitted atoms (multinomial-logistic study), so other losses can be computed afterwards. */
  fit?: MlogitAtom[];
  iterations: number;
  converged: boolean;
  logLik: number;
  ms: number;
  /** E_X total-variation distance between the fitted and the true conditional law (multinomial-logistic study). */
  tv?: number;
  /** Bounded MLE: whether the fit ends with some parameter on the bound. */
  onBound?: boolean;
}

/** Run one (n, rep) unit of a multinomial-logistic study. */
export function runMlogitUnit(cfg: MlogitStudyConfig, n: number, rep: number): UnitResult {
  const t0 = performance.now();
  const gate = parseGateTransform(cfg.gate);
  const truth = regimeTruth(cfg.regime, gate);
  const rng = new Rng(unitSeed(cfg.seed, n, rep));
  const data = sampleMlogitMoe(truth, n, rng);
  const init = cfg.init === 'truth' ? initFromTruth(truth, cfg.k, rng, cfg.initSd * n ** (cfg.initSdExponent ?? 0), { beta0: cfg.initBeta0 ?? 'split', groups: cfg.initGroups ?? 'random' }) : initRandom(truth, cfg.k, rng, 1);
  const res =
    cfg.bound !== undefined
      ? fitMlogitBoundedMle(data, init, { bound: cfg.bound, maxIter: cfg.maxIter, tol: cfg.mleTol ?? 1e-9 })
      : fitMlogitEm(data, init, {
          tol: cfg.tol,
          maxIter: cfg.maxIter,
          newtonSteps: cfg.newtonSteps,
          accelerate: cfg.accelerate,
          stopRule: cfg.stop === 'absolute' ? 'absolute' : 'relative',
          fixedIterations: cfg.stop === 'budget',
        });
  const v = voronoiLossDetailed(res.params, truth, cfg.r, { gauge: cfg.gauge ?? 'reference-cell' });
  const loss = v.loss;
  return {
    n,
    rep,
    loss,
    extra: { ...v.parts },
    fit: mlogitAtoms(res.params),
    iterations: res.iterations,
    converged: res.converged,
    logLik: res.logLik,
    ms: performance.now() - t0,
    tv: mlogitExpectedTv(res.params, truth),
    ...('onBoundCount' in res ? { onBound: res.onBoundCount > 0 } : {}),
  };
}

/** Run one unit of any study. */
export function runUnit(cfg: StudyConfig, n: number, rep: number): UnitResult {
  return cfg.kind === 'mlogit-moe' ? runMlogitUnit(cfg, n, rep) : runGaussianUnit(cfg, n, rep);
}

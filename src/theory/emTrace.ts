/**
 * EM traces of seed 002 Fig. 3 (App. D.2.2): for each gate, take n points from the Regime-2 truth
 * (by default one sample from the standard-gate truth shared by all gates), initialise k = 3 atoms
 * as in App. D around the truth's parameters and run a fixed number of EM iterations, recording the
 * per-sample negative log-likelihood after each.
 */
import { Rng } from '../engine/rng.js';
import { gateTransformName, parseGateTransform } from './gateTransform.js';
import { fitMlogitEm, initFromTruth } from './mlogitEm.js';
import { sampleMlogitMoe } from './mlogitMoe.js';
import { regimeTruth } from './regimes.js';
import { unitSeed } from './seeds.js';

/** Options of {@link emTraces}. */
export interface EmTraceConfig {
  gates: string[];
  regime: 1 | 2;
  k: number;
  n: number;
  iterations: number;
  seed: number;
  initSd: number;
  newtonSteps: number;
  /**
   * 'standard' (default): every gate is fitted to the same sample, drawn from the standard-gate
   * truth, so the NLL curves are comparable (Fig. 3 shows them on one scale); 'own': each gate is
   * fitted to data drawn from its own truth (eq. 44).
   */
  dataGate?: 'standard' | 'own';
}

/** One gate's trace: NLL/n after iterations 1..iterations (index 0 = after iteration 1). */
export interface EmTrace {
  gate: string;
  nll: number[];
  initialNll: number;
  seconds: number;
}

/** Run the traces (same data seed and initialisation draw for every gate). */
export function emTraces(cfg: EmTraceConfig, onGate?: (t: EmTrace) => void): EmTrace[] {
  return cfg.gates.map((g) => {
    const t0 = performance.now();
    const gate = parseGateTransform(g);
    const truth = regimeTruth(cfg.regime, gate);
    const rng = new Rng(unitSeed(cfg.seed, cfg.n, 0, 3));
    const dataTruth = (cfg.dataGate ?? 'standard') === 'standard' ? regimeTruth(cfg.regime, parseGateTransform('standard')) : truth;
    const data = sampleMlogitMoe(dataTruth, cfg.n, rng);
    const init = initFromTruth(truth, cfg.k, rng, cfg.initSd);
    const res = fitMlogitEm(data, init, { maxIter: cfg.iterations, fixedIterations: true, trace: true, newtonSteps: cfg.newtonSteps });
    const tr = res.trace!.map((ll) => -ll / cfg.n);
    const out = { gate: gateTransformName(gate), nll: tr.slice(1), initialNll: tr[0]!, seconds: (performance.now() - t0) / 1000 };
    onGate?.(out);
    return out;
  });
}

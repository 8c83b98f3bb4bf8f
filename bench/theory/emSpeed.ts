/** Quick EM speed probe: one Regime-1/2 fit at a given n (prints iterations, time, ℓ). */
import { Rng } from '../../src/engine/rng.js';
import { parseGateTransform } from '../../src/theory/gateTransform.js';
import { fitMlogitEm, initFromTruth } from '../../src/theory/mlogitEm.js';
import { sampleMlogitMoe } from '../../src/theory/mlogitMoe.js';
import { regimeTruth } from '../../src/theory/regimes.js';

const n = Number(process.argv[2] ?? 1e5);
const regime = Number(process.argv[3] ?? 1) as 1 | 2;
const gate = parseGateTransform(process.argv[4] ?? 'standard');
const steps = Number(process.argv[5] ?? 1);
for (let rep = 0; rep < 3; rep++) {
  const rng = new Rng(1000 + rep);
  const truth = regimeTruth(regime, gate);
  const data = sampleMlogitMoe(truth, n, rng);
  const init = initFromTruth(truth, 3, rng, 0.1);
  const t0 = performance.now();
  const res = fitMlogitEm(data, init, { newtonSteps: steps });
  const ms = performance.now() - t0;
  console.log(`n=${n} rep=${rep} iters=${res.iterations} conv=${res.converged} ll=${res.logLik.toFixed(3)} ms=${ms.toFixed(0)} per-iter=${(ms / res.iterations).toFixed(2)}`);
}

/**
 * SQUAREM acceleration of the multinomial logistic MoE's EM (src/theory/mlogitEm.ts; Varadhan &
 * Roland 2008, scheme S3, with a monotone safeguard), replayed here on top of the plain EM map
 * F(θ) = fitMlogitEm(θ, one iteration):
 *   r = F(θ₀) − θ₀, v = F(F(θ₀)) − 2F(θ₀) + θ₀, α = min(−1, −‖r‖/‖v‖),
 *   θ' = θ₀ − 2αr + α²v, accepted when ℓ(θ') ≥ ℓ(F(θ₀)); otherwise α ← (α − 1)/2 (towards −1,
 *   where θ' = F(F(θ₀)) is accepted whatever its ℓ).
 * Also the iteration count (two EM maps per SQUAREM step) and the stopping rule under SQUAREM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { parseGateTransform } from '../../src/theory/gateTransform.js';
import { fitMlogitEm, initRandom } from '../../src/theory/mlogitEm.js';
import { canonicalizeMlogit, cloneMlogitParams, mlogitLogLik, sampleMlogitMoe, type MlogitData, type MlogitMoeParams } from '../../src/theory/mlogitMoe.js';

const KEYS = ['beta0', 'beta1', 'a', 'b'] as const;
const flat = (p: MlogitMoeParams): number[] => KEYS.flatMap((key) => Array.from(p[key]));
function fromFlat(template: MlogitMoeParams, values: number[]): MlogitMoeParams {
  const p = cloneMlogitParams(template);
  let o = 0;
  for (const key of KEYS) for (let j = 0; j < p[key].length; j++) p[key][j] = values[o++]!;
  return p;
}

/** k = 3, K = 3, d = 2, standard gate: a random truth, 300 samples, a random canonical start. */
function problem(seed: number): { data: MlogitData; init: MlogitMoeParams } {
  const gate = parseGateTransform('standard');
  const rng = new Rng(seed);
  const truth = initRandom({ K: 3, d: 2, gate }, 3, rng, 1.5);
  const data = sampleMlogitMoe(truth, 300, rng, { kind: 'normal', mean: 0, sd: 1 });
  return { data, init: canonicalizeMlogit(initRandom(truth, 3, rng, 1)) };
}

test('SQUAREM: five steps replayed by hand from the EM map, on two starts (accepted at once, after backtracking, and at α = −1)', () => {
  const tries: number[] = [];
  const accepted: number[] = [];
  for (const seed of [6, 4]) {
    const { data, init } = problem(seed);
    const F = (p: MlogitMoeParams) => fitMlogitEm(data, p, { maxIter: 1, fixedIterations: true }).params;
    let p = init;
    const trace = [mlogitLogLik(init, data)];
    for (let step = 0; step < 5; step++) {
      const p1 = F(p);
      const [t0, t1, t2] = [flat(p), flat(p1), flat(F(p1))];
      const r = t0.map((_, j) => t1[j]! - t0[j]!);
      const v = t0.map((_, j) => t2[j]! - 2 * t1[j]! + t0[j]!);
      const norm2 = (x: number[]) => x.reduce((s, y) => s + y * y, 0);
      let alpha = Math.min(-1, norm2(v) > 0 ? -Math.sqrt(norm2(r) / norm2(v)) : -1);
      const ll1 = mlogitLogLik(p1, data);
      for (let n = 1; ; n++) {
        if (alpha > -1 - 1e-9) alpha = -1;
        const cand = fromFlat(p, t0.map((x, j) => x - 2 * alpha * r[j]! + alpha * alpha * v[j]!));
        const llc = mlogitLogLik(cand, data);
        if (llc >= ll1 || alpha === -1) {
          p = cand;
          trace.push(llc);
          tries.push(n);
          accepted.push(alpha);
          break;
        }
        alpha = (alpha - 1) / 2;
      }
    }
    const res = fitMlogitEm(data, init, { maxIter: 10, fixedIterations: true, trace: true, accelerate: 'squarem' });
    assert.equal(res.iterations, 10, 'two EM maps per SQUAREM step');
    assert.equal(res.trace!.length, 6);
    res.trace!.forEach((ll, i) => assert.ok(Math.abs(ll - trace[i]!) <= 1e-9 * Math.abs(trace[i]!), `seed ${seed}: ℓ after step ${i}: ${ll} vs ${trace[i]}`));
    const [got, want] = [flat(res.params), flat(p)];
    got.forEach((x, j) => assert.ok(Math.abs(x - want[j]!) <= 1e-7 * Math.max(1, Math.abs(want[j]!)), `seed ${seed}: parameter ${j}: ${x} vs ${want[j]}`));
  }
  // the two starts exercise every path (measured: seed 6 takes 1, 1, 1, 3, 1 tries; seed 4's last
  // step has ‖r‖ < ‖v‖, so α is clamped to −1 and the step is F(F(θ₀)))
  assert.ok(tries.some((n) => n === 1) && tries.some((n) => n > 1), `tries per step: ${tries}`);
  assert.ok(accepted.some((a) => a < -1) && accepted.includes(-1), `accepted α: ${accepted}`);
});

test('SQUAREM stops on the relative log-likelihood change, counting two EM maps per step', () => {
  const { data, init } = problem(7);
  const tol = 1e-7;
  const res = fitMlogitEm(data, init, { tol, maxIter: 400, trace: true, accelerate: 'squarem' });
  assert.ok(res.converged);
  assert.equal(res.iterations % 2, 0);
  assert.ok(res.iterations < 400);
  const tr = res.trace!;
  assert.equal(tr.length, res.iterations / 2 + 1);
  const gap = (i: number) => Math.abs(tr[i]! - tr[i - 1]!);
  const last = tr.length - 1;
  assert.ok(gap(last) <= tol * Math.abs(tr[last - 1]!));
  for (let i = 1; i < last; i++) assert.ok(gap(i) > tol * Math.abs(tr[i - 1]!), `did not stop at step ${i}`);
});

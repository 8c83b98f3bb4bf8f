/**
 * The multinomial logistic MoE's M-step (src/theory/mlogitEm.ts, seed 002 App. D) checked as the
 * method requires, not as it happens to be coded, against computations written out here:
 * - log-sum-exp at logit gaps of 800, with the largest gate, expert and joint term not last, by hand;
 * - one M-step of ten Newton steps maximises Q(· | θ₀): its gradient under θ₀'s responsibilities
 *   vanishes in every block (gate included), which one Newton step does not achieve;
 * - the per-block line search: from a start where the full Newton step overshoots, each block's
 *   step is halved until its own Q block stops decreasing, replayed here with the 2 × 2 Newton
 *   systems solved by Cramer's rule;
 * - the trust bound: the largest coordinate of a capped step is exactly `maxStep`.
 * Written against the mutants that survived the native mutation run of mlogitEm.ts
 * (docs/CONTRIBUTING.md, "Mutation testing").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { parseGateTransform } from '../../src/theory/gateTransform.js';
import { fitMlogitEm, initRandom, mStepSystem, responsibilities } from '../../src/theory/mlogitEm.js';
import { canonicalizeMlogit, cloneMlogitParams, mlogitLogLik, mlogitParamsFromAtoms, sampleMlogitMoe, type MlogitData, type MlogitMoeParams } from '../../src/theory/mlogitMoe.js';

const standard = parseGateTransform('standard');
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('log-sum-exp at a gap of 800 (gate, expert and joint terms; the largest neither first nor last): ℓ and r by hand', () => {
  // k = K = 3, d = 1, slopes 0: η = (0, 800, 0), atom 1's expert logits (800, 0, 0), atoms 0 and 2
  // uniform. In doubles e^−800 = 0, so π = (e^−800, 1, e^−800) exists only as log π = (−800, 0, −800).
  //   y = 0: log-joint (−800 − log 3, 0, −800 − log 3) → ℓ = 0, r = (0, 1, 0)
  //   y = 1: log-joint (−800 − log 3, −800, −800 − log 3) → ℓ = −800 + log(1 + 2/3), r = (1/5, 3/5, 1/5)
  // A stabiliser taken from the last entry, or from past the end of a row, overflows e^(+800).
  const p = mlogitParamsFromAtoms([
    { beta0: 0, beta1: [0], a: [0, 0, 0], b: [[0], [0], [0]] },
    { beta0: 800, beta1: [0], a: [800, 0, 0], b: [[0], [0], [0]] },
    { beta0: 0, beta1: [0], a: [0, 0, 0], b: [[0], [0], [0]] },
  ], standard);
  const data: MlogitData = { n: 2, d: 1, K: 3, X: Float64Array.of(0.3, -0.7), Y: Int32Array.of(0, 1) };
  const r = responsibilities(data, p);
  const want = [0, 1, 0, 1 / 5, 3 / 5, 1 / 5];
  want.forEach((v, j) => close(r[j]!, v, 1e-12, `r[${j}]`));
  const res = fitMlogitEm(data, p, { maxIter: 1, fixedIterations: true, trace: true, newtonSteps: 1 });
  close(res.trace![0]!, -800 + Math.log(5 / 3), 1e-15, 'ℓ(θ₀)');
  // Q blocks under these responsibilities (only the second point has terms): Q₀ = Σ r log π
  const { q } = mStepSystem(data, p, r);
  close(q[0]!, (1 / 5 + 1 / 5) * -800, 1e-12, 'Q₀');
  close(q[1]!, (1 / 5) * -Math.log(3), 1e-12, 'Q₁ = r₁₀ log f₀(1)');
  close(q[2]!, (3 / 5) * -800, 1e-12, 'Q₂ = r₁₁ log f₁(1)');
  close(q[3]!, (1 / 5) * -Math.log(3), 1e-12, 'Q₃');
});

/** A k = 3, K = 3, d = 2 sample of a random truth (standard gate). */
function sample(n: number, seed: number): MlogitData {
  const rng = new Rng(seed);
  const truth = initRandom({ K: 3, d: 2, gate: standard }, 3, rng, 1.5);
  return sampleMlogitMoe(truth, n, rng, { kind: 'normal', mean: 0, sd: 1 });
}

/** The largest |∂Q_b/∂θ_b| over every block b, with the responsibilities fixed at `resp`. */
function largestGradient(data: MlogitData, at: MlogitMoeParams, resp: Float64Array): number[] {
  return mStepSystem(data, at, resp).grad.map((g) => Math.max(...Array.from(g, Math.abs)));
}

test('one M-step (ten Newton steps) maximises Q(· | θ₀) in every block; one Newton step does not', () => {
  const data = sample(400, 31);
  const init = canonicalizeMlogit(initRandom({ K: 3, d: 2, gate: standard }, 3, new Rng(32), 0.5));
  const r0 = responsibilities(data, init);
  const before = largestGradient(data, init, r0);
  assert.ok(Math.min(...before) > 1, `the start is not a maximiser of any block: ${before}`);
  const full = fitMlogitEm(data, init, { maxIter: 1, fixedIterations: true });
  const after = largestGradient(data, full.params, r0);
  // Newton stops once the decrement Δᵀ∇Q ≤ 1e-10·n; measured here: the largest |∂Q| left is 2e-5
  // (from 19–66 at the start; 6.6 after one Newton step, 0.44 after three)
  after.forEach((g, b) => assert.ok(g < 1e-4, `block ${b} (${b === 0 ? 'gate' : `expert ${b - 1}`}): |∂Q| = ${g} after the M-step`));
  // the gate moved: its block's parameters are not the start's
  assert.notDeepEqual(Array.from(full.params.beta1), Array.from(init.beta1));
  const one = fitMlogitEm(data, init, { maxIter: 1, fixedIterations: true, newtonSteps: 1 });
  const afterOne = largestGradient(data, one.params, r0);
  assert.ok(Math.min(...afterOne) > 1, `one Newton step leaves a gradient in every block: ${afterOne}`);
});

/** (A + λI)⁻¹ b for a 2 × 2 row-major A, by Cramer's rule. */
function solve2(A: Float64Array, b: Float64Array, lambda: number): [number, number] {
  const [a11, a12, a21, a22] = [A[0]! + lambda, A[1]!, A[2]!, A[3]! + lambda];
  const det = a11 * a22 - a12 * a21;
  return [(b[0]! * a22 - a12 * b[1]!) / det, (a11 * b[1]! - a21 * b[0]!) / det];
}

test('line search: from an overshooting start each block halves its own step until its Q block does not decrease', () => {
  // k = 2, K = 2, d = 1: the gate and both experts are 2 × 2 Newton systems. Labels are a fair coin
  // whatever x, the experts say "class 0" / "class 1" strongly, so rₜ₀ ≈ 1[yₜ = 0] and Q₀'s maximiser
  // has β₀ ≈ 0; the start β₀ = 6 sits where π(1 − π) is small, so the full Newton step (no trust
  // bound: maxStep 1e6) lands far on the other side.
  const rng = new Rng(41);
  const n = 200;
  const data: MlogitData = { n, d: 1, K: 2, X: Float64Array.from({ length: n }, () => 2 * rng.next() - 1), Y: Int32Array.from({ length: n }, () => (rng.next() < 0.5 ? 0 : 1)) };
  const init = mlogitParamsFromAtoms([
    { beta0: 6, beta1: [0.5], a: [3, 0], b: [[0.2], [0]] },
    { beta0: 0, beta1: [0], a: [-3, 0], b: [[-0.4], [0]] },
  ], standard);
  const r0 = responsibilities(data, init);
  const sys = mStepSystem(data, init, r0);
  const lambda = 1e-10 * n; // the ridge the M-step adds to each Newton system
  // block b's parameters as (intercept, slope): the gate row 0, expert i's class 0
  const get = (p: MlogitMoeParams, b: number): [number, number] => (b === 0 ? [p.beta0[0]!, p.beta1[0]!] : [p.a[(b - 1) * 2]!, p.b[(b - 1) * 2]!]);
  const set = (p: MlogitMoeParams, b: number, v: [number, number]) => {
    if (b === 0) [p.beta0[0], p.beta1[0]] = v;
    else [p.a[(b - 1) * 2], p.b[(b - 1) * 2]] = v;
  };
  const want = cloneMlogitParams(init);
  const halvings: number[] = [];
  for (let b = 0; b < 3; b++) {
    const dir = solve2(sys.negHess[b]!, sys.grad[b]!, lambda);
    const start = get(init, b);
    const qStart = sys.q[b]!;
    let alpha = 1;
    let m = 0;
    for (;;) {
      const cand = cloneMlogitParams(init);
      set(cand, b, [start[0] + alpha * dir[0], start[1] + alpha * dir[1]]);
      if (mStepSystem(data, cand, r0).q[b]! >= qStart - 1e-12 * Math.abs(qStart)) break;
      alpha /= 2;
      m += 1;
      assert.ok(m < 27, `block ${b}: no step size found`);
    }
    halvings.push(m);
    set(want, b, [start[0] + alpha * dir[0], start[1] + alpha * dir[1]]);
  }
  assert.ok(halvings[0]! >= 2, `the gate's full step overshoots (halvings ${halvings})`);
  assert.ok(halvings.includes(0), `some block takes its full step (halvings ${halvings})`);
  const res = fitMlogitEm(data, init, { maxIter: 1, fixedIterations: true, newtonSteps: 1, maxStep: 1e6 });
  for (let b = 0; b < 3; b++) {
    const [got, exp] = [get(res.params, b), get(want, b)];
    close(got[0], exp[0], 1e-9, `block ${b} intercept`);
    close(got[1], exp[1], 1e-9, `block ${b} slope`);
  }
  assert.ok(res.logLik > mlogitLogLik(init, data), 'the EM step increases ℓ');
});

test('trust bound: the largest coordinate of a capped Newton step is exactly maxStep', () => {
  const data = sample(300, 33);
  const init = canonicalizeMlogit(initRandom({ K: 3, d: 2, gate: standard }, 3, new Rng(34), 0.5));
  for (const maxStep of [1e-3, 0.05]) {
    const res = fitMlogitEm(data, init, { maxIter: 1, fixedIterations: true, newtonSteps: 1, maxStep });
    let largest = 0;
    for (const key of ['beta0', 'beta1', 'a', 'b'] as const) for (let j = 0; j < init[key].length; j++) largest = Math.max(largest, Math.abs(res.params[key][j]! - init[key][j]!));
    close(largest, maxStep, 1e-9, `maxStep ${maxStep}`);
  }
});

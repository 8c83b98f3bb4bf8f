/**
 * The multinomial logistic MoE's EM (src/theory/mlogitEm.ts, seed 002 App. D) piece by piece, on
 * a few points in d = 2 with k = 3 atoms and K = 3 classes, each against a computation written out
 * here from the model's formula p(y | x) = Σᵢ πᵢ(x) fᵢ(y | x), πᵢ(x) = softmaxᵢ(β₀ᵢ + β₁ᵢᵀM(x)),
 * fᵢ(s | x) = softmaxₛ(a_{is} + b_{is}ᵀx):
 * - E-step responsibilities rₜᵢ = πᵢ fᵢ(yₜ) / Σⱼ πⱼ fⱼ(yₜ) and the M-step's Q blocks
 *   Q₀ = Σₜ Σᵢ rₜᵢ log πᵢ(xₜ), Qᵢ₊₁ = Σₜ rₜᵢ log fᵢ(yₜ | xₜ), with the cos gate transform M;
 * - the EM loop's bookkeeping: iterations, the trace (ℓ of every iterate), the relative and
 *   absolute stopping rules, `converged`, the per-coordinate trust bound `maxStep`;
 * - the two initialisations replayed draw by draw, and the App. D split whose gate mass equals the
 *   truth's (the same likelihood, exactly).
 * The Newton systems themselves are checked against finite differences in em.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { parseGateTransform } from '../../src/theory/gateTransform.js';
import { fitMlogitEm, initFromTruth, initRandom, mStepSystem, responsibilities } from '../../src/theory/mlogitEm.js';
import { canonicalizeMlogit, mlogitLogLik, mlogitParamsFromAtoms, type MlogitAtom, type MlogitData, type MlogitMoeParams } from '../../src/theory/mlogitMoe.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

const ATOMS: MlogitAtom[] = [
  { beta0: 0.7, beta1: [1.2, -0.4], a: [0.5, -0.3, 0], b: [[1, 0.2], [-0.6, 0.9], [0, 0]] },
  { beta0: -0.2, beta1: [-0.8, 0.6], a: [-1, 0.4, 0], b: [[0.3, -1.1], [0.7, 0.1], [0, 0]] },
  { beta0: 0, beta1: [0, 0], a: [0.2, 0.8, 0], b: [[-0.5, 0.4], [0.2, -0.7], [0, 0]] },
];
const cosGate = parseGateTransform('cos');
const truth = (gate = cosGate): MlogitMoeParams => mlogitParamsFromAtoms(ATOMS, gate);
const X = [0.3, -0.8, -1.2, 0.5, 0.9, 0.9, 0, 0.1, 1.4, -0.2];
const Y = [0, 2, 1, 1, 0];
const data: MlogitData = { n: 5, d: 2, K: 3, X: Float64Array.from(X), Y: Int32Array.from(Y) };

const softmax = (h: number[]) => {
  const m = Math.max(...h);
  const e = h.map((v) => Math.exp(v - m));
  const s = e.reduce((u, v) => u + v, 0);
  return e.map((v) => v / s);
};
/** πᵢ(x) with M = cos, and fᵢ(· | x), by hand. */
function parts(t: number): { pi: number[]; f: number[][] } {
  const x = [X[2 * t]!, X[2 * t + 1]!];
  const pi = softmax(ATOMS.map((at) => at.beta0 + at.beta1[0]! * Math.cos(x[0]!) + at.beta1[1]! * Math.cos(x[1]!)));
  const f = ATOMS.map((at) => softmax(at.a.map((a, s) => a + at.b[s]![0]! * x[0]! + at.b[s]![1]! * x[1]!)));
  return { pi, f };
}

test('E-step responsibilities rₜᵢ ∝ πᵢ(xₜ) fᵢ(yₜ | xₜ), by hand (cos gate, k = K = 3, d = 2)', () => {
  const r = responsibilities(data, truth());
  assert.equal(r.length, 15);
  for (let t = 0; t < data.n; t++) {
    const { pi, f } = parts(t);
    const joint = pi.map((p, i) => p * f[i]![Y[t]!]!);
    const tot = joint.reduce((u, v) => u + v, 0);
    joint.forEach((j, i) => close(r[t * 3 + i]!, j / tot, 1e-12, `r[${t}, ${i}]`));
  }
});

test('M-step Q blocks under given responsibilities: Q₀ = Σ r log π, Qᵢ₊₁ = Σₜ rₜᵢ log fᵢ(yₜ), by hand', () => {
  const resp = Float64Array.from([0.2, 0.5, 0.3, 1, 0, 0, 0.1, 0.1, 0.8, 0.4, 0.4, 0.2, 0, 0.5, 0.5]);
  const { q, grad, negHess } = mStepSystem(data, truth(), resp);
  const want = [0, 0, 0, 0];
  for (let t = 0; t < data.n; t++) {
    const { pi, f } = parts(t);
    for (let i = 0; i < 3; i++) {
      want[0] += resp[t * 3 + i]! * Math.log(pi[i]!);
      want[i + 1] += resp[t * 3 + i]! * Math.log(f[i]![Y[t]!]!);
    }
  }
  want.forEach((v, b) => close(q[b]!, v, 1e-12, `Q block ${b}`));
  // block sizes: gate (k − 1)(d + 1) = 6, each expert (K − 1)(d + 1) = 6; every negated Hessian symmetric
  assert.deepEqual(grad.map((g) => g.length), [6, 6, 6, 6]);
  for (const H of negHess) for (let a = 0; a < 6; a++) for (let b = 0; b < 6; b++) close(H[a * 6 + b]!, H[b * 6 + a]!, 1e-12, 'symmetric');
  // the gate gradient's β₀ entries: Σₜ (rₜᵢ − πᵢ(xₜ)) for i = 0, 1
  for (let i = 0; i < 2; i++) {
    let g = 0;
    for (let t = 0; t < data.n; t++) g += resp[t * 3 + i]! - parts(t).pi[i]!;
    close(grad[0]![i * 3]!, g, 1e-12, `∂Q₀/∂β₀${i}`);
  }
  // expert 0's intercept a₀ₛ entries: Σₜ rₜ₀ (1[yₜ = s] − f₀(s | xₜ)) for s = 0, 1
  for (let s = 0; s < 2; s++) {
    let g = 0;
    for (let t = 0; t < data.n; t++) g += resp[t * 3]! * ((Y[t] === s ? 1 : 0) - parts(t).f[0]![s]!);
    close(grad[1]![s * 3]!, g, 1e-12, `∂Q₁/∂a₀${s}`);
  }
});

/** A sample of the truth (identity gate) to fit. */
function sample(n: number, seed: number): MlogitData {
  const rng = new Rng(seed);
  const Xs = new Float64Array(n * 2);
  const Ys = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    Xs[2 * t] = 2 * rng.next() - 1;
    Xs[2 * t + 1] = 2 * rng.next() - 1;
    const pi = softmax(ATOMS.map((at) => at.beta0 + at.beta1[0]! * Xs[2 * t]! + at.beta1[1]! * Xs[2 * t + 1]!));
    let u = rng.next();
    let i = 0;
    while (i < 2 && u >= pi[i]!) u -= pi[i++]!;
    const f = softmax(ATOMS[i]!.a.map((a, s) => a + ATOMS[i]!.b[s]![0]! * Xs[2 * t]! + ATOMS[i]!.b[s]![1]! * Xs[2 * t + 1]!));
    let v = rng.next();
    let s = 0;
    while (s < 2 && v >= f[s]!) v -= f[s++]!;
    Ys[t] = s;
  }
  return { n, d: 2, K: 3, X: Xs, Y: Ys };
}

test('EM bookkeeping: a fixed number of iterations gives maxIter + 1 trace entries, each the log-likelihood of its iterate', () => {
  const d = sample(300, 4);
  const init = initRandom({ K: 3, d: 2, gate: parseGateTransform('standard') }, 3, new Rng(9), 0.5);
  const res = fitMlogitEm(d, init, { maxIter: 3, fixedIterations: true, trace: true });
  assert.equal(res.iterations, 3);
  assert.equal(res.converged, false);
  assert.equal(res.trace!.length, 4);
  close(res.trace![0]!, mlogitLogLik(init, d), 1e-12, 'trace[0] = ℓ(init)');
  close(res.trace![3]!, mlogitLogLik(res.params, d), 1e-10, 'trace[3] = ℓ(fit)');
  close(res.logLik, res.trace![3]!, 1e-12, 'logLik = last trace entry');
  // the same three iterations without a trace end at the same parameters and likelihood
  const quiet = fitMlogitEm(d, init, { maxIter: 3, fixedIterations: true });
  assert.equal(quiet.trace, undefined);
  assert.equal(quiet.iterations, 3);
  close(quiet.logLik, res.logLik, 1e-12, 'no trace: same ℓ');
  assert.deepEqual(Array.from(quiet.params.beta1), Array.from(res.params.beta1));
  // the fit is in the gauge: last atom's gate and every expert's last class are 0
  assert.equal(res.params.beta0[2], 0);
  assert.deepEqual(Array.from(res.params.beta1.subarray(4)), [0, 0]);
  for (let i = 0; i < 3; i++) assert.equal(res.params.a[i * 3 + 2], 0);
});

test('EM stopping rules: relative |Δℓ| ≤ tol·|ℓ| and absolute |Δℓ| ≤ tol; not converged at maxIter', () => {
  const d = sample(300, 5);
  const init = initRandom({ K: 3, d: 2, gate: parseGateTransform('standard') }, 3, new Rng(10), 0.5);
  for (const stopRule of ['relative', 'absolute'] as const) {
    const tol = stopRule === 'relative' ? 1e-4 : 1e-2;
    const res = fitMlogitEm(d, init, { tol, stopRule, maxIter: 300, trace: true });
    assert.ok(res.converged, stopRule);
    const tr = res.trace!;
    assert.equal(tr.length, res.iterations + 1);
    const last = tr.length - 1;
    const gap = (i: number) => Math.abs(tr[i]! - tr[i - 1]!);
    const bound = (i: number) => tol * (stopRule === 'relative' ? Math.abs(tr[i - 1]!) : 1);
    assert.ok(gap(last) <= bound(last), `${stopRule}: stopped at ${last}`);
    for (let i = 1; i < last; i++) assert.ok(gap(i) > bound(i), `${stopRule}: did not stop at ${i}`);
  }
  // |ℓ| ≈ 300: a relative tol of 1e-4 is an absolute 0.03, so the two rules stop at different iterations here
  const rel = fitMlogitEm(d, init, { tol: 1e-4, maxIter: 300 });
  const abs = fitMlogitEm(d, init, { tol: 1e-4, stopRule: 'absolute', maxIter: 300 });
  assert.ok(abs.iterations > rel.iterations, `absolute ${abs.iterations} vs relative ${rel.iterations}`);
  const capped = fitMlogitEm(d, init, { tol: 1e-14, maxIter: 2 });
  assert.equal(capped.converged, false);
  assert.equal(capped.iterations, 2);
  close(capped.logLik, mlogitLogLik(capped.params, d), 1e-10, 'ℓ at maxIter is the fit’s');
});

test('maxStep bounds every coordinate of one Newton step; the step still increases the likelihood', () => {
  const d = sample(300, 6);
  const init = canonicalizeMlogit(initRandom({ K: 3, d: 2, gate: parseGateTransform('standard') }, 3, new Rng(12), 0.5));
  const res = fitMlogitEm(d, init, { maxIter: 1, fixedIterations: true, newtonSteps: 1, maxStep: 1e-3 });
  let largest = 0;
  for (const key of ['beta0', 'beta1', 'a', 'b'] as const) for (let j = 0; j < init[key].length; j++) largest = Math.max(largest, Math.abs(res.params[key][j]! - init[key][j]!));
  assert.ok(largest <= 1e-3 + 1e-15, `largest move ${largest}`);
  assert.ok(largest > 0.5e-3, `the bound is reached by the largest coordinate (a full step here is much larger): ${largest}`);
  assert.ok(res.logLik > mlogitLogLik(init, d));
});

test('initRandom: every free parameter is scale·N(0, 1), drawn in order (gate rows 0..k−2, then experts); pinned ones are 0', () => {
  const gate = parseGateTransform('standard');
  const p = initRandom({ K: 3, d: 2, gate }, 3, new Rng(7), 0.5);
  const rng = new Rng(7);
  const want = { beta0: [0, 0, 0], beta1: [0, 0, 0, 0, 0, 0], a: new Array<number>(9).fill(0), b: new Array<number>(18).fill(0) };
  for (let i = 0; i < 2; i++) {
    want.beta0[i] = 0.5 * rng.normal();
    for (let c = 0; c < 2; c++) want.beta1[i * 2 + c] = 0.5 * rng.normal();
  }
  for (let i = 0; i < 3; i++)
    for (let s = 0; s < 2; s++) {
      want.a[i * 3 + s] = 0.5 * rng.normal();
      for (let c = 0; c < 2; c++) want.b[(i * 3 + s) * 2 + c] = 0.5 * rng.normal();
    }
  assert.deepEqual([p.k, p.K, p.d, p.gate], [3, 3, 2, gate]);
  assert.deepEqual(Array.from(p.beta0), want.beta0);
  assert.deepEqual(Array.from(p.beta1), want.beta1);
  assert.deepEqual(Array.from(p.a), want.a);
  assert.deepEqual(Array.from(p.b), want.b);
});

test('initFromTruth with sd = 0: k = k* gives the truth relabelled; an atom split in two (β₀ − log 2 each) keeps the likelihood exactly', () => {
  const gate = parseGateTransform('standard');
  const t = truth(gate);
  const d = sample(200, 8);
  const same = initFromTruth(t, 3, new Rng(1), 0);
  close(mlogitLogLik(same, d), mlogitLogLik(t, d), 1e-10, 'k = k*');
  for (let seed = 1; seed <= 4; seed++) {
    const split = initFromTruth(t, 4, new Rng(seed), 0);
    assert.equal(split.k, 4);
    assert.equal(split.beta0[3], 0, 'canonical: the last atom is pinned');
    close(mlogitLogLik(split, d), mlogitLogLik(t, d), 1e-10, `split (seed ${seed})`);
    // 'truth' β₀: the shared atom starts with twice its mass, so the likelihood differs
    const literal = initFromTruth(t, 4, new Rng(seed), 0, { beta0: 'truth' });
    assert.ok(Math.abs(mlogitLogLik(literal, d) - mlogitLogLik(t, d)) > 1e-6, `literal (seed ${seed})`);
    // 'pin-last': fitted atom k − 1 is the true atom k* − 1 (its experts unchanged; no translation)
    const pinned = initFromTruth(t, 4, new Rng(seed), 0, { groups: 'pin-last' });
    assert.deepEqual(Array.from(pinned.a.subarray(9, 12)), Array.from(t.a.subarray(6, 9)));
    assert.deepEqual(Array.from(pinned.b.subarray(18, 24)), Array.from(t.b.subarray(12, 18)));
    close(mlogitLogLik(pinned, d), mlogitLogLik(t, d), 1e-10, `pin-last (seed ${seed})`);
  }
  // noise: sd > 0 moves every free parameter
  const noisy = initFromTruth(t, 3, new Rng(1), 0.1);
  assert.ok(Math.abs(mlogitLogLik(noisy, d) - mlogitLogLik(t, d)) > 1e-6);
});

test('initFromTruth with noise, replayed draw by draw: groups, then per atom β₀, β₁, and each free class (a, b) + sd·N(0, 1)', () => {
  // seed 002 App. D: k = 5 fitted atoms over k* = 3 true ones; the draws are the groups (a shuffle,
  // then a uniform true atom for each atom past the first k*), then the noise in parameter order
  const t = truth(parseGateTransform('standard'));
  const [k, ks, K, d, sd] = [5, 3, 3, 2, 0.3];
  for (const groups of ['random', 'pin-last'] as const) {
    for (const beta0 of ['split', 'truth'] as const) {
      const rng = new Rng(17);
      const assign = new Array<number>(k);
      if (groups === 'pin-last') {
        assign[k - 1] = ks - 1;
        const order = rng.shuffle([0, 1, 2, 3]);
        order.forEach((atom, j) => (assign[atom] = j < ks - 1 ? j : rng.int(ks)));
      } else {
        const order = rng.shuffle([0, 1, 2, 3, 4]);
        order.forEach((atom, j) => (assign[atom] = j < ks ? j : rng.int(ks)));
      }
      const size = (j: number) => assign.filter((a) => a === j).length;
      const want = { k, K, d, gate: t.gate, beta0: new Float64Array(k), beta1: new Float64Array(k * d), a: new Float64Array(k * K), b: new Float64Array(k * K * d) };
      for (let i = 0; i < k; i++) {
        const j = assign[i]!;
        want.beta0[i] = t.beta0[j]! - (beta0 === 'split' ? Math.log(size(j)) : 0) + sd * rng.normal();
        for (let c = 0; c < d; c++) want.beta1[i * d + c] = t.beta1[j * d + c]! + sd * rng.normal();
        for (let s = 0; s < K - 1; s++) {
          want.a[i * K + s] = t.a[j * K + s]! + sd * rng.normal();
          for (let c = 0; c < d; c++) want.b[(i * K + s) * d + c] = t.b[(j * K + s) * d + c]! + sd * rng.normal();
        }
      }
      if (groups === 'pin-last') assert.equal(assign[k - 1], ks - 1);
      for (let j = 0; j < ks; j++) assert.ok(size(j) >= 1, `every true atom has a fitted one (${groups})`);
      const got = initFromTruth(t, k, new Rng(17), sd, { groups, beta0 });
      const expected = canonicalizeMlogit(want);
      for (const key of ['beta0', 'beta1', 'a', 'b'] as const) {
        Array.from(expected[key]).forEach((v, j) => close(got[key][j]!, v, 1e-12, `${groups}/${beta0} ${key}[${j}]`));
      }
    }
  }
});

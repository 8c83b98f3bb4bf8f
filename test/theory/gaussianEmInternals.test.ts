/**
 * The Gaussian MoE's EM internals (src/theory/gaussianMoe.ts: the parameter helpers, the E-step,
 * Q_gate and its Fisher-scoring system) in d = 2 with k = 3 experts — so that the gate layout's
 * "first k − 1 biases" and "first k − 1 (softmax) or k (Laplace) weight rows" differ from "all",
 * and an index t·d differs from t/d — each against an independent computation:
 * - responsibilities rₜᵢ = πᵢ(xₜ)·N(yₜ; aᵢᵀxₜ + bᵢ, νᵢ) / Σⱼ πⱼ(xₜ)·N(yₜ; aⱼᵀxₜ + bⱼ, νⱼ), the
 *   densities written out here (FuseMoE eq. 5);
 * - Q_gate = Σₜ Σᵢ rₜᵢ log πᵢ(xₜ), by the same loop written out;
 * - the Fisher matrix Jᵀ(diag π − ππᵀ)J in its covariance form Σₜ Σᵢ πᵢ (Jᵢ − J̄)(Jᵢ − J̄)ᵀ, and
 *   for the softmax gate (where it is the exact negative Hessian of Q_gate) against central
 *   differences of the analytic gradient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { FlexiModalError } from '../../src/errors.js';
import { assertGateGradientMatchesFd, type GateSetter } from './gateGradientFd.js';
import {
  canonicalizeGaussian,
  cloneGaussianParams,
  gaussianAtoms,
  gaussianGateInternals,
  gaussianGateProbs,
  gaussianLogLik,
  gaussianParamsFromAtoms,
  sampleGaussianMoe,
  zeroGaussianParams,
  type GaussianAtom,
  type GaussianMoeParams,
} from '../../src/theory/gaussianMoe.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

const ATOMS: GaussianAtom[] = [
  { beta: 0.4, W: [1, -0.5], a: [0.5, -1], b: 0.2, nu: 0.25 },
  { beta: -0.3, W: [-0.7, 0.9], a: [-1, 0.3], b: -0.4, nu: 0.64 },
  { beta: 0.1, W: [0.2, 0.3], a: [0.8, 0.6], b: 1.1, nu: 1.44 },
];
const model = (gate: 'softmax' | 'laplace'): GaussianMoeParams => gaussianParamsFromAtoms(ATOMS, gate);

/** Gate logits by hand (FuseMoE eq. 5: softmax Wᵢᵀx + βᵢ, Laplace −‖Wᵢ − x‖ + βᵢ). */
function logits(gate: 'softmax' | 'laplace', x: number[]): number[] {
  return ATOMS.map((at) => (gate === 'softmax' ? at.W[0]! * x[0]! + at.W[1]! * x[1]! : -Math.hypot(at.W[0]! - x[0]!, at.W[1]! - x[1]!)) + at.beta);
}
const softmax = (h: number[]) => {
  const m = Math.max(...h);
  const e = h.map((v) => Math.exp(v - m));
  const s = e.reduce((u, v) => u + v, 0);
  return e.map((v) => v / s);
};
const normal = (y: number, mean: number, nu: number) => Math.exp(-((y - mean) ** 2) / (2 * nu)) / Math.sqrt(2 * Math.PI * nu);

const X = [0.3, -0.8, -1.2, 0.5, 0.9, 0.9, 0, 0.1];
const Y = [0.6, -0.2, 1.9, 0.05];
const data = { n: 4, d: 2, X: Float64Array.from(X), Y: Float64Array.from(Y) };
const point = (t: number) => [X[2 * t]!, X[2 * t + 1]!];

test('parameter helpers: atoms round trip, zero parameters, a deep clone, and refusal of a bad atom', () => {
  const p = model('laplace');
  assert.deepEqual(Array.from(p.W), [1, -0.5, -0.7, 0.9, 0.2, 0.3]);
  assert.deepEqual(Array.from(p.a), [0.5, -1, -1, 0.3, 0.8, 0.6]);
  assert.deepEqual(Array.from(p.beta), [0.4, -0.3, 0.1]);
  assert.deepEqual(Array.from(p.nu), [0.25, 0.64, 1.44]);
  assert.deepEqual(gaussianAtoms(p), ATOMS);
  const z = zeroGaussianParams(3, 2, 'softmax');
  assert.deepEqual([z.k, z.d, z.gate, Array.from(z.W), Array.from(z.a), Array.from(z.b), Array.from(z.beta), Array.from(z.nu)], [3, 2, 'softmax', [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 1, 1]]);
  const c = cloneGaussianParams(p);
  for (const key of ['beta', 'W', 'a', 'b', 'nu'] as const) {
    assert.deepEqual(c[key], p[key]);
    c[key][0] = 99;
    assert.notEqual(p[key][0], 99, `${key} is copied`);
  }
  assert.throws(
    () => gaussianParamsFromAtoms([ATOMS[0]!, { ...ATOMS[1]!, nu: 0 }], 'softmax'),
    (e: unknown) => e instanceof FlexiModalError && /atom 1: W and a need length 2 and ν must be > 0/.test(e.message) && e.where === 'gaussianParamsFromAtoms' && e.hint === 'fix the atom',
  );
  assert.throws(() => gaussianParamsFromAtoms([ATOMS[0]!, { ...ATOMS[1]!, W: [1] }], 'softmax'), /atom 1/);
  assert.throws(() => gaussianParamsFromAtoms([ATOMS[0]!, { ...ATOMS[1]!, a: [1, 2, 3] }], 'softmax'), /atom 1/);
  assert.equal(gaussianParamsFromAtoms([], 'softmax').d, 0);
});

test('canonicalizeGaussian: β − β_k for both gates, W − W_k for softmax only; the density is unchanged', () => {
  const s = canonicalizeGaussian(model('softmax'));
  const want = (v: number[], last: number) => v.map((x) => x - last);
  assert.deepEqual(Array.from(s.beta), want([0.4, -0.3, 0.1], 0.1));
  assert.deepEqual(Array.from(s.W), [1 - 0.2, -0.5 - 0.3, -0.7 - 0.2, 0.9 - 0.3, 0, 0]);
  const l = canonicalizeGaussian(model('laplace'));
  assert.deepEqual(Array.from(l.beta), want([0.4, -0.3, 0.1], 0.1));
  assert.deepEqual(Array.from(l.W), Array.from(model('laplace').W), 'Laplace W is identifiable: unchanged');
  for (const gate of ['softmax', 'laplace'] as const) close(gaussianLogLik(canonicalizeGaussian(model(gate)), data), gaussianLogLik(model(gate), data), 1e-12, `${gate} log-likelihood`);
  assert.deepEqual(Array.from(model('softmax').beta), [0.4, -0.3, 0.1], 'the input is not changed');
});

test('E-step: responsibilities and log-likelihood against the densities written out (k = 3, d = 2)', () => {
  for (const gate of ['softmax', 'laplace'] as const) {
    const r = new Float64Array(data.n * 3);
    const ll = gaussianGateInternals.eStep(model(gate), data, r);
    let want = 0;
    for (let t = 0; t < data.n; t++) {
      const x = point(t);
      const pi = softmax(logits(gate, x));
      const joint = ATOMS.map((at, i) => pi[i]! * normal(Y[t]!, at.a[0]! * x[0]! + at.a[1]! * x[1]! + at.b, at.nu));
      const tot = joint.reduce((u, v) => u + v, 0);
      want += Math.log(tot);
      joint.forEach((j, i) => close(r[t * 3 + i]!, j / tot, 1e-12, `${gate} r[${t}, ${i}]`));
    }
    close(ll, want, 1e-12, `${gate} log-likelihood`);
    close(ll, gaussianLogLik(model(gate), data), 1e-12, `${gate} = gaussianLogLik`);
  }
});

test('Q_gate with a logit gap of 800 where the largest logit is not the last: finite, the hand value', () => {
  // softmax gate, x = 0: h = (800, 0), log π = (0, −800) to double precision
  const p = gaussianParamsFromAtoms([{ ...ATOMS[0]!, beta: 800, W: [0, 0] }, { ...ATOMS[1]!, beta: 0, W: [0, 0] }], 'softmax');
  const one = { n: 1, d: 2, X: Float64Array.from([0, 0]), Y: Float64Array.from([0]) };
  close(gaussianGateInternals.gateQ(p, one, Float64Array.from([0.25, 0.75])), 0.75 * -800, 1e-12, 'Q_gate');
  const { grad } = gaussianGateInternals.gateSystem(p, one, Float64Array.from([0.25, 0.75]));
  close(grad[0]!, 0.25 - 1, 1e-12, '∂Q/∂β₀ = r₀ − π₀');
});

test('Q_gate = Σₜ Σᵢ rₜᵢ log πᵢ(xₜ), by hand, for arbitrary weights r', () => {
  const r = Float64Array.from([0.2, 0.5, 0.3, 1, 0, 0, 0.1, 0.1, 0.8, 0.4, 0.4, 0.2]);
  for (const gate of ['softmax', 'laplace'] as const) {
    let want = 0;
    for (let t = 0; t < data.n; t++) {
      const pi = softmax(logits(gate, point(t)));
      for (let i = 0; i < 3; i++) want += r[t * 3 + i]! * Math.log(pi[i]!);
    }
    close(gaussianGateInternals.gateQ(model(gate), data, r), want, 1e-12, `${gate} Q_gate`);
  }
});

/** Setters of the gate coordinates in gateSystem's layout: β₀ … β_{k−2}, then W rows (softmax: the first k − 1; Laplace: all k), d each. */
function setters(gate: 'softmax' | 'laplace'): GateSetter[] {
  const s: GateSetter[] = [0, 1].map((i) => (m: GaussianMoeParams, v: number) => void (m.beta[i] = m.beta[i]! + v));
  const rows = gate === 'softmax' ? 2 : 3;
  for (let w = 0; w < rows * 2; w++) s.push((m, v) => void (m.W[w] = m.W[w]! + v));
  return s;
}

test('gate gradient with k = 3: every coordinate of the layout against finite differences of Q_gate', () => {
  for (const gate of ['softmax', 'laplace'] as const) {
    const p = model(gate);
    const big = sampleGaussianMoe(p, 60, new Rng(11));
    const r = new Float64Array(big.n * 3);
    gaussianGateInternals.eStep(gaussianParamsFromAtoms(ATOMS.map((a) => ({ ...a, beta: a.beta * 0.5 })), gate), big, r);
    assertGateGradientMatchesFd(p, big, r, setters(gate), gate);
  }
});

test('gate Fisher matrix: the covariance form Σₜ Σᵢ πᵢ (Jᵢ − J̄)(Jᵢ − J̄)ᵀ (both gates); the negative Hessian of Q_gate (softmax)', () => {
  for (const gate of ['softmax', 'laplace'] as const) {
    const p = model(gate);
    const r = new Float64Array(data.n * 3);
    gaussianGateInternals.eStep(p, data, r);
    const { fisher, grad } = gaussianGateInternals.gateSystem(p, data, r);
    const P = setters(gate).length;
    assert.equal(grad.length, P);
    assert.equal(fisher.length, P * P);
    // J: d hᵢ / d θ, by hand: β_j for j < k − 1; W row w: x (softmax) or (x − W_w)/‖x − W_w‖ (Laplace)
    const want = new Float64Array(P * P);
    for (let t = 0; t < data.n; t++) {
      const x = point(t);
      const pi = softmax(logits(gate, x));
      const J = ATOMS.map((at, i) => {
        const row = new Array<number>(P).fill(0);
        if (i < 2) row[i] = 1;
        if (gate === 'softmax' ? i < 2 : true) {
          const dist = Math.hypot(x[0]! - at.W[0]!, x[1]! - at.W[1]!);
          for (let c = 0; c < 2; c++) row[2 + 2 * i + c] = gate === 'softmax' ? x[c]! : (x[c]! - at.W[c]!) / dist;
        }
        return row;
      });
      const mean = Array.from({ length: P }, (_, a) => J.reduce((u, row, i) => u + pi[i]! * row[a]!, 0));
      for (let i = 0; i < 3; i++) for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) want[a * P + b] += pi[i]! * (J[i]![a]! - mean[a]!) * (J[i]![b]! - mean[b]!);
    }
    for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) close(fisher[a * P + b]!, want[a * P + b]!, 1e-12, `${gate} Fisher[${a}, ${b}]`);
    if (gate === 'softmax') {
      const h = 1e-5;
      setters(gate).forEach((set, b) => {
        const plus = cloneGaussianParams(p);
        const minus = cloneGaussianParams(p);
        set(plus, h);
        set(minus, -h);
        const gp = gaussianGateInternals.gateSystem(plus, data, r).grad;
        const gm = gaussianGateInternals.gateSystem(minus, data, r).grad;
        for (let a = 0; a < P; a++) close(-(gp[a]! - gm[a]!) / (2 * h), fisher[a * P + b]!, 1e-6, `softmax −∂²Q[${a}, ${b}]`);
      });
    }
  }
});

test('gate probabilities of the k = 3 model at every data point match the hand logits', () => {
  for (const gate of ['softmax', 'laplace'] as const) {
    for (let t = 0; t < data.n; t++) {
      const g = gaussianGateProbs(model(gate), data.X, 2 * t);
      softmax(logits(gate, point(t))).forEach((v, i) => close(g[i]!, v, 1e-12, `${gate} π[${t}, ${i}]`));
    }
  }
});

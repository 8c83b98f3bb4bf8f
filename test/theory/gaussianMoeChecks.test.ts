/**
 * The Gaussian MoE's model formulas (src/theory/gaussianMoe.ts, lines 100–200) in two input
 * dimensions, against the mutants a line-range Stryker run left alive there: the existing tests use
 * d = 1, where an index t·d and t/d coincide. Gate probabilities by hand at an offset inside X,
 * the log-likelihood against an independent computation, a large logit gap, the sampler replayed
 * draw by draw, and the gate's Fisher-scoring gradient against finite differences for both gates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { drawCategorical, sampleCovariates } from '../../src/theory/mlogitMoe.js';
import { assertGateGradientMatchesFd, type GateSetter } from './gateGradientFd.js';
import { gaussianGateInternals, gaussianGateProbs, gaussianLogLik, gaussianParamsFromAtoms, sampleGaussianMoe, type GaussianMoeParams } from '../../src/theory/gaussianMoe.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** Two atoms in d = 2: gate (β, W), expert (a, b, ν). */
function model(gate: 'softmax' | 'laplace'): GaussianMoeParams {
  return gaussianParamsFromAtoms(
    [
      { beta: 0, W: [1, 2], a: [0.5, -1], b: 0.2, nu: 0.25 },
      { beta: 0.5, W: [0, 0], a: [-1, 0.3], b: -0.4, nu: 0.64 },
    ],
    gate,
  );
}

/** Softmax of a list (independent of the module). */
const softmax = (h: number[]) => {
  const m = Math.max(...h);
  const e = h.map((v) => Math.exp(v - m));
  const s = e.reduce((x, y) => x + y, 0);
  return e.map((v) => v / s);
};

test('gate probabilities by hand at an offset inside X (d = 2), both gates', () => {
  const X = [9, 9, 0.5, -1]; // the point is X[2..4) = (0.5, −1)
  // softmax: h₀ = 0 + 1·0.5 + 2·(−1) = −1.5, h₁ = 0.5 + 0 = 0.5
  const s = gaussianGateProbs(model('softmax'), X, 2);
  close(s[0]!, 1 / (1 + Math.exp(2)), 1e-15, 'softmax p0');
  // Laplace: h₀ = 0 − ‖(1, 2) − (0.5, −1)‖ = −√9.25, h₁ = 0.5 − ‖(0.5, −1)‖ = 0.5 − √1.25
  const l = gaussianGateProbs(model('laplace'), X, 2);
  const want = softmax([-Math.sqrt(9.25), 0.5 - Math.sqrt(1.25)]);
  close(l[0]!, want[0]!, 1e-15, 'laplace p0');
  close(l[1]!, want[1]!, 1e-15, 'laplace p1');
});

test('a logit gap of 800 gives finite probabilities (the max is taken over every logit)', () => {
  const p = gaussianParamsFromAtoms(
    [
      { beta: 800, W: [0, 0], a: [0, 0], b: 0, nu: 1 },
      { beta: 0, W: [0, 0], a: [0, 0], b: 0, nu: 1 },
    ],
    'softmax',
  );
  const g = gaussianGateProbs(p, [0, 0]);
  close(g[0]!, 1, 1e-15, 'p0');
  close(g[1]!, 0, 1e-15, 'p1');
  // and the log-likelihood of y = 0 is log N(0; 0, 1)
  close(gaussianLogLik(p, { n: 1, d: 2, X: Float64Array.from([0, 0]), Y: Float64Array.from([0]) }), -0.5 * Math.log(2 * Math.PI), 1e-12, 'loglik');
});

test('log-likelihood (d = 2, n = 2) against Σₜ log Σᵢ gᵢ(xₜ) N(yₜ; aᵢᵀxₜ + bᵢ, νᵢ) computed here', () => {
  const X = [0.5, -1, -0.3, 0.8];
  const Y = [0.7, -0.2];
  for (const gate of ['softmax', 'laplace'] as const) {
    const p = model(gate);
    let want = 0;
    for (let t = 0; t < 2; t++) {
      const x = [X[2 * t]!, X[2 * t + 1]!];
      const W = [
        [1, 2],
        [0, 0],
      ];
      const beta = [0, 0.5];
      const h = W.map((w, i) => (gate === 'softmax' ? beta[i]! + w[0]! * x[0]! + w[1]! * x[1]! : beta[i]! - Math.hypot(w[0]! - x[0]!, w[1]! - x[1]!)));
      const g = softmax(h);
      const experts = [
        { a: [0.5, -1], b: 0.2, nu: 0.25 },
        { a: [-1, 0.3], b: -0.4, nu: 0.64 },
      ];
      const dens = experts.map((e) => {
        const mu = e.b + e.a[0]! * x[0]! + e.a[1]! * x[1]!;
        return Math.exp(-((Y[t]! - mu) ** 2) / (2 * e.nu)) / Math.sqrt(2 * Math.PI * e.nu);
      });
      want += Math.log(g[0]! * dens[0]! + g[1]! * dens[1]!);
    }
    close(gaussianLogLik(p, { n: 2, d: 2, X: Float64Array.from(X), Y: Float64Array.from(Y) }), want, 1e-12, `${gate} loglik`);
  }
});

test('the sampler replayed draw by draw: x from the stream, expert i ~ gate(x), y = aᵢᵀx + bᵢ + √νᵢ·z', () => {
  const p = model('laplace');
  const dist = { kind: 'uniform' as const, lo: -1, hi: 1 };
  const n = 60;
  const data = sampleGaussianMoe(p, n, new Rng(21), dist);
  const rng = new Rng(21);
  const X = sampleCovariates(n, 2, dist, rng);
  assert.deepEqual(Array.from(data.X), Array.from(X));
  const experts = [
    { a: [0.5, -1], b: 0.2, nu: 0.25 },
    { a: [-1, 0.3], b: -0.4, nu: 0.64 },
  ];
  for (let t = 0; t < n; t++) {
    const i = drawCategorical(gaussianGateProbs(p, X, 2 * t), 0, 2, rng);
    const e = experts[i]!;
    const y = e.b + e.a[0]! * X[2 * t]! + e.a[1]! * X[2 * t + 1]! + Math.sqrt(e.nu) * rng.normal();
    close(data.Y[t]!, y, 1e-15, `y[${t}]`);
  }
});

test('gate Fisher-scoring gradient matches finite differences of Q_gate in d = 2 (both gates)', () => {
  for (const gate of ['softmax', 'laplace'] as const) {
    const p = model(gate);
    const data = sampleGaussianMoe(p, 200, new Rng(4));
    const r = new Float64Array(data.n * 2);
    const q = gaussianParamsFromAtoms(
      [
        { beta: 0.3, W: [0.6, 1.5], a: [0.5, -1], b: 0.2, nu: 0.25 },
        { beta: 0.1, W: [-0.4, 0.2], a: [-1, 0.3], b: -0.4, nu: 0.64 },
      ],
      gate,
    );
    gaussianGateInternals.eStep(q, data, r);
    // layout: β₀ (k − 1 = 1), then the free Wᵢ (softmax: W₀ only; Laplace: W₀ and W₁), d = 2 each
    const setters: GateSetter[] = [(m, v) => (m.beta[0] = m.beta[0]! + v)];
    const nW = gate === 'softmax' ? 1 : 2;
    for (let w = 0; w < nW * 2; w++) setters.push((m, v) => (m.W[w] = m.W[w]! + v));
    assertGateGradientMatchesFd(q, data, r, setters, gate);
  }
});

test('Laplace gate at a data point that sits exactly on Wᵢ: the gradient is finite (‖x − Wᵢ‖ = 0 contributes 0)', () => {
  const q = model('laplace');
  // x₀ = W₀ = (1, 2) exactly, x₁ elsewhere
  const data = { n: 2, d: 2, X: Float64Array.from([1, 2, -0.3, 0.8]), Y: Float64Array.from([0.1, -0.2]) };
  const r = new Float64Array(4);
  gaussianGateInternals.eStep(q, data, r);
  const sys = gaussianGateInternals.gateSystem(q, data, r);
  assert.ok(Array.from(sys.grad).every(Number.isFinite), `gradient ${Array.from(sys.grad)}`);
  assert.ok(Array.from(sys.fisher).every(Number.isFinite), 'Fisher matrix finite');
});

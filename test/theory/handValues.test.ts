/**
 * Every gate, density and loss of the theory lab at one point, against values computed by hand
 * from the seeds' formulas (independently of the module under test: the expected numbers below
 * were evaluated from the written formula with Python's math module and are pasted as literals).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyGateTransform, parseGateTransform, type GateTransform } from '../../src/theory/gateTransform.js';
import { mlogitClassProbs, mlogitComponents, mlogitLogLik, mlogitParamsFromAtoms } from '../../src/theory/mlogitMoe.js';
import { gaussianGateProbs, gaussianLogLik, gaussianParamsFromAtoms, gaussianVoronoiLosses, rBar } from '../../src/theory/gaussianMoe.js';

const close = (got: number, want: number, what: string, tol = 1e-12): void => assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want}`);

test('modified gate transforms M(x) (seed 002 §4, Definition 4.1) at x = 0.5 / −2 / 1.5 / [3, 4]', () => {
  const at = (t: GateTransform, x: number[]): number[] => {
    const out = new Float64Array(x.length);
    applyGateTransform(t, x, 0, x.length, out, 0);
    return [...out];
  };
  // sigmoid(0.5) = 1/(1+e^−0.5), tanh(0.5), cos(0.5), sin(0.5), log|−2| = log 2, 1.5³, [3,4]/5
  close(at(parseGateTransform('identity'), [0.5])[0]!, 0.5, 'identity');
  close(at(parseGateTransform('sigmoid'), [0.5])[0]!, 0.6224593312018546, 'sigmoid');
  close(at(parseGateTransform('tanh'), [0.5])[0]!, 0.46211715726000974, 'tanh');
  close(at(parseGateTransform('cos'), [0.5])[0]!, 0.8775825618903728, 'cos');
  close(at(parseGateTransform('sin'), [0.5])[0]!, 0.479425538604203, 'sin');
  close(at(parseGateTransform('log-abs'), [-2])[0]!, 0.6931471805599453, 'log|x|');
  close(at(parseGateTransform('pow3'), [1.5])[0]!, 3.375, 'x³');
  const n = at(parseGateTransform('l2-normalize'), [3, 4]);
  close(n[0]!, 0.6, 'x/‖x‖ [0]');
  close(n[1]!, 0.8, 'x/‖x‖ [1]');
});

test('multinomial logistic MoE (seed 002 eq. 1 / eq. 8) with the cos gate: gate, experts and P(Y | x) by hand', () => {
  // k = 2 atoms, K = 2 classes, d = 1, x = 0.5:
  //   η₀ = β₀₀ + β₁₀·cos(x) = 0.3 + 1.2·cos 0.5, η₁ = 0  →  π₀ = σ(η₀) = 0.7946358270945046
  //   F₀₀ = σ(a₀₀ + b₀₀x) = σ(0.2 + 0.7·0.5), F₁₀ = σ(−0.4 − 1.1·0.5)
  //   P(Y = 0 | x) = π₀F₀₀ + π₁F₁₀ = 0.5611798106541612 (sin would give 0.5296…, identity 0.5314…)
  const p = mlogitParamsFromAtoms(
    [
      { beta0: 0.3, beta1: [1.2], a: [0.2, 0], b: [[0.7], [0]] },
      { beta0: 0, beta1: [0], a: [-0.4, 0], b: [[-1.1], [0]] },
    ],
    parseGateTransform('cos'),
  );
  const c = mlogitComponents(p, [0.5]);
  close(c.gate[0]!, 0.7946358270945046, 'π₀');
  close(c.gate[1]!, 1 - 0.7946358270945046, 'π₁');
  close(c.expert[0]!, 1 / (1 + Math.exp(-0.55)), 'F₀₀');
  close(c.expert[2]!, 1 / (1 + Math.exp(0.95)), 'F₁₀');
  const pr = mlogitClassProbs(p, [0.5]);
  close(pr[0]!, 0.5611798106541612, 'P(Y=0|x)');
  close(pr[1]!, 1 - 0.5611798106541612, 'P(Y=1|x)');
  // the log-likelihood of one observation (x = 0.5, y = 1) is log P(Y = 1 | x)
  close(mlogitLogLik(p, { n: 1, d: 1, K: 2, X: Float64Array.of(0.5), Y: Int32Array.of(1) }), Math.log(1 - 0.5611798106541612), 'log-lik');
});

test('Gaussian MoE (FuseMoE eq. 5): softmax and Laplace gates, log-density, mean and variance by hand', () => {
  // d = 2, x = (0.5, −1), y = 0.7; atom 0: β = 0.4, W = (1.5, 1), a = (2, −1), b = 0.5, ν = 0.25;
  // atom 1: β = 0, W = (0, 0), a = (−1, 0.5), b = −0.3, ν = 0.16.
  //   softmax: h = β + Wᵀx = (0.15, 0)             → π = (0.5374298453437496, 0.4625701546562504)
  //   Laplace: h = β − ‖W − x‖ = (0.4 − √5, −√1.25) → π = (0.32782605883676824, 0.6721739411632317)
  //   (a squared distance −‖W − x‖² would give π₀ = 0.0339: the Laplace gate uses the norm itself)
  //   log p(y|x) = log Σ πᵢ N(y; aᵢᵀx + bᵢ, νᵢ): softmax −7.324137766106773, Laplace −7.8148555439318645
  const atoms = [
    { beta: 0.4, W: [1.5, 1], a: [2, -1], b: 0.5, nu: 0.25 },
    { beta: 0, W: [0, 0], a: [-1, 0.5], b: -0.3, nu: 0.16 },
  ];
  const x = [0.5, -1];
  const want = {
    softmax: { pi0: 0.5374298453437496, ll: -7.324137766106773, mean: 0.7422334123062484, variance: 3.798138342504659 },
    laplace: { pi0: 0.32782605883676824, ll: -7.8148555439318645, mean: -0.054260976420280604, variance: 3.3714469200288897 },
  } as const;
  for (const gate of ['softmax', 'laplace'] as const) {
    const p = gaussianParamsFromAtoms(atoms, gate);
    const g = gaussianGateProbs(p, x);
    close(g[0]!, want[gate].pi0, `${gate} π₀`);
    close(g[1]!, 1 - want[gate].pi0, `${gate} π₁`);
    close(gaussianLogLik(p, { n: 1, d: 2, X: Float64Array.from(x), Y: Float64Array.of(0.7) }), want[gate].ll, `${gate} log p(y|x)`, 1e-11);
    // mixture mean Σπμ and variance Σπ(ν + μ²) − (Σπμ)² with μ = (2·0.5 + 1 + 0.5, −0.5 − 0.5 − 0.3)
    const mu = [2.5, -1.3];
    const mean = g[0]! * mu[0]! + g[1]! * mu[1]!;
    const variance = g[0]! * (0.25 + mu[0]! ** 2) + g[1]! * (0.16 + mu[1]! ** 2) - mean ** 2;
    close(mean, want[gate].mean, `${gate} mean`, 1e-12);
    close(variance, want[gate].variance, `${gate} variance`, 1e-12);
  }
});

test('Gaussian Voronoi D₂ (FuseMoE eq. 8) with an over-specified cell, by hand', () => {
  // truth: atom A (β = 0.5, W = 1.5, a = 2, b = 1, ν = 0.25), atom B (0, 0, −1, −0.5, 0.16), d = 1.
  // fit: two atoms in A's cell, one in B's (no gauge shift needed: the fitted reference atom equals B's gate).
  const truth = gaussianParamsFromAtoms(
    [
      { beta: 0.5, W: [1.5], a: [2], b: 1, nu: 0.25 },
      { beta: 0, W: [0], a: [-1], b: -0.5, nu: 0.16 },
    ],
    'laplace',
  );
  const fit = gaussianParamsFromAtoms(
    [
      { beta: 0.1, W: [1.6], a: [2.2], b: 0.9, nu: 0.29 },
      { beta: -0.2, W: [1.4], a: [1.9], b: 1.2, nu: 0.2 },
      { beta: 0, W: [0], a: [-1.1], b: -0.5, nu: 0.16 },
    ],
    'laplace',
  );
  const e = Math.exp;
  const rb = rBar(2); // r̄(2) = 4 (Ho & Nguyen 2016)
  assert.equal(rb, 4);
  const mass = Math.abs(e(0.1) + e(-0.2) - e(0.5)) + Math.abs(e(0) - e(0));
  // over-specified: exponents (2, 2, r̄, r̄/2) on (‖ΔW‖, ‖Δa‖, |Δb|, |Δν|)
  const over = e(0.1) * (0.1 ** 2 + 0.2 ** 2 + 0.1 ** 4 + 0.04 ** 2) + e(-0.2) * (0.1 ** 2 + 0.1 ** 2 + 0.2 ** 4 + 0.05 ** 2);
  const exact = e(0) * (0 + 0.1 + 0 + 0);
  const l = gaussianVoronoiLosses(fit, truth);
  assert.deepEqual(l.cells, [[0, 1], [2]]);
  close(l.d2, mass + over + exact, 'D₂', 1e-12);
  close(l.gate, mass + e(0.1) * 0.1 + e(-0.2) * 0.1, 'gate loss', 1e-12);
});

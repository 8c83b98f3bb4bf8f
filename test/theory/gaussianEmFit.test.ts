/**
 * The Gaussian MoE's EM loop and Voronoi losses (src/theory/gaussianMoe.ts: fitGaussianEm,
 * rBar, gaussianVoronoiLosses; FuseMoE §4, eq. 7–8) against computations written out here, on a
 * few points in d = 2:
 * - one M-step for the experts is a weighted least squares on [1, x] with the E-step's
 *   responsibilities, then ν = Σ r (y − μ)² / Σ r (solved here by Gaussian elimination);
 * - one Fisher-scoring step for the gate is θ + α·F⁻¹g, α halved from 1 until Q_gate does not fall
 *   (a step of largest coordinate ≤ 5 here), F and g from gateSystem (checked against finite
 *   differences elsewhere);
 * - the variance floor, an expert with no responsibility left alone, the stopping rule and the
 *   trace;
 * - the losses by hand for an exact-specified and an over-specified fit, and the softmax gauge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalizeGaussian,
  cloneGaussianParams,
  fitGaussianEm,
  gaussianGateInternals,
  gaussianLogLik,
  gaussianParamsFromAtoms,
  gaussianVoronoiLosses,
  rBar,
  type GaussianAtom,
  type GaussianData,
  type GaussianMoeParams,
} from '../../src/theory/gaussianMoe.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** Solve A x = b (n × n, row-major) by Gaussian elimination with partial pivoting (independent of src/theory/linalg). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
    [M[c], M[piv]] = [M[piv]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let q = c; q <= n; q++) M[r]![q] = M[r]![q]! - f * M[c]![q]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let q = r + 1; q < n; q++) s -= M[r]![q]! * x[q]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

const ATOMS: GaussianAtom[] = [
  { beta: 0.3, W: [0.8, -0.5], a: [0.5, -1], b: 0.2, nu: 0.3 },
  { beta: 0, W: [-0.6, 0.4], a: [-1, 0.3], b: -0.4, nu: 0.6 },
];
const X = [0.3, -0.8, -1.2, 0.5, 0.9, 0.9, 0, 0.1, 1.4, -0.2, -0.5, -0.9, 0.7, 0.2];
const Y = [0.9, -0.5, -0.2, 0.1, 2.1, -0.3, 0.4];
const data: GaussianData = { n: 7, d: 2, X: Float64Array.from(X), Y: Float64Array.from(Y) };

test('one EM iteration without gate steps: each expert is the weighted least squares fit with the E-step responsibilities', () => {
  for (const gate of ['softmax', 'laplace'] as const) {
    const init = gaussianParamsFromAtoms(ATOMS, gate);
    const r = new Float64Array(data.n * 2);
    gaussianGateInternals.eStep(canonicalizeGaussian(init), data, r);
    const res = fitGaussianEm(data, init, { maxIter: 1, gateSteps: 0, tol: 0 });
    assert.equal(res.iterations, 1);
    for (let i = 0; i < 2; i++) {
      // normal equations Σ w φφᵀ θ = Σ w φ y, φ = [1, x₁, x₂]
      const A = [0, 1, 2].map(() => [0, 0, 0]);
      const rhs = [0, 0, 0];
      let wsum = 0;
      for (let t = 0; t < data.n; t++) {
        const w = r[t * 2 + i]!;
        const phi = [1, X[2 * t]!, X[2 * t + 1]!];
        wsum += w;
        for (let c = 0; c < 3; c++) {
          rhs[c] += w * phi[c]! * Y[t]!;
          for (let c2 = 0; c2 < 3; c2++) A[c]![c2] += w * phi[c]! * phi[c2]!;
        }
      }
      const th = solve(A, rhs);
      close(res.params.b[i]!, th[0]!, 1e-9, `${gate} b[${i}]`);
      close(res.params.a[2 * i]!, th[1]!, 1e-9, `${gate} a[${i}, 0]`);
      close(res.params.a[2 * i + 1]!, th[2]!, 1e-9, `${gate} a[${i}, 1]`);
      let rss = 0;
      for (let t = 0; t < data.n; t++) rss += r[t * 2 + i]! * (Y[t]! - (th[0]! + th[1]! * X[2 * t]! + th[2]! * X[2 * t + 1]!)) ** 2;
      close(res.params.nu[i]!, rss / wsum, 1e-9, `${gate} ν[${i}]`);
    }
    // the gate did not move (no Fisher step), in the gauge
    assert.deepEqual(Array.from(res.params.beta), Array.from(canonicalizeGaussian(init).beta));
    assert.deepEqual(Array.from(res.params.W), Array.from(canonicalizeGaussian(init).W));
    close(res.logLik, gaussianLogLik(res.params, data), 1e-12, `${gate} ℓ of the result`);
  }
});

/**
 * The gate after `steps` Fisher-scoring steps from `init` under fixed responsibilities r, written
 * out: direction F⁻¹g, a first α of 1 (or 5/max|dir| when the largest coordinate exceeds 5), halved
 * until Q_gate does not fall. Returns the gate and the α of each step.
 */
function fisherSteps(init: GaussianMoeParams, r: Float64Array, steps: number): { p: GaussianMoeParams; alphas: number[]; maxDir: number[] } {
  let p = cloneGaussianParams(init);
  const alphas: number[] = [];
  const maxDir: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { grad, fisher } = gaussianGateInternals.gateSystem(p, data, r);
    const P = grad.length;
    const dir = solve(
      Array.from({ length: P }, (_, a) => Array.from({ length: P }, (_, b) => fisher[a * P + b]!)),
      Array.from(grad),
    );
    // layout: β₀, then W rows (softmax: W₀; Laplace: W₀, W₁)
    const at = (alpha: number) => {
      const q = cloneGaussianParams(p);
      q.beta[0] += alpha * dir[0]!;
      for (let j = 1; j < P; j++) q.W[j - 1] += alpha * dir[j]!;
      return q;
    };
    const mx = Math.max(...dir.map(Math.abs));
    const q0 = gaussianGateInternals.gateQ(p, data, r);
    let alpha = mx > 5 ? 5 / mx : 1;
    while (gaussianGateInternals.gateQ(at(alpha), data, r) < q0) alpha /= 2;
    alphas.push(alpha);
    maxDir.push(mx);
    p = at(alpha);
  }
  return { p, alphas, maxDir };
}

/** The module's gate after one EM iteration with `gateSteps` steps equals the written-out steps (relative `tol`, 1e-7 by default: the module's solve adds a ridge of 1e-10·n). */
function assertGateSteps(init: GaussianMoeParams, gateSteps: number, what: string, tol = 1e-7): { alphas: number[]; maxDir: number[] } {
  const r = new Float64Array(data.n * 2);
  gaussianGateInternals.eStep(init, data, r);
  const want = fisherSteps(init, r, gateSteps);
  const res = fitGaussianEm(data, init, { maxIter: 1, gateSteps, tol: 0 });
  want.p.beta.forEach((v, i) => close(res.params.beta[i]!, v, tol, `${what} β[${i}]`));
  want.p.W.forEach((v, i) => close(res.params.W[i]!, v, tol, `${what} W[${i}]`));
  return want;
}

test('one Fisher-scoring step for the gate: θ + α·F⁻¹g, α halved from 1 until Q_gate does not fall (both gates)', () => {
  for (const gate of ['softmax', 'laplace'] as const) {
    const { alphas, maxDir } = assertGateSteps(canonicalizeGaussian(gaussianParamsFromAtoms(ATOMS, gate)), 1, gate);
    assert.ok(maxDir[0]! <= 5, 'a direction under the cap');
    if (gate === 'softmax') assert.equal(alphas[0], 1, 'softmax: the Newton step itself (Q_gate is concave)');
    else assert.ok(alphas[0]! < 1, 'Laplace (Fisher, not the Hessian): this step is halved');
  }
});

test('gate steps: a direction longer than 5 starts at α = 5/max|dir|; two steps per M-step are two steps', () => {
  // β₀ = −9: π₀ ≈ e⁻⁹, the Fisher matrix is nearly singular there and the Newton direction's largest
  // entry exceeds 5 (tolerance 1e-5: the ridge weighs more on a nearly singular matrix)
  const far = canonicalizeGaussian(gaussianParamsFromAtoms([{ ...ATOMS[0]!, beta: -9 }, ATOMS[1]!], 'softmax'));
  const capped = assertGateSteps(far, 1, 'capped', 1e-5);
  assert.ok(capped.maxDir[0]! > 5, `the direction exceeds the cap: ${capped.maxDir[0]}`);
  assert.ok(capped.alphas[0]! <= 5 / capped.maxDir[0]!, 'the step starts at the cap');
  for (const gate of ['softmax', 'laplace'] as const) {
    const two = assertGateSteps(canonicalizeGaussian(gaussianParamsFromAtoms(ATOMS, gate)), 2, `${gate}, two steps`);
    assert.equal(two.alphas.length, 2);
  }
});

test('variance floor, an expert without responsibility, the trace and the relative stopping rule', () => {
  // y = 1 + 2x₁ − x₂ exactly, one expert: the residual variance is 0 → the floor
  const exact: GaussianData = { n: 7, d: 2, X: Float64Array.from(X), Y: Float64Array.from({ length: 7 }, (_, t) => 1 + 2 * X[2 * t]! - X[2 * t + 1]!) };
  const one = gaussianParamsFromAtoms([{ beta: 0, W: [0, 0], a: [0, 0], b: 0, nu: 1 }], 'softmax');
  const fit = fitGaussianEm(exact, one, { maxIter: 1, minVariance: 0.0123, tol: 0 });
  close(fit.params.b[0]!, 1, 1e-9, 'b');
  close(fit.params.a[0]!, 2, 1e-9, 'a₁');
  close(fit.params.a[1]!, -1, 1e-9, 'a₂');
  assert.equal(fit.params.nu[0], 0.0123);
  // an expert whose gate weight is e^-60 of the other's gets no responsibility: its parameters stay
  const starved = gaussianParamsFromAtoms([{ ...ATOMS[0]!, beta: -60 }, ATOMS[1]!], 'softmax');
  const s = fitGaussianEm(data, starved, { maxIter: 1, gateSteps: 0, tol: 0 });
  assert.deepEqual([s.params.b[0], s.params.a[0], s.params.a[1], s.params.nu[0]], [0.2, 0.5, -1, 0.3]);
  // trace: ℓ(init) then one entry per iteration; stop at the first relative change ≤ tol
  const res = fitGaussianEm(data, gaussianParamsFromAtoms(ATOMS, 'laplace'), { tol: 1e-4, maxIter: 200, trace: true });
  const tr = res.trace!;
  assert.ok(res.converged);
  assert.equal(tr.length, res.iterations + 1);
  close(tr[0]!, gaussianLogLik(gaussianParamsFromAtoms(ATOMS, 'laplace'), data), 1e-12, 'trace[0]');
  close(tr[tr.length - 1]!, res.logLik, 0, 'last trace entry = logLik');
  const last = tr.length - 1;
  assert.ok(Math.abs(tr[last]! - tr[last - 1]!) <= 1e-4 * Math.abs(tr[last - 1]!));
  for (let i = 1; i < last; i++) assert.ok(Math.abs(tr[i]! - tr[i - 1]!) > 1e-4 * Math.abs(tr[i - 1]!), `stopped late at ${i}`);
  for (let i = 1; i < tr.length; i++) assert.ok(tr[i]! >= tr[i - 1]! - 1e-9 * Math.abs(tr[i - 1]!), `monotone at ${i}`);
  const capped = fitGaussianEm(data, gaussianParamsFromAtoms(ATOMS, 'laplace'), { tol: 0, maxIter: 3 });
  assert.deepEqual([capped.iterations, capped.converged], [3, false]);
});

test('rBar of Ho & Nguyen: 1, 4, 6, then 2m', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(rBar), [1, 1, 4, 6, 8, 10]);
});

const TRUTH: GaussianAtom[] = [
  { beta: 0.5, W: [1, 0], a: [0.5, -1], b: 0.2, nu: 0.3 },
  { beta: 0, W: [-1, 1], a: [-1, 0.3], b: -0.4, nu: 0.6 },
];

test('Voronoi losses by hand: an exact-specified fit (first-order terms) and an over-specified cell (exponents 2, 2, r̄, r̄/2)', () => {
  const truth = gaussianParamsFromAtoms(TRUTH, 'laplace');
  // exact: atom 0 perturbed, atom 1 = the truth's (β = 0, so the gauge shift t₀ is 0)
  const exact = gaussianParamsFromAtoms([{ beta: 0.6, W: [1.1, -0.2], a: [0.5, -0.7], b: 0.25, nu: 0.2 }, TRUTH[1]!], 'laplace');
  const e = gaussianVoronoiLosses(exact, truth);
  assert.deepEqual(e.cells, [[0], [1]]);
  const mass = Math.abs(Math.exp(0.6) - Math.exp(0.5));
  close(e.d2, mass + Math.exp(0.6) * (Math.sqrt(0.05) + 0.3 + 0.05 + 0.1), 1e-12, 'exact D₂');
  close(e.gate, mass + Math.exp(0.6) * Math.sqrt(0.05), 1e-12, 'exact gate loss');
  // over-specified: fitted atoms 0 and 1 near true atom 0 (masses 0.8 and 0.9), atom 2 = true atom 1
  const over = gaussianParamsFromAtoms(
    [
      { beta: Math.log(0.8), W: [1.1, 0], a: [0.6, -1], b: 0.2, nu: 0.3 },
      { beta: Math.log(0.9), W: [0.9, 0.1], a: [0.5, -1.2], b: 0.1, nu: 0.5 },
      TRUTH[1]!,
    ],
    'laplace',
  );
  const o = gaussianVoronoiLosses(over, truth);
  assert.deepEqual(o.cells, [[0, 1], [2]]);
  const m2 = Math.abs(1.7 - Math.exp(0.5));
  // r̄(2) = 4: |Δb|⁴ and |Δν|²
  const t0 = 0.8 * (0.01 + 0.01 + 0 + 0);
  const t1 = 0.9 * (0.02 + 0.04 + 0.1 ** 4 + 0.2 ** 2);
  close(o.d2, m2 + t0 + t1, 1e-12, 'over-specified D₂');
  close(o.gate, m2 + 0.8 * 0.1 + 0.9 * Math.sqrt(0.02), 1e-12, 'over-specified gate loss');
  // the truth against itself
  const self = gaussianVoronoiLosses(truth, truth);
  assert.deepEqual([self.d2, self.gate], [0, 0]);
});

test('Voronoi losses in the gauge: a common shift of every softmax gate (β + c, W + s) costs nothing; the same shift of a Laplace gate does', () => {
  const shifted = TRUTH.map((a) => ({ ...a, beta: a.beta + 0.7, W: [a.W[0]! + 0.4, a.W[1]! - 0.3] }));
  const s = gaussianVoronoiLosses(gaussianParamsFromAtoms(shifted, 'softmax'), gaussianParamsFromAtoms(TRUTH, 'softmax'));
  close(s.d2, 0, 1e-12, 'softmax D₂');
  close(s.gate, 0, 1e-12, 'softmax gate loss');
  // Laplace: only β is a gauge; W moved by ‖(0.4, −0.3)‖ = 0.5 in both cells, masses restored by t₀ = −0.7
  const l = gaussianVoronoiLosses(gaussianParamsFromAtoms(shifted, 'laplace'), gaussianParamsFromAtoms(TRUTH, 'laplace'));
  close(l.gate, Math.exp(0.5) * 0.5 + Math.exp(0) * 0.5, 1e-12, 'Laplace gate loss');
  close(l.d2, Math.exp(0.5) * 0.5 + 0.5, 1e-12, 'Laplace D₂');
});

test('Voronoi cells are decided by every part of θ: a fit that is the truth relabelled (and, for softmax, shifted) matches atom by atom', () => {
  // the true atoms differ only in W: the fit's atoms must be matched by W, after the gauge shift t₁
  const byW: GaussianAtom[] = [
    { beta: 0.5, W: [2, 0], a: [0.3, 0.3], b: 0.1, nu: 0.5 },
    { beta: 0, W: [-2, 0], a: [0.3, 0.3], b: 0.1, nu: 0.5 },
  ];
  // fit = truth with the atoms swapped, every gate moved by (β + 0.7, W + (1, 0)): the same softmax model
  const moved = [byW[1]!, byW[0]!].map((a) => ({ ...a, beta: a.beta + 0.7, W: [a.W[0]! + 1, a.W[1]!] }));
  const s = gaussianVoronoiLosses(gaussianParamsFromAtoms(moved, 'softmax'), gaussianParamsFromAtoms(byW, 'softmax'));
  assert.deepEqual(s.cells, [[1], [0]]);
  close(s.d2, 0, 1e-12, 'softmax D₂');
  // the true atoms differ only in a: matched by a
  const byA: GaussianAtom[] = [
    { beta: 0.5, W: [0.2, 0.1], a: [2, -1], b: 0.1, nu: 0.5 },
    { beta: 0, W: [0.2, 0.1], a: [-2, 1], b: 0.1, nu: 0.5 },
  ];
  const swapped = [byA[1]!, { ...byA[0]!, beta: 0.5 }];
  const l = gaussianVoronoiLosses(gaussianParamsFromAtoms(swapped, 'laplace'), gaussianParamsFromAtoms(byA, 'laplace'));
  assert.deepEqual(l.cells, [[1], [0]]);
  // masses: fitted atom 1 (β 0.5) in cell 0 (β* 0.5), fitted atom 0 (β 0) in cell 1 (β* 0): exact
  close(l.d2, 0, 1e-12, 'Laplace D₂');
});

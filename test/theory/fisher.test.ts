import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { parseGateTransform } from '../../src/theory/gateTransform.js';
import { symmetricEigen } from '../../src/theory/linalg.js';
import {
  mlogitExpectedLogLik,
  mlogitExpectedTv,
  mlogitFisherDiagnostics,
  mlogitFisherInformation,
  mlogitFreeParamCount,
  mlogitFreeParamNames,
  mlogitFreeParams,
  mlogitScoreAndInformation,
  mlogitWithFreeParams,
} from '../../src/theory/fisher.js';
import { initRandom } from '../../src/theory/mlogitEm.js';
import { mlogitLogLik, mlogitParamsFromAtoms, sampleCovariates, sampleMlogitMoe } from '../../src/theory/mlogitMoe.js';
import { gaussLegendre, monteCarloRule, uniformTensorRule } from '../../src/theory/quadrature.js';
import { overSpecifiedTruth, regimeTruth } from '../../src/theory/regimes.js';

test('Gauss–Legendre: m nodes integrate x^j exactly for j ≤ 2m − 1 on [−1, 1]', () => {
  for (const m of [1, 2, 5, 16, 64]) {
    const { nodes, weights } = gaussLegendre(m);
    for (let j = 0; j <= 2 * m - 1; j++) {
      let q = 0;
      for (let i = 0; i < m; i++) q += weights[i]! * nodes[i]! ** j;
      const exact = j % 2 === 1 ? 0 : 2 / (j + 1);
      assert.ok(Math.abs(q - exact) < 1e-13, `m=${m}, x^${j}: ${q} vs ${exact}`);
    }
  }
  // the U[0, 1]² tensor rule: E[X₁² X₂] = 1/3 · 1/2, weights sum to 1
  const r = uniformTensorRule(2, 4);
  let e = 0;
  let w = 0;
  for (let t = 0; t < r.count; t++) {
    e += r.weights[t]! * r.X[2 * t]! ** 2 * r.X[2 * t + 1]!;
    w += r.weights[t]!;
  }
  assert.ok(Math.abs(e - 1 / 6) < 1e-14 && Math.abs(w - 1) < 1e-14);
});

test('symmetricEigen: A = V Λ Vᵀ, V orthogonal, eigenvalues of a 2×2 by hand', () => {
  const two = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
  assert.ok(Math.abs(two.values[0]! - 1) < 1e-14 && Math.abs(two.values[1]! - 3) < 1e-14);
  const rng = new Rng(4);
  const n = 7;
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = rng.normal();
  const { values, vectors } = symmetricEigen(A, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let a = 0;
      let o = 0;
      for (let m = 0; m < n; m++) {
        a += vectors[i * n + m]! * values[m]! * vectors[j * n + m]!;
        o += vectors[m * n + i]! * vectors[m * n + j]!;
      }
      assert.ok(Math.abs(a - A[i * n + j]!) < 1e-12, 'reconstruction');
      assert.ok(Math.abs(o - (i === j ? 1 : 0)) < 1e-12, 'orthogonality');
    }
  }
  for (let m = 1; m < n; m++) assert.ok(values[m]! >= values[m - 1]!);
});

test('Fisher information = −(finite-difference Hessian of the expected log-likelihood) at the truth; symmetric, PSD', () => {
  // small case: k = 2 experts, K = 3 classes, d = 2, tanh gate, random parameters; X ~ U[0,1]² by 8×8 Gauss–Legendre
  const rng = new Rng(21);
  const truth = initRandom({ K: 3, d: 2, gate: parseGateTransform('tanh') }, 2, rng, 1);
  const rule = uniformTensorRule(2, 8);
  const p = mlogitFreeParamCount(truth);
  assert.equal(p, 3 + 2 * 2 * 3);
  assert.equal(mlogitFreeParamNames(truth).length, p);
  const I = mlogitFisherInformation(truth, rule);
  const theta0 = mlogitFreeParams(truth);
  const L = (th: Float64Array): number => mlogitExpectedLogLik(mlogitWithFreeParams(truth, th), truth, rule);
  const h = 1e-4;
  let maxErr = 0;
  let maxAbs = 0;
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      const at = (da: number, db: number): number => {
        const th = theta0.slice();
        th[a] = th[a]! + da;
        th[b] = th[b]! + db;
        return L(th);
      };
      const hess = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h);
      maxErr = Math.max(maxErr, Math.abs(hess + I[a * p + b]!));
      maxAbs = Math.max(maxAbs, Math.abs(I[a * p + b]!));
      assert.equal(I[a * p + b], I[b * p + a], 'symmetric');
    }
  }
  assert.ok(maxErr < 1e-6 * Math.max(1, maxAbs) + 1e-7, `max |H + I| = ${maxErr} (max |I| ${maxAbs})`);
  const { values } = symmetricEigen(I, p);
  assert.ok(values[0]! > -1e-14 * values[p - 1]!, `PSD: smallest eigenvalue ${values[0]}`);
  // a Monte-Carlo rule agrees with the quadrature to its sampling error
  const mc = mlogitFisherInformation(truth, monteCarloRule(sampleCovariates(20000, 2, { kind: 'uniform', lo: 0, hi: 1 }, new Rng(3)), 2, 'mc'));
  for (let j = 0; j < p * p; j++) assert.ok(Math.abs(mc[j]! - I[j]!) < 0.02 * maxAbs, 'MC vs quadrature');
});

test('data score and scoring matrix: score = finite-difference gradient of ℓ; E[scoring matrix]/n ≈ Fisher', () => {
  const rng = new Rng(8);
  const truth = initRandom({ K: 3, d: 1, gate: parseGateTransform('standard') }, 3, rng, 1);
  const data = sampleMlogitMoe(truth, 400, rng);
  const { logLik, grad, info } = mlogitScoreAndInformation(truth, data);
  assert.ok(Math.abs(logLik - mlogitLogLik(truth, data)) < 1e-9 * Math.abs(logLik));
  const th = mlogitFreeParams(truth);
  const h = 1e-6;
  th.forEach((_, j) => {
    const up = th.slice();
    const dn = th.slice();
    up[j] = up[j]! + h;
    dn[j] = dn[j]! - h;
    const fd = (mlogitLogLik(mlogitWithFreeParams(truth, up), data) - mlogitLogLik(mlogitWithFreeParams(truth, dn), data)) / (2 * h);
    assert.ok(Math.abs(fd - grad[j]!) < 1e-5 * (1 + Math.abs(fd)), `score ${j}: ${grad[j]} vs FD ${fd}`);
  });
  const p = th.length;
  const I = mlogitFisherInformation(truth);
  for (let j = 0; j < p; j++) assert.ok(Math.abs(info[j * p + j]! / 400 - I[j * p + j]!) < 0.25 * I[j * p + j]! + 1e-3, 'scoring matrix diagonal');
});

test('Regime 1 truth (k = 2): the near-singular Fisher spectrum and the b₂ standard error of issue 12', () => {
  const diag = mlogitFisherDiagnostics(regimeTruth(1, parseGateTransform('standard')), { seTol: 0.1 });
  // independent re-implementation quoted in issue 12: 1.3e-10, 2.1e-8, 7.5e-6, 7.9e-4, 1.5e-2, 0.25; se(b₂) ≈ 8.2e4/√n
  const expected = [1.3e-10, 2.1e-8, 7.5e-6, 7.9e-4, 1.5e-2, 0.25];
  diag.eigenvalues.forEach((v, m) => assert.ok(Math.abs(v / expected[m]! - 1) < 0.05, `eigenvalue ${m}: ${v}`));
  const j = diag.names.indexOf('b[2,1]');
  assert.ok(j >= 0);
  assert.ok(Math.abs(diag.seSqrtN[j]! / 8.2e4 - 1) < 0.02, `se(b[2,1])·√n = ${diag.seSqrtN[j]}`);
  assert.ok(Math.abs(diag.nForSe[j]! - diag.seSqrtN[j]! ** 2 / 0.01) < 1e-6 * diag.nForSe[j]!);
  assert.equal(diag.rank, 6);
  // the quadrature is converged: 32 and 64 nodes agree to 1e-6 relative on the smallest eigenvalue
  const coarse = mlogitFisherDiagnostics(regimeTruth(1, parseGateTransform('standard')), { rule: uniformTensorRule(1, 32) });
  assert.ok(Math.abs(coarse.eigenvalues[0]! / diag.eigenvalues[0]! - 1) < 1e-6);
});

test('over-specified truth: same law (TV 0), singular Fisher (rank 6 of 10), infinite standard errors', () => {
  const truth = regimeTruth(1, parseGateTransform('standard'));
  const over = overSpecifiedTruth(truth, 3);
  assert.equal(over.k, 3);
  assert.ok(mlogitExpectedTv(over, truth) < 1e-15);
  const diag = mlogitFisherDiagnostics(over);
  assert.equal(diag.eigenvalues.length, 10);
  assert.equal(diag.rank, 6);
  assert.ok(diag.seSqrtN.some((s) => s === Infinity));
});

test('E_X TV distance: hand-computed value for one-expert models, 0 at the truth', () => {
  const gate = parseGateTransform('standard');
  const m1 = mlogitParamsFromAtoms([{ beta0: 0, beta1: [0], a: [0.3, 0], b: [[0], [0]] }], gate);
  const m2 = mlogitParamsFromAtoms([{ beta0: 0, beta1: [0], a: [-0.4, 0], b: [[0], [0]] }], gate);
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  assert.ok(Math.abs(mlogitExpectedTv(m1, m2) - (sig(0.3) - sig(-0.4))) < 1e-14);
  // slope b: TV = ∫₀¹ |σ(bx) − σ(0)| dx = (log(1 + e^b) − log 2)/b − 1/2 for b > 0
  const m3 = mlogitParamsFromAtoms([{ beta0: 0, beta1: [0], a: [0, 0], b: [[2], [0]] }], gate);
  const m4 = mlogitParamsFromAtoms([{ beta0: 0, beta1: [0], a: [0, 0], b: [[0], [0]] }], gate);
  assert.ok(Math.abs(mlogitExpectedTv(m3, m4) - ((Math.log(1 + Math.exp(2)) - Math.log(2)) / 2 - 0.5)) < 1e-13);
  const t = regimeTruth(2, parseGateTransform('sigmoid'));
  assert.equal(mlogitExpectedTv(t, t), 0);
});

test('the package root exposes the identifiability view for a fitted small MoE (theory.mlogitFisherDiagnostics)', async () => {
  const { theory } = await import('../../src/index.js');
  const truth = theory.regimeTruth(2, theory.parseGateTransform('standard'));
  const rng = new Rng(2);
  const data = theory.sampleMlogitMoe(truth, 2000, rng);
  const fit = theory.fitMlogitEm(data, theory.initFromTruth(truth, 2, rng, 0.05), { tol: 1e-8 });
  const diag = theory.mlogitFisherDiagnostics(fit.params, { seTol: 0.5 });
  assert.equal(diag.eigenvalues.length, 6);
  assert.ok(diag.seSqrtN.every((s) => s > 0 && Number.isFinite(s)));
  assert.ok(diag.nForSe.every((n, j) => Math.abs(n - (diag.seSqrtN[j]! / 0.5) ** 2) < 1e-9 * n));
});

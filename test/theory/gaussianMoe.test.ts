import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import {
  fitGaussianEm,
  gaussianGateInternals,
  gaussianLogLik,
  gaussianParamsFromAtoms,
  gaussianVoronoiLosses,
  sampleGaussianMoe,
  type GaussianMoeParams,
} from '../../src/theory/gaussianMoe.js';
import { assertGateGradientMatchesFd, type GateSetter } from './gateGradientFd.js';
import { gaussianInitFromTruth, gaussianTruth, runGaussianUnit } from '../../src/theory/gaussianStudy.js';

/**
 * The gate of FuseMoE eq. 5 written out independently of src/theory/gaussianMoe.ts, for d = 1:
 * softmax hᵢ = Wᵢx + βᵢ, Laplace hᵢ = βᵢ − |Wᵢ − x|; π = softmax(h).
 */
function handGate(p: GaussianMoeParams, x: number): number[] {
  const h = Array.from({ length: p.k }, (_, i) => (p.gate === 'softmax' ? p.W[i]! * x + p.beta[i]! : p.beta[i]! - Math.abs(p.W[i]! - x)));
  const m = Math.max(...h);
  const e = h.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

test('Gaussian MoE sampler: mean and variance of y per x-bin match the model (hand-written gate)', () => {
  for (const gate of ['softmax', 'laplace'] as const) {
    const p = gaussianTruth(gate);
    const n = 50000;
    const data = sampleGaussianMoe(p, n, new Rng(1));
    const bins = 4;
    const sum = new Array<number>(bins).fill(0);
    const sumSq = new Array<number>(bins).fill(0);
    const expMean = new Array<number>(bins).fill(0);
    const expSecond = new Array<number>(bins).fill(0);
    const cnt = new Array<number>(bins).fill(0);
    for (let t = 0; t < n; t++) {
      const x = data.X[t]!;
      const b = Math.min(bins - 1, Math.floor(((x + 1) / 2) * bins));
      const g = handGate(p, x);
      // E[y | x] = Σ πᵢμᵢ, E[y² | x] = Σ πᵢ(νᵢ + μᵢ²)
      let m = 0;
      let m2 = 0;
      for (let i = 0; i < p.k; i++) {
        const mu = p.a[i]! * x + p.b[i]!;
        m += g[i]! * mu;
        m2 += g[i]! * (p.nu[i]! + mu * mu);
      }
      sum[b] = sum[b]! + data.Y[t]!;
      sumSq[b] = sumSq[b]! + data.Y[t]! ** 2;
      expMean[b] = expMean[b]! + m;
      expSecond[b] = expSecond[b]! + m2;
      cnt[b] = cnt[b]! + 1;
    }
    for (let b = 0; b < bins; b++) {
      const c = cnt[b]!;
      const diff = Math.abs(sum[b]! - expMean[b]!) / c;
      assert.ok(diff < 0.02, `${gate} bin ${b}: |Δmean| = ${diff}`);
      // variance within the bin: E[y²] − E[y]², observed vs model (the model's includes the spread of the mean over the bin)
      const obsVar = sumSq[b]! / c - (sum[b]! / c) ** 2;
      const expVar = expSecond[b]! / c - (expMean[b]! / c) ** 2;
      assert.ok(Math.abs(obsVar - expVar) < 0.03 * expVar + 0.01, `${gate} bin ${b}: variance ${obsVar} vs ${expVar}`);
    }
  }
});

test('Gaussian MoE EM is monotone for both gates', () => {
  for (const gate of ['softmax', 'laplace'] as const) {
    const truth = gaussianTruth(gate);
    const rng = new Rng(7);
    const data = sampleGaussianMoe(truth, 1500, rng);
    const res = fitGaussianEm(data, gaussianInitFromTruth(truth, 3, rng, 0.3), { maxIter: 40, tol: 0, trace: true });
    const tr = res.trace!;
    for (let i = 1; i < tr.length; i++) assert.ok(tr[i]! >= tr[i - 1]! - 1e-9 * Math.abs(tr[i - 1]!), `${gate} it ${i}: ${tr[i - 1]} → ${tr[i]}`);
    assert.ok(Math.abs(res.logLik - gaussianLogLik(res.params, data)) < 1e-8 * Math.abs(res.logLik));
  }
});

test('Laplace gate Fisher-scoring gradient matches finite differences of Q_gate', () => {
  const truth = gaussianTruth('laplace');
  const rng = new Rng(3);
  const data = sampleGaussianMoe(truth, 300, rng);
  const p = gaussianInitFromTruth(truth, 3, rng, 0.5);
  const r = new Float64Array(data.n * 3);
  gaussianGateInternals.eStep(gaussianInitFromTruth(truth, 3, rng, 0.5), data, r);
  // layout: β₀, β₁ (k−1 = 2), then W₀, W₁, W₂ (d = 1)
  const setters: GateSetter[] = [
    (q, v) => (q.beta[0] = q.beta[0]! + v),
    (q, v) => (q.beta[1] = q.beta[1]! + v),
    (q, v) => (q.W[0] = q.W[0]! + v),
    (q, v) => (q.W[1] = q.W[1]! + v),
    (q, v) => (q.W[2] = q.W[2]! + v),
  ];
  assertGateGradientMatchesFd(p, data, r, setters, 'laplace');
});

test('Gaussian Voronoi losses: 0 at the truth and for a mass-preserving split; positive away', () => {
  for (const gate of ['softmax', 'laplace'] as const) {
    const t = gaussianTruth(gate);
    assert.equal(gaussianVoronoiLosses(t, t).d2, 0);
    const split = gaussianParamsFromAtoms(
      [
        { beta: 0.5 + Math.log(0.4), W: [1.5], a: [2], b: 1, nu: 0.25 },
        { beta: 0.5 + Math.log(0.6), W: [1.5], a: [2], b: 1, nu: 0.25 },
        { beta: 0, W: [0], a: [-1], b: -0.5, nu: 0.16 },
      ],
      gate,
    );
    const l = gaussianVoronoiLosses(split, t);
    assert.ok(l.d2 < 1e-12 && l.gate < 1e-12, `${gate}: ${l.d2}`);
    const off = gaussianParamsFromAtoms(
      [
        { beta: 0.5, W: [1.7], a: [2], b: 1.1, nu: 0.25 },
        { beta: 0, W: [0], a: [-1], b: -0.5, nu: 0.16 },
      ],
      gate,
    );
    const lo = gaussianVoronoiLosses(off, t);
    // singleton cells: first powers; W off by 0.2, b by 0.1, mass e^0.5
    assert.ok(Math.abs(lo.d2 - Math.exp(0.5) * 0.3) < 1e-12, `${gate}: d2 = ${lo.d2}`);
    assert.ok(Math.abs(lo.gate - Math.exp(0.5) * 0.2) < 1e-12, `${gate}: gate = ${lo.gate}`);
  }
});

test('one Gaussian study unit runs and is deterministic', () => {
  const cfg = { kind: 'gaussian-moe' as const, gate: 'laplace' as const, k: 3, seed: 1, init: 'truth' as const, initSd: 0.01, tol: 1e-6, maxIter: 200, loss: 'gate' as const };
  const a = runGaussianUnit(cfg, 2000, 0);
  const b = runGaussianUnit(cfg, 2000, 0);
  assert.equal(a.loss, b.loss);
  assert.ok(Number.isFinite(a.loss) && a.loss >= 0);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { parseGateTransform } from '../../src/theory/gateTransform.js';
import { initRandom } from '../../src/theory/mlogitEm.js';
import { mlogitClassProbs, mlogitLogLik, sampleMlogitMoe, type MlogitMoeParams } from '../../src/theory/mlogitMoe.js';
import { regimeTruth } from '../../src/theory/regimes.js';

/**
 * P(Y = s | x) of seed 002 eq. 1 / eq. 8 written out independently of src/theory/mlogitMoe.ts:
 * Σᵢ softmaxᵢ(β₀ᵢ + β₁ᵢᵀM(x)) · softmax_s(a_{is} + b_{is}ᵀx), with M the identity or x/‖x‖.
 */
function handClassProbs(p: MlogitMoeParams, x: ArrayLike<number>): number[] {
  const { k, K, d } = p;
  const xs = Array.from(x);
  const norm = Math.sqrt(xs.reduce((a, v) => a + v * v, 0));
  const mx = p.gate.kind === 'l2normalize' ? xs.map((v) => (norm > 0 ? v / norm : 0)) : p.gate.kind === 'identity' ? xs : null;
  if (!mx) throw new Error(`handClassProbs: no hand formula for gate ${p.gate.kind}`);
  const softmax = (v: number[]): number[] => {
    const m = Math.max(...v);
    const e = v.map((u) => Math.exp(u - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((u) => u / s);
  };
  const gate = softmax(Array.from({ length: k }, (_, i) => p.beta0[i]! + mx.reduce((a, v, c) => a + p.beta1[i * d + c]! * v, 0)));
  const out = new Array<number>(K).fill(0);
  for (let i = 0; i < k; i++) {
    const f = softmax(Array.from({ length: K }, (_, s) => p.a[i * K + s]! + xs.reduce((a, v, c) => a + p.b[(i * K + s) * d + c]! * v, 0)));
    for (let s = 0; s < K; s++) out[s] = out[s]! + gate[i]! * f[s]!;
  }
  return out;
}

/** Pearson χ² of observed vs expected counts over (X-bin, class) cells. */
function chiSquare(obs: number[], exp: number[]): number {
  let s = 0;
  for (let i = 0; i < obs.length; i++) s += (obs[i]! - exp[i]!) ** 2 / exp[i]!;
  return s;
}

test('sampler class frequencies match the model probabilities per X-bin (χ²)', () => {
  for (const [name, params, dist] of [
    ['Regime 1 (App. D)', regimeTruth(1, parseGateTransform('standard')), { kind: 'uniform', lo: 0, hi: 1 }],
    ['random k=3, K=3, d=2, l2-normalize gate', initRandom({ K: 3, d: 2, gate: parseGateTransform('l2-normalize') }, 3, new Rng(4), 1.5), { kind: 'normal', mean: 0, sd: 1 }],
  ] as const) {
    const n = 60000;
    const data = sampleMlogitMoe(params, n, new Rng(99), dist);
    const bins = 6;
    const K = params.K;
    const obs = new Array<number>(bins * K).fill(0);
    const exp = new Array<number>(bins * K).fill(0);
    for (let t = 0; t < n; t++) {
      const x = data.X.subarray(t * params.d, (t + 1) * params.d);
      // bin on the first coordinate's rank-free position
      const u = dist.kind === 'uniform' ? x[0]! : 0.5 * (1 + Math.tanh(x[0]! * 0.8));
      const bin = Math.min(bins - 1, Math.floor(u * bins));
      obs[bin * K + data.Y[t]!]!++;
      const pr = handClassProbs(params, x);
      for (let s = 0; s < K; s++) exp[bin * K + s] = exp[bin * K + s]! + pr[s]!;
    }
    const chi = chiSquare(obs, exp);
    // df ≈ bins·(K−1); the 99.9 % quantile of χ²(12) is 32.9, of χ²(6) 22.5
    const limit = K === 2 ? 22.5 : 32.9;
    assert.ok(chi < limit, `${name}: χ² = ${chi.toFixed(2)} (limit ${limit})`);
  }
});

test('class probabilities sum to 1 and the log-likelihood equals Σ log P(y|x)', () => {
  const p = initRandom({ K: 4, d: 3, gate: parseGateTransform('pow3') }, 3, new Rng(2), 1);
  const data = sampleMlogitMoe(p, 200, new Rng(3), { kind: 'normal', mean: 0, sd: 1 });
  let ll = 0;
  for (let t = 0; t < data.n; t++) {
    const pr = mlogitClassProbs(p, data.X.subarray(t * 3, t * 3 + 3));
    assert.ok(Math.abs(pr.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    if (t < 20) {
      // identity-gate twin of p against the hand formula (pow3 has none there): same experts, M(x) = x
      const id = { ...p, gate: parseGateTransform('identity') };
      const hand = handClassProbs(id, data.X.subarray(t * 3, t * 3 + 3));
      mlogitClassProbs(id, data.X.subarray(t * 3, t * 3 + 3)).forEach((v, s) => assert.ok(Math.abs(v - hand[s]!) < 1e-12, `P(Y=${s}|x) ${v} vs ${hand[s]}`));
    }
    ll += Math.log(pr[data.Y[t]!]!);
  }
  assert.ok(Math.abs(ll - mlogitLogLik(p, data)) < 1e-9 * Math.abs(ll));
});

test('gate transforms: names parse and bad names name the flag', () => {
  for (const g of ['standard', 'sigmoid', 'tanh', 'cos', 'sin', 'log-abs', 'l2-normalize', 'pow3']) parseGateTransform(g);
  assert.throws(() => parseGateTransform('relu'), /--gate.*relu/);
});

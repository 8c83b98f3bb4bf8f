// Mutation checks for src/moe/softMoe.ts: the whole layer (group-residual switch, dispatch,
// combine, experts, output) against a naive nested-loop Soft MoE written here (Puigcerver et al.
// 2023; REMIND eqs. 5–8, the file comment of softMoe.ts):
//   x̂ = x/‖x‖ (per token), Φ̂ = s·Φ/‖Φ‖ (per slot column), L[t, s] = Σ_d x̂[t, d]·Φ̂[d, s],
//   D[t, s] = exp L[t, s] / Σ_{valid t'} exp L[t', s] (0 for a masked token),
//   slot_s = Σ_t D[t, s]·x[t], out_s = f_{⌊s/p⌋}(slot_s), C[t, s] = exp L[t, s] / Σ_{s'} exp L[t, s'],
//   y[t] = Σ_s C[t, s]·out_s, f_i(z) = W2ᵀ gelu(W1ᵀ z + b1) + b2, gelu(z) = z·σ(1.702 z);
//   switch (eq. 8): mean over valid tokens of H(softmax_s L_shared[t, ·]) > threshold·ln S → Φ = Φ + Φ_k.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { paramName } from '../../src/engine/params.js';
import { FlexiModalError } from '../../src/errors.js';
import { ExpertPool } from '../../src/moe/experts.js';
import { SoftMoE } from '../../src/moe/softMoe.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

let counter = 0;
const uniq = (s: string) => `${s}${counter++}`;
const gelu = (z: number) => z / (1 + Math.exp(-1.702 * z));

type M = number[][];
const mat = (v: tf.Tensor) => v.arraySync() as M;

/** The naive Soft MoE of the file comment for one sample; returns D [T][S], C [T][S], y [T][d]. */
function naiveSample(x: M, mask: number[], phi: M, scale: number, experts: Array<{ w1: M; b1: number[]; w2: M; b2: number[] }>, p: number) {
  const T = x.length;
  const d = x[0]!.length;
  const S = phi[0]!.length;
  const colNorm = [...Array(S).keys()].map((s) => Math.sqrt(phi.reduce((a, row) => a + row[s]! ** 2, 0) + 1e-6));
  const L: M = x.map((row) => {
    const n = Math.sqrt(row.reduce((a, v) => a + v * v, 0) + 1e-6);
    return [...Array(S).keys()].map((s) => {
      let l = 0;
      for (let k = 0; k < d; k++) l += (row[k]! / n) * ((phi[k]![s]! / colNorm[s]!) * scale);
      return l;
    });
  });
  const D: M = L.map(() => new Array<number>(S).fill(0));
  for (let s = 0; s < S; s++) {
    let z = 0;
    for (let t = 0; t < T; t++) if (mask[t]) z += Math.exp(L[t]![s]!);
    for (let t = 0; t < T; t++) D[t]![s] = mask[t] ? Math.exp(L[t]![s]!) / z : 0;
  }
  const out: M = [];
  for (let s = 0; s < S; s++) {
    const slot = new Array<number>(d).fill(0);
    for (let t = 0; t < T; t++) for (let k = 0; k < d; k++) slot[k]! += D[t]![s]! * x[t]![k]!;
    const e = experts[Math.floor(s / p)]!;
    const H = e.b1.length;
    const h = [...Array(H).keys()].map((j) => gelu(slot.reduce((a, v, k) => a + v * e.w1[k]![j]!, e.b1[j]!)));
    out.push([...Array(d).keys()].map((k) => h.reduce((a, v, j) => a + v * e.w2[j]![k]!, e.b2[k]!)));
  }
  const C: M = L.map((row) => {
    const z = row.reduce((a, v) => a + Math.exp(v), 0);
    return row.map((v) => Math.exp(v) / z);
  });
  const y: M = C.map((row) => [...Array(d).keys()].map((k) => row.reduce((a, c, s) => a + c * out[s]![k]!, 0)));
  return { L, D, C, y };
}

/** Mean entropy over the valid tokens of softmax_s(L[t, ·]). */
function meanEntropy(L: M, mask: number[]): number {
  let H = 0;
  let n = 0;
  L.forEach((row, t) => {
    if (!mask[t]) return;
    const z = row.reduce((a, v) => a + Math.exp(v), 0);
    for (const v of row) H -= (Math.exp(v) / z) * Math.log(Math.exp(v) / z);
    n++;
  });
  return H / n;
}

function near(got: ArrayLike<number>, want: number[], tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) <= tol, `${what}[${i}] = ${got[i]} vs ${w}`));
}

test('Soft MoE with group residual on one of two samples: switch, dispatch, combine and output against the naive loops', () => {
  const d = 3;
  const p = 2;
  const S = 4;
  const moe = new SoftMoE(uniq('smc'), { dim: d, hidden: 3, numExperts: 2, slotsPerExpert: p, residual: { numGroups: 3, metric: 'entropy', threshold: 0.9 } }, new Rng(3));
  try {
    // Φ_shared: slot columns ±e1, ±e2 (unit norm); scale 4; residuals: Φ_1 = 0.3 everywhere, Φ_2 moves every slot towards ±e3
    const phi: M = [
      [1, 0, -1, 0],
      [0, 1, 0, -1],
      [0, 0, 0, 0],
    ];
    const res: M[] = [
      [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
      [[0.3, 0.3, 0.3, 0.3], [0.3, 0.3, 0.3, 0.3], [0.3, 0.3, 0.3, 0.3]],
      [[0.2, -0.1, 0.4, 0], [0.1, 0.3, -0.2, 0.5], [1.5, -0.8, 0.6, -1.2]],
    ];
    moe.phi.assign(tf.tensor2d(phi));
    moe.scale.assign(tf.tensor1d([4]));
    moe.residual!.assign(tf.tensor3d(res));
    const ev = moe.experts.variables();
    // nonzero biases, so that the experts are affine
    ev[1]!.assign(tf.tensor1d([0.1, -0.2, 0.3]));
    ev[3]!.assign(tf.tensor1d([0.05, 0, -0.1]));
    ev[5]!.assign(tf.tensor1d([-0.3, 0.2, 0]));
    ev[7]!.assign(tf.tensor1d([0, 0.4, 0.1]));
    const experts = [0, 1].map((i) => ({ w1: mat(ev[4 * i]!), b1: ev[4 * i + 1]!.arraySync() as number[], w2: mat(ev[4 * i + 2]!), b2: ev[4 * i + 3]!.arraySync() as number[] }));
    // sample 0 (group 1): tokens along the slot directions → peaked routing (no switch)
    // sample 1 (group 2): tokens along e3, orthogonal to Φ_shared → near-uniform routing (switch); token 2 masked
    const xs: M[] = [
      [[2, 0, 0.1], [0, 1, 0.2], [1, -1, 0]],
      [[0, 0, 1], [0.1, 0, 2], [0.5, 0.5, -1]],
    ];
    const masks = [
      [1, 1, 1],
      [1, 1, 0],
    ];
    const groups = [1, 2];
    const out = moe.apply(tf.tensor3d(xs), { tokenMask: Float32Array.from(masks.flat()), groupIds: Int32Array.from(groups), withWeights: true });

    const wantSwitch = xs.map((x, b) => (meanEntropy(naiveSample(x, masks[b]!, phi, 4, experts, p).L, masks[b]!) > 0.9 * Math.log(S) ? 1 : 0));
    assert.deepEqual(wantSwitch, [0, 1]);
    assert.deepEqual(Array.from(out.routing.switched), wantSwitch);
    const want = xs.map((x, b) => {
      const phiB = wantSwitch[b] ? phi.map((row, k) => row.map((v, s) => v + res[groups[b]!]![k]![s]!)) : phi;
      return naiveSample(x, masks[b]!, phiB, 4, experts, p);
    });
    near(out.routing.dispatch!, want.flatMap((w) => w.D.flat()), 1e-5, 'dispatch D [B, T, S]');
    near(out.routing.combine!, want.flatMap((w) => w.C.flat()), 1e-5, 'combine C [B, T, S]');
    near(out.y.dataSync(), want.flatMap((w) => w.y.flat()), 1e-5, 'y [B, T, d]');
  } finally {
    moe.variables().forEach((v) => v.dispose());
  }
});

test('Soft MoE init: Φ = LeCun normal draws N(0, 1)/√d, then the experts from the same rng; scale [1] = 1; names and trainable flags', () => {
  const dim = 3;
  const S = 2 * 2;
  const name = uniq('sinit');
  const moe = new SoftMoE(name, { dim, hidden: 2, numExperts: 2, slotsPerExpert: 2, residual: { numGroups: 2, metric: 'kl', threshold: 0.1 } }, new Rng(11));
  const rng = new Rng(11);
  const wantPhi = Array.from({ length: dim * S }, () => rng.normal() / Math.sqrt(dim));
  // the rng continues into the expert pool exactly where the Φ draws stopped
  const pool = new ExpertPool(uniq('spool'), { dim, hidden: 2, numExperts: 2 }, rng);
  try {
    near(moe.phi.dataSync(), wantPhi, 1e-6, 'phi');
    assert.deepEqual(moe.phi.shape, [dim, S]);
    moe.experts.variables().forEach((v, i) => near(v.dataSync(), Array.from(pool.variables()[i]!.dataSync()), 0, `expert variable ${i}`));
    assert.deepEqual(moe.scale.shape, [1]);
    assert.deepEqual(Array.from(moe.scale.dataSync()), [1]);
    assert.deepEqual(moe.residual!.shape, [2, dim, S]);
    assert.equal(paramName(moe.phi), `${name}.gate.phi`);
    assert.equal(paramName(moe.scale), `${name}.gate.scale`);
    assert.equal(paramName(moe.residual!), `${name}.gate.residual`);
    for (const v of [moe.phi, moe.scale, moe.residual!]) assert.equal(v.trainable, true, paramName(v));
    // variables(): Φ, scale, the residual, then 4 per expert
    assert.deepEqual(moe.variables().map(paramName).slice(0, 3), [`${name}.gate.phi`, `${name}.gate.scale`, `${name}.gate.residual`]);
    assert.equal(moe.variables().length, 3 + 4 * 2);
  } finally {
    moe.variables().forEach((v) => v.dispose());
    pool.variables().forEach((v) => v.dispose());
  }
});

test('residual routing: group ids must be one per sample, each in [0, G); 0 accepted, −1 and a wrong count refused', () => {
  const moe = new SoftMoE(uniq('sref'), { dim: 2, hidden: 2, numExperts: 2, slotsPerExpert: 1, residual: { numGroups: 2, metric: 'entropy', threshold: 0.5 } }, new Rng(1));
  try {
    const x = tf.tensor3d([[[1, 0], [0, 1]]]);
    assert.deepEqual(moe.apply(x, { groupIds: Int32Array.from([0]) }).y.shape, [1, 2, 2]);
    const refused = (ids: number[], re: RegExp) =>
      assert.throws(() => moe.apply(x, { groupIds: Int32Array.from(ids) }), (e: unknown) => e instanceof FlexiModalError && re.test(e.message));
    refused([0, 1], /residual routing needs one group id per sample/);
    refused([-1], /group id -1 outside \[0, 2\)/);
    refused([2], /group id 2 outside \[0, 2\)/);
  } finally {
    moe.variables().forEach((v) => v.dispose());
  }
});

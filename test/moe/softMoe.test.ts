import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { gradCheck } from '../../src/engine/gradcheck.js';
import { SoftMoE, softMoeMix, normalizeRouter, normalizeTokens } from '../../src/moe/softMoe.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

let counter = 0;
/** A fresh layer with a unique name (tf.js variable names are global). */
function layer(cfg: Partial<ConstructorParameters<typeof SoftMoE>[1]> = {}, seed = 5, name = `smoe${counter++}`): SoftMoE {
  return new SoftMoE(name, { dim: 4, hidden: 6, numExperts: 3, slotsPerExpert: 2, ...cfg }, new Rng(seed));
}

const gelu = (z: number) => z / (1 + Math.exp(-1.702 * z));

test('hand-computed 2-token, 2-expert case: dispatch, combine and output', () => {
  const moe = layer({ dim: 2, hidden: 2, numExperts: 2, slotsPerExpert: 1 });
  try {
    // Φ = I, scale 1; expert i: f_i(z) = c_i · gelu(z) (w1 = I, w2 = c_i·I, zero biases)
    moe.phi.assign(tf.tensor2d([1, 0, 0, 1], [2, 2]));
    const c = [1, -2];
    const [e0, e1] = [moe.experts.variables().slice(0, 4), moe.experts.variables().slice(4)];
    for (const [i, vars] of [e0!, e1!].entries()) {
      vars[0]!.assign(tf.tensor2d([1, 0, 0, 1], [2, 2]));
      vars[1]!.assign(tf.zeros([2]));
      vars[2]!.assign(tf.tensor2d([c[i]!, 0, 0, c[i]!], [2, 2]));
      vars[3]!.assign(tf.zeros([2]));
    }
    // x = [[1, 0], [0, 2]]: normalised tokens are e1, e2, so the logits are the identity
    const x = tf.tensor3d([1, 0, 0, 2], [1, 2, 2]);
    const out = moe.apply(x, { withWeights: true });
    const a = Math.E / (Math.E + 1);
    const b = 1 / (Math.E + 1);
    // D [T, S]: slot 0 column [a, b], slot 1 column [b, a]; C rows: token 0 [a, b], token 1 [b, a]
    const near = (got: Float32Array, want: number[]) => want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) < 1e-5, `${got[i]} vs ${w}`));
    near(out.routing.dispatch!, [a, b, b, a]);
    near(out.routing.combine!, [a, b, b, a]);
    // slot inputs: slot 0 = a·x0 + b·x1 = [a, 2b], slot 1 = [b, 2a]; expert outputs c_i·gelu(·)
    const y0 = [gelu(a), gelu(2 * b)].map((v) => c[0]! * v);
    const y1 = [gelu(b), gelu(2 * a)].map((v) => c[1]! * v);
    const expected = [0, 1].flatMap((dim) => [a * y0[dim]! + b * y1[dim]!]).concat([0, 1].flatMap((dim) => [b * y0[dim]! + a * y1[dim]!]));
    const got = Array.from(out.y.dataSync());
    expected.forEach((e, i) => assert.ok(Math.abs(got[i]! - e) < 1e-5, `y[${i}] = ${got[i]} vs ${e}`));
    // a masked third token gets no dispatch weight and leaves the other tokens' outputs unchanged
    const x3 = tf.tensor3d([1, 0, 0, 2, 5, -3], [1, 3, 2]);
    const out3 = moe.apply(x3, { tokenMask: Float32Array.from([1, 1, 0]), withWeights: true });
    assert.deepEqual(Array.from(out3.routing.dispatch!.slice(4)), [0, 0]);
    const got3 = Array.from(out3.y.dataSync()).slice(0, 4);
    got3.forEach((v, i) => assert.ok(Math.abs(v - got[i]!) < 1e-6));
  } finally {
    moe.variables().forEach((v) => v.dispose());
  }
});

test('dispatch columns sum to 1 over valid tokens, combine rows sum to 1; a fully masked sample dispatches nothing', () => {
  const moe = layer();
  try {
    const x = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 3) as tf.Tensor3D;
    const mask = Float32Array.from([1, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
    const { routing } = moe.apply(x, { tokenMask: mask, withWeights: true });
    const S = moe.numSlots;
    for (let s = 0; s < S; s++) {
      let col = 0;
      for (let t = 0; t < 5; t++) col += routing.dispatch![(0 * 5 + t) * S + s]!;
      assert.ok(Math.abs(col - 1) < 1e-5);
      for (let t = 0; t < 5; t++) assert.equal(routing.dispatch![(1 * 5 + t) * S + s], 0);
      assert.equal(routing.dispatch![(0 * 5 + 1) * S + s], 0);
    }
    for (let r = 0; r < 10; r++) {
      const row = routing.combine!.slice(r * S, (r + 1) * S).reduce((a, v) => a + v, 0);
      assert.ok(Math.abs(row - 1) < 1e-5);
    }
  } finally {
    moe.variables().forEach((v) => v.dispose());
  }
});

test('permutation-equivariant in the tokens (with a mask and residual routing)', () => {
  const moe = layer({ residual: { numGroups: 4, metric: 'entropy', threshold: 0 } });
  try {
    moe.residual!.assign(tf.randomNormal([4, 4, 6], 0, 1, 'float32', 8));
    const T = 6;
    const x = tf.randomNormal([2, T, 4], 0, 1, 'float32', 4) as tf.Tensor3D;
    const mask = Float32Array.from([1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1]);
    const groupIds = Int32Array.from([1, 3]);
    const perm = [4, 0, 5, 2, 1, 3];
    const xp = tf.tidy(() => tf.stack(tf.unstack(x, 1).map((_, t, all) => all[perm[t]!]!), 1)) as tf.Tensor3D;
    const maskP = Float32Array.from([0, 1].flatMap((b) => perm.map((p) => mask[b * T + p]!)));
    const y = moe.apply(x, { tokenMask: mask, groupIds }).y.arraySync();
    const yp = moe.apply(xp, { tokenMask: maskP, groupIds }).y.arraySync();
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < T; t++) {
        yp[b]![t]!.forEach((v, k) => assert.ok(Math.abs(v - y[b]![perm[t]!]![k]!) < 1e-5));
      }
    }
  } finally {
    moe.variables().forEach((v) => v.dispose());
  }
});

test('finite-difference gradients of the Soft MoE mixing w.r.t. tokens, Φ, scale and a group residual', () => {
  const moe = layer({ dim: 3, hidden: 4, numExperts: 2, slotsPerExpert: 2 });
  try {
    const B = 2;
    const T = 3;
    const mask = tf.tensor2d([1, 1, 0, 1, 1, 1], [B, T]);
    const R = tf.randomNormal([B, T, 3], 0, 1, 'float32', 11);
    const groups = tf.tensor1d([0, 1], 'int32');
    const f = (x: tf.Tensor, phi: tf.Tensor, scale: tf.Tensor, residual: tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const phiB = normalizeRouter(tf.add(phi, tf.gather(residual, groups)), scale) as tf.Tensor3D; // [B, d, S]
        const logits = tf.matMul(normalizeTokens(x) as tf.Tensor3D, phiB) as tf.Tensor3D;
        const experts = (slots: tf.Tensor3D) => {
          const parts = tf.split(slots, 2, 1) as tf.Tensor3D[];
          return tf.concat(parts.map((s, i) => tf.reshape(moe.experts.expert(i, tf.reshape(s, [B * 2, 3]) as tf.Tensor2D), [B, 2, 3])), 1) as tf.Tensor3D;
        };
        return tf.sum(tf.mul(softMoeMix(x as tf.Tensor3D, logits, mask as tf.Tensor2D, experts).y, R)) as tf.Scalar;
      });
    const x = tf.randomNormal([B, T, 3], 0, 1, 'float32', 12);
    const phi = tf.randomNormal([3, 4], 0, 1, 'float32', 13);
    const scale = tf.tensor1d([1.7]);
    const residual = tf.randomNormal([2, 3, 4], 0, 0.5, 'float32', 14);
    const r = gradCheck(f, [x, phi, scale, residual], { eps: 1e-2, maxEntries: 24 });
    assert.ok(r.checked > 40);
    assert.ok(r.maxRelError < 2e-2, `max relative error ${r.maxRelError}`);
  } finally {
    moe.variables().forEach((v) => v.dispose());
  }
});

test('zero residuals: output identical to shared routing; Φ_k gets gradient only from switched samples of group k', () => {
  const shared = layer({}, 9);
  const withRes = layer({ residual: { numGroups: 4, metric: 'entropy', threshold: 0 } }, 9);
  try {
    const x = tf.randomNormal([4, 5, 4], 0, 1, 'float32', 21) as tf.Tensor3D;
    const groupIds = Int32Array.from([1, 1, 2, 3]);
    const a = shared.apply(x).y.dataSync();
    const r = withRes.apply(x, { groupIds });
    assert.deepEqual(Array.from(r.routing.switched), [1, 1, 1, 1]);
    const b = r.y.dataSync();
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-5, `y[${i}] ${v} vs ${b[i]}`));

    // loss on the samples of group 1 only → only Φ_1 moves
    const weightOf = (sel: number[]) => tf.tensor3d(Array.from({ length: 4 }, (_, i) => (sel.includes(i) ? 1 : 0)), [4, 1, 1]);
    const gradRows = (sel: number[], moe: SoftMoE, ids: Int32Array) =>
      tf.tidy(() => {
        const w = weightOf(sel);
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.square(moe.apply(x, { groupIds: ids }).y), w)) as tf.Scalar, [moe.residual!, moe.phi]);
        const g = grads[moe.residual!.name];
        return g ? Array.from(tf.sum(tf.abs(g), [1, 2]).dataSync()) : [0, 0, 0, 0];
      });
    const g1 = gradRows([0, 1], withRes, groupIds);
    assert.ok(g1[1]! > 0);
    assert.deepEqual([g1[0], g1[2], g1[3]], [0, 0, 0]);
    const g3 = gradRows([3], withRes, groupIds);
    assert.ok(g3[3]! > 0);
    assert.deepEqual([g3[0], g3[1], g3[2]], [0, 0, 0]);
  } finally {
    shared.variables().forEach((v) => v.dispose());
    withRes.variables().forEach((v) => v.dispose());
  }
  // a switch that never fires (entropy can not exceed ln S) leaves every residual without gradient
  const never = layer({ residual: { numGroups: 4, metric: 'entropy', threshold: 1.01 } }, 9);
  try {
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 22) as tf.Tensor3D;
    const out = never.apply(x, { groupIds: Int32Array.from([1, 2]) });
    assert.deepEqual(Array.from(out.routing.switched), [0, 0]);
    const { grads } = tf.variableGrads(() => tf.sum(never.apply(x, { groupIds: Int32Array.from([1, 2]) }).y) as tf.Scalar, never.variables());
    assert.equal(grads[never.residual!.name], undefined);
  } finally {
    never.variables().forEach((v) => v.dispose());
  }
});

test('residual routing rejects out-of-range group ids with a clear error', () => {
  const moe = layer({ residual: { numGroups: 4, metric: 'kl', threshold: 0.1 } });
  try {
    const x = tf.zeros([1, 2, 4]) as tf.Tensor3D;
    assert.throws(() => moe.apply(x, { groupIds: Int32Array.from([9]) }), /group id 9 outside \[0, 4\)/);
  } finally {
    moe.variables().forEach((v) => v.dispose());
  }
});

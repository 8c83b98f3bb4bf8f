import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import {
  createRouter,
  routerLosses,
  ROUTER_DESIGNS,
  type RouterDesign,
  type RoutingUnit,
} from '../../src/moe/routers.js';
import { B, D, L, M, routerConfig } from './routerFixtures.js';
import { ExpertUsageAccumulator } from '../../src/moe/usage-stats.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

let uid = 0;

function makeInput(seed: number) {
  const tokens = [0, 1, 2].map((j) => tf.randomNormal([B, L, D], 0, 1, 'float32', seed + j) as tf.Tensor3D);
  // sample 1 misses modality 2, sample 3 misses modality 0
  const present = [1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1];
  return { tokens, present };
}

const cfgFor = routerConfig;

test('every router design: output shapes, stats shapes, variable names', () => {
  for (const design of ROUTER_DESIGNS) {
    const name = `r${uid++}`;
    const router = createRouter(name, cfgFor(design, 'token'), new Rng(1));
    const input = makeInput(1);
    const out = router.apply(input, { training: false });
    out.tokens.forEach((t) => assert.deepEqual(t.shape, [B, L, D]));
    const total = design === 'disjoint' ? M * 4 : 4;
    assert.equal(out.stats.totalExperts, total);
    assert.deepEqual(out.stats.modalityProbs.shape, [M, total]);
    // present tokens: 4 samples × 3 tokens minus one absent sample per modality 0 and 2
    assert.deepEqual(Array.from(out.stats.modalityCounts), [9, 12, 9]);
    const rows = out.stats.modalityProbs.arraySync();
    rows.forEach((r) => assert.ok(Math.abs(r.reduce((a, b) => a + b, 0) - 1) < 1e-5));
    const names = router.variables().map((v) => v.name);
    assert.equal(new Set(names).size, names.length, 'unique names');
    const gateNames = names.filter((n) => n.includes('gate'));
    if (design === 'joint') assert.deepEqual(gateNames, [`${name}.gate.w`, `${name}.gate.noise.w`]);
    else {
      for (let j = 0; j < M; j++) {
        assert.ok(gateNames.includes(`${name}.mod${j}.gate.w`) && gateNames.includes(`${name}.mod${j}.gate.noise.w`));
      }
    }
    if (design === 'disjoint') {
      assert.ok(names.includes(`${name}.mod2.expert3.w1`));
      out.stats.groups.forEach((g, j) =>
        g.topIdx.forEach((e) => assert.ok(e >= j * 4 && e < (j + 1) * 4, 'global ids in own pool')),
      );
    } else assert.ok(names.includes(`${name}.expert3.w1`));
  }
});

test('every router and gate variable receives a non-zero gradient (each design, token and sample routing)', () => {
  for (const unit of ['token', 'sample'] as RoutingUnit[]) {
    for (const design of ROUTER_DESIGNS) {
      const gating = unit === 'token' ? 'laplace' : 'softmax'; // softmax: also checks the gate bias
      const router = createRouter(`r${uid++}`, cfgFor(design, unit, { gating }), new Rng(3));
      const input = makeInput(10);
      const R = [0, 1, 2].map((j) => tf.randomNormal([B, L, D], 0, 1, 'float32', 50 + j));
      const vars = router.variables();
      const { grads } = tf.variableGrads(() => {
        const out = router.apply(input, { training: true, seed: 7 });
        const task = tf.addN(out.tokens.map((t, j) => tf.sum(tf.mul(t, R[j]!))));
        const aux = routerLosses(out.stats, { entropy: 1, balance: 1 });
        return tf.add(task, aux.total) as tf.Scalar;
      }, vars);
      for (const v of vars) {
        if (!v.name.includes('gate') && unit === 'sample') continue; // few samples: not every expert is picked
        const g = grads[v.name];
        assert.ok(g, `${design}/${unit}: no gradient for ${v.name}`);
        const m = tf.max(tf.abs(g)).dataSync()[0]!;
        assert.ok(m > 0, `${design}/${unit}: zero gradient for ${v.name}`);
      }
    }
  }
});

test('sparse == dense for every router design (forward and gradients)', () => {
  for (const design of ROUTER_DESIGNS) {
    const router = createRouter(`r${uid++}`, cfgFor(design, 'token', { gating: 'softmax' }), new Rng(4));
    const input = makeInput(20);
    const R = [0, 1, 2].map((j) => tf.randomNormal([B, L, D], 0, 1, 'float32', 60 + j));
    const run = (dispatch: 'sparse' | 'dense') =>
      tf.variableGrads(() => {
        const out = router.apply(input, { training: true, seed: 3, dispatch });
        return tf.addN(out.tokens.map((t, j) => tf.sum(tf.mul(t, R[j]!)))) as tf.Scalar;
      }, router.variables());
    const a = run('sparse');
    const b = run('dense');
    assert.ok(Math.abs(a.value.dataSync()[0]! - b.value.dataSync()[0]!) < 1e-5);
    for (const k of Object.keys(a.grads)) {
      assert.ok(tf.max(tf.abs(tf.sub(a.grads[k]!, b.grads[k]!))).dataSync()[0]! < 1e-5, `${design}: ${k}`);
    }
  }
});

test('token masks: padding tokens pass through as zeros and are not counted', () => {
  const router = createRouter(`r${uid++}`, cfgFor('per-modality', 'token'), new Rng(5));
  const input = makeInput(30);
  const mask = new Float32Array(B * L).fill(1);
  mask[2] = 0; // sample 0, token 2 of modality 0
  const out = router.apply({ ...input, tokenMask: [mask, null, null] }, { training: false });
  assert.ok(out.tokens[0]!.arraySync()[0]![2]!.every((v) => v === 0));
  assert.deepEqual(Array.from(out.stats.modalityCounts), [8, 12, 9]);
  assert.deepEqual(Array.from(out.stats.groups[0]!.topIdx.slice(4, 6)), [-1, -1]);
});

test('joint router: one distribution per joint token, counted for every present modality', () => {
  const router = createRouter(`r${uid++}`, cfgFor('joint', 'token'), new Rng(6));
  const out = router.apply(makeInput(40), { training: false });
  const g = out.stats.groups[0]!;
  assert.equal(g.modality, -1);
  assert.deepEqual(g.gateProbs.shape, [B * L, 4]);
  // sample 1 lacks modality 2: its tokens count for modalities 0 and 1 only
  assert.deepEqual(Array.from(g.membership.slice(3 * M, 4 * M)), [1, 1, 0]);
  const acc = new ExpertUsageAccumulator(out.stats.totalExperts, M);
  acc.addRouterStats(out.stats);
  const totals = acc.totals();
  // each modality's gate-weighted total = number of its present joint tokens (gates sum to 1)
  for (let j = 0; j < M; j++) {
    let s = 0;
    for (let e = 0; e < 4; e++) s += totals[e * M + j]!;
    assert.ok(Math.abs(s - out.stats.modalityCounts[j]!) < 1e-4);
  }
});

test('bad configuration and input raise FlexiModalError', () => {
  assert.throws(() => createRouter('bad1', { ...cfgFor('joint', 'sample'), seqLens: undefined }, new Rng(1)), {
    name: 'FlexiModalError',
  });
  assert.throws(() => createRouter('bad2', { ...cfgFor('joint', 'token'), design: 'x' as RouterDesign }, new Rng(1)), {
    name: 'FlexiModalError',
  });
  const r = createRouter(`r${uid++}`, cfgFor('disjoint', 'token'), new Rng(1));
  assert.throws(() => r.apply({ tokens: makeInput(1).tokens.slice(0, 2), present: [] }, { training: false }), {
    name: 'FlexiModalError',
  });
});

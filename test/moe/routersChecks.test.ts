/**
 * The router designs (src/moe/routers.ts) on hand-worked cases the mutation run found unchecked:
 * every input/config refusal (what, where, how to fix), the joint router's token masks and
 * membership, per-sample membership, a modality present in no sample, padding ids under the
 * disjoint expert offset, the per-modality noise seeds (seed + j) and the dispatch switch.
 *
 * Mutants left alive as equivalent (no observable change):
 *   229:19, 353:23, 364:23, 351:25 `<` → `<=`: the extra pass reads present/mask past their end
 *     (undefined → skipped or 0) and writes past the end of a typed array (ignored).
 *   364:51 `j <= M`: writes present[(b+1)·M] ? 1 : 0 to membership[(b+1)·M], the value the next pass
 *     writes there anyway (past the end for the last sample).
 *   255:21 `j <= M`: counts[M] += undefined writes past the end of a Float64Array (ignored).
 *   253:9, 253:31 pad with [0, 0] is the identity; 269:18 mapping topIdx with offset 0 copies it unchanged.
 *   445:18, 452:18, 455:19: concat/split of a single tensor give that tensor's values.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { FlexiModalError } from '../../src/errors.js';
import { routeTokens } from '../../src/moe/routing.js';
import {
  createRouter,
  routerLosses,
  ROUTER_DESIGNS,
  type DisjointRouter,
  type FusionInput,
  type JointRouter,
  type MoEFusionConfig,
  type PerModalityRouter,
  type RouterDesign,
  type RoutingUnit,
} from '../../src/moe/routers.js';
import { B, D, L, M, routerConfig } from './routerFixtures.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

let uid = 0;

const refuses = (fn: () => unknown, where: string, message: RegExp, hint: RegExp) =>
  assert.throws(
    fn,
    (e: unknown) => e instanceof FlexiModalError && e.where === where && message.test(e.message) && hint.test(e.hint ?? ''),
    `${String(message)} at ${where}`,
  );

const cfgFor = (design: RouterDesign, unit: RoutingUnit, extra: Partial<MoEFusionConfig> = {}): MoEFusionConfig => routerConfig(design, unit, { gating: 'softmax', ...extra });

const PRESENT = [1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1]; // sample 1 misses modality 2, sample 3 modality 0

function tokensOf(seed: number, lens: number[] = [L, L, L], batch = B, dim = D): tf.Tensor3D[] {
  return lens.map((l, j) => tf.randomNormal([batch, l, dim], 0, 1, 'float32', seed + j) as tf.Tensor3D);
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5, what = '') => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

// ---------------------------------------------------------------------------------------------
// refusals

test('createRouter refuses an unknown design, naming the config key and the designs', () => {
  refuses(
    () => createRouter('bad', { ...cfgFor('joint', 'token'), design: 'mixed' as RouterDesign }, new Rng(1)),
    'config key bad.design',
    /unknown router design 'mixed'/,
    /use one of joint, per-modality, disjoint/,
  );
});

test("routingUnit 'sample' refuses missing, short, fractional and non-positive seqLens (every design)", () => {
  for (const design of ROUTER_DESIGNS) {
    for (const seqLens of [undefined, [3, 3], [3, 1.5, 3], [3, 0, 3], [3, -2, 3]]) {
      const name = `sl${uid++}`;
      refuses(
        () => createRouter(name, cfgFor(design, 'sample', { seqLens }), new Rng(1)),
        `config key ${name}.seqLens`,
        /routingUnit 'sample' needs seqLens with 3 positive integers/,
        /set seqLens to the token count of each modality/,
      );
    }
    // the edge is accepted: length 1
    createRouter(`sl${uid++}`, cfgFor(design, 'sample', { seqLens: [1, 1, 1] }), new Rng(1));
  }
});

test('every design refuses a wrong modality count, rank, batch, width, seqLens, present or tokenMask length', () => {
  for (const design of ROUTER_DESIGNS) {
    const name = `in${uid++}`;
    const r = createRouter(name, cfgFor(design, 'token'), new Rng(2));
    const ok = tokensOf(1);
    const withTok = (j: number, t: tf.Tensor): FusionInput => ({
      tokens: ok.map((x, i) => (i === j ? (t as tf.Tensor3D) : x)),
      present: PRESENT,
    });
    const apply = (input: FusionInput) => () => r.apply(input, { training: false });
    refuses(apply({ tokens: ok.slice(0, 2), present: PRESENT }), name, /got 2 modalities, expected 3/, /one \[B, L_j, d\] tensor per modality, in config order/);
    const shapeHint = /project every modality to the router width d first/;
    // rank 4 with the right batch and width: only the rank is wrong
    refuses(apply(withTok(1, tf.zeros([B, L, D, 1]))), name, /modality 1 has shape \[4,3,4,1\], expected \[4, L, 4\]/, shapeHint);
    refuses(apply(withTok(1, tf.zeros([2, L, D]))), name, /modality 1 has shape \[2,3,4\], expected \[4, L, 4\]/, shapeHint);
    refuses(apply(withTok(2, tf.zeros([B, L, 5]))), name, /modality 2 has shape \[4,3,5\], expected \[4, L, 4\]/, shapeHint);
    refuses(
      apply(withTok(1, tf.zeros([B, 2, D]))),
      `config key ${name}.seqLens`,
      /modality 1 has 2 tokens, config seqLens says 3/,
      /make seqLens match the encoder output lengths/,
    );
    refuses(apply({ tokens: ok, present: [1, 1, 1, 1, 1] }), name, /present has 5 entries, expected B·M = 12/, /row-major \[B, M\] 0\/1 mask/);
    refuses(
      apply({ tokens: ok, present: PRESENT, tokenMask: [null, new Float32Array(5)] }),
      name,
      /tokenMask\[1\] has 5 entries, expected B·L = 12/,
      /one 0\/1 entry per token of the modality/,
    );
  }
});

test('joint token routing refuses unequal lengths; a shared pool refuses unequal seqLens under sample routing', () => {
  const name = `jl${uid++}`;
  const r = createRouter(name, cfgFor('joint', 'token', { seqLens: undefined }), new Rng(3));
  refuses(
    () => r.apply({ tokens: tokensOf(2, [3, 2, 3]), present: PRESENT }, { training: false }),
    name,
    /joint token routing needs equal lengths per modality, got \[3,2,3\]/,
    /resample the modalities to one length \(γ\) or use routingUnit 'sample'/,
  );
  const pm = `pl${uid++}`;
  refuses(
    () => createRouter(pm, cfgFor('per-modality', 'sample', { seqLens: [3, 2, 3] }), new Rng(3)),
    `config key ${pm}.seqLens`,
    /a shared expert pool with routingUnit 'sample' needs equal seqLens, got \[3,2,3\]/,
    /use design 'disjoint' or routingUnit 'token'/,
  );
  // the others accept unequal lengths
  createRouter(`jl${uid++}`, cfgFor('joint', 'sample', { seqLens: [3, 2, 3] }), new Rng(3));
  createRouter(`dl${uid++}`, cfgFor('disjoint', 'sample', { seqLens: [3, 2, 3] }), new Rng(3));
});

// ---------------------------------------------------------------------------------------------
// joint router: token masks and membership

/** B = 1, L = 3, M = 2, d = 2, S = 3, K = 1: one joint token per position. */
function jointCase(tokenMask: FusionInput['tokenMask']) {
  const cfg: MoEFusionConfig = { ...cfgFor('joint', 'token', { seqLens: undefined }), numModalities: 2, dim: 2, numExperts: 3, topK: 1 };
  const r = createRouter(`jm${uid++}`, cfg, new Rng(11));
  const tokens = [tf.tensor3d([[[1, 2], [3, -1], [0.5, 1]]]), tf.tensor3d([[[-1, 1], [2, 2], [1, -2]]])];
  return r.apply({ tokens, present: [1, 1], tokenMask }, { training: false });
}

function routedRows(out: ReturnType<typeof jointCase>): boolean[] {
  const g = out.stats.groups[0]!;
  const rows = Array.from(g.topIdx, (e) => e >= 0);
  // a padding joint token: both modalities' output rows are exactly 0; a routed one is not
  const ys = out.tokens.map((t) => t.arraySync()[0]!);
  rows.forEach((routed, n) => ys.forEach((y) => assert.equal(y[n]!.every((v) => v === 0), !routed, `row ${n}`)));
  return rows;
}

/** p̂_j by the definition (MOE.md §3): mean of gateProbs over the tokens that count for modality j. */
function pHatByHand(gateProbs: number[][], membership: number[], Mm: number): number[][] {
  return Array.from({ length: Mm }, (_, j) => {
    const rows = gateProbs.filter((_, n) => membership[n * Mm + j]! > 0);
    return gateProbs[0]!.map((_, e) => rows.reduce((a, r) => a + r[e]!, 0) / rows.length);
  });
}

test('joint token mask: a joint token is padding only where every masked modality pads and every modality has a mask', () => {
  // masks [1,0,0] and [1,1,0]: positions 0 and 1 hold a real token of some modality, position 2 none
  const both = jointCase([new Float32Array([1, 0, 0]), new Float32Array([1, 1, 0])]);
  assert.deepEqual(routedRows(both), [true, true, false]);
  const g = both.stats.groups[0]!;
  assert.equal(g.label, 'joint');
  assert.equal(g.modality, -1);
  // membership (token, modality) = present × that modality's mask
  const mem = [1, 1, 0, 1, 0, 0];
  assert.deepEqual(Array.from(g.membership), mem);
  assert.deepEqual(Array.from(both.stats.modalityCounts), [1, 2]);
  close(both.stats.modalityProbs.dataSync(), pHatByHand(g.gateProbs.arraySync(), mem, 2).flat(), 1e-5, 'p̂');

  // a modality without a mask counts as real: every joint token routed, membership follows the one mask
  const one = jointCase([new Float32Array([1, 0, 1]), null]);
  assert.deepEqual(routedRows(one), [true, true, true]);
  assert.deepEqual(Array.from(one.stats.groups[0]!.membership), [1, 1, 0, 1, 1, 1]);
  assert.deepEqual(Array.from(one.stats.modalityCounts), [2, 3]);

  // an empty mask list = no masks
  const none = jointCase([]);
  assert.deepEqual(routedRows(none), [true, true, true]);
  assert.deepEqual(Array.from(none.stats.modalityCounts), [3, 3]);
});

test('joint membership: a token counts for the present modalities of its own sample only', () => {
  // sample 0 misses modality 0 (sample 1 has it), sample 1 misses modality 2
  const r = createRouter(`jp${uid++}`, cfgFor('joint', 'token'), new Rng(12));
  const out = r.apply({ tokens: tokensOf(5, [L, L, L], 2), present: [0, 1, 1, 1, 1, 0] }, { training: false });
  const row0 = [0, 1, 1];
  const row1 = [1, 1, 0];
  assert.deepEqual(Array.from(out.stats.groups[0]!.membership), [...row0, ...row0, ...row0, ...row1, ...row1, ...row1]);
  assert.deepEqual(Array.from(out.stats.modalityCounts), [3, 6, 3]);
});

test('joint sample routing: membership is the present mask, outputs split back at the L_j·d boundaries', () => {
  const seqLens = [2, 1, 3];
  const r = createRouter(`js${uid++}`, cfgFor('joint', 'sample', { seqLens }), new Rng(13)) as JointRouter;
  const tokens = tokensOf(6, seqLens);
  const out = r.apply({ tokens, present: PRESENT }, { training: false });
  assert.deepEqual(Array.from(out.stats.groups[0]!.membership), PRESENT);
  assert.deepEqual(Array.from(out.stats.modalityCounts), [3, 4, 3]);
  assert.equal(out.stats.groups[0]!.label, 'joint');
  // the sample's flattened vector is [Z_0 (2·d) ‖ Z_1 (1·d) ‖ Z_2 (3·d)]; modality j's output is its slice
  const x = tf.concat(tokens.map((t, j) => tf.reshape(t, [B, seqLens[j]! * D])), 1) as tf.Tensor2D;
  const y = r.moe.apply(x, { training: false }).y.arraySync();
  let at = 0;
  seqLens.forEach((l, j) => {
    assert.deepEqual(out.tokens[j]!.shape, [B, l, D]);
    close(out.tokens[j]!.dataSync(), y.flatMap((row) => row.slice(at, at + l * D)), 1e-6, `modality ${j}`);
    at += l * D;
  });
});

// ---------------------------------------------------------------------------------------------
// p̂ rows, offsets, masks per modality

test('a modality present in no sample gets a p̂ row of zeros and no entropy term (every design)', () => {
  const present = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0];
  for (const design of ROUTER_DESIGNS) {
    const r = createRouter(`pz${uid++}`, cfgFor(design, 'token'), new Rng(14));
    const out = r.apply({ tokens: tokensOf(7), present }, { training: false });
    assert.deepEqual(Array.from(out.stats.modalityCounts), [12, 12, 0]);
    const p = out.stats.modalityProbs.arraySync();
    assert.ok(p[2]!.every((v) => v === 0), `${design}: row 2 = ${p[2]}`);
    for (const j of [0, 1]) assert.ok(Math.abs(p[j]!.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.ok(Number.isFinite(routerLosses(out.stats, { entropy: 1, balance: 1 }).total.dataSync()[0]!));
  }
});

test('disjoint token masks: padding stays −1 under the expert offset j·S, real tokens get e + j·S, output 0', () => {
  const S = 4;
  const r = createRouter(`dm${uid++}`, cfgFor('disjoint', 'token'), new Rng(15));
  const mask = new Float32Array(B * L).fill(1);
  mask[2] = 0; // sample 0, token 2 of modality 1
  const out = r.apply({ tokens: tokensOf(8), present: PRESENT, tokenMask: [null, mask, null] }, { training: false });
  assert.deepEqual(out.stats.groups.map((g) => g.label), ['mod0', 'mod1', 'mod2']);
  const idx = out.stats.groups[1]!.topIdx;
  assert.deepEqual(Array.from(idx.slice(4, 6)), [-1, -1]);
  idx.forEach((e, i) => i >= 4 && i < 6 || assert.ok(e >= S && e < 2 * S, `topIdx[${i}] = ${e}`));
  assert.ok(out.tokens[1]!.arraySync()[0]![2]!.every((v) => v === 0));
  assert.ok(out.tokens[1]!.arraySync()[0]![1]!.some((v) => v !== 0));
  // present tokens: modality 0 misses sample 3, modality 2 sample 1, modality 1 one padding token
  assert.deepEqual(Array.from(out.stats.modalityCounts), [9, 11, 9]);
});

test("sample routing ignores token masks (per-modality and disjoint): same output, counts per sample", () => {
  for (const design of ['per-modality', 'disjoint'] as RouterDesign[]) {
    const r = createRouter(`sm${uid++}`, cfgFor(design, 'sample'), new Rng(16));
    const tokens = tokensOf(9);
    const mask = new Float32Array(B * L).fill(1);
    mask[0] = 0;
    const a = r.apply({ tokens, present: PRESENT }, { training: false });
    const b = r.apply({ tokens, present: PRESENT, tokenMask: [mask, mask, null] }, { training: false });
    a.tokens.forEach((t, j) => close(b.tokens[j]!.dataSync(), t.dataSync(), 0, `${design} modality ${j}`));
    assert.deepEqual(Array.from(b.stats.modalityCounts), [3, 4, 3]);
  }
});

test('per-modality router with one modality: one output tensor', () => {
  const r = createRouter(`p1${uid++}`, cfgFor('per-modality', 'token', { numModalities: 1, seqLens: [L] }), new Rng(17));
  const out = r.apply({ tokens: tokensOf(10, [L]), present: [1, 1, 1, 1] }, { training: false });
  assert.equal(out.tokens.length, 1);
  assert.deepEqual(out.tokens[0]!.shape, [B, L, D]);
  assert.ok(out.tokens[0]!.dataSync().some((v) => v !== 0));
  assert.deepEqual(out.stats.groups.map((g) => g.label), ['mod0']);
});

// ---------------------------------------------------------------------------------------------
// noise seeds and dispatch

test('per-modality: modality j draws its gating noise with seed + j (FusionApplyOptions.seed)', () => {
  const r = createRouter(`ps${uid++}`, cfgFor('per-modality', 'token'), new Rng(18)) as PerModalityRouter;
  const tokens = tokensOf(11);
  const out = r.apply({ tokens, present: PRESENT }, { training: true, seed: 100 });
  assert.deepEqual(out.stats.groups.map((g) => g.label), ['mod0', 'mod1', 'mod2']);
  for (let j = 0; j < M; j++) {
    const ref = routeTokens(r.gates[j]!, tf.reshape(tokens[j]!, [B * L, D]) as tf.Tensor2D, { topK: 2, training: true, seed: 100 + j }, () => {
      throw new Error('seeded');
    });
    const g = out.stats.groups[j]!;
    close(g.gateProbs.dataSync(), ref.gateProbs.dataSync(), 1e-6, `gateProbs ${j}`);
    assert.deepEqual(Array.from(g.topIdx), Array.from(ref.topIdx));
  }
});

test('disjoint: modality j runs its own SparseMoE with seed + j', () => {
  const r = createRouter(`ds${uid++}`, cfgFor('disjoint', 'token'), new Rng(19)) as DisjointRouter;
  const tokens = tokensOf(12);
  const out = r.apply({ tokens, present: PRESENT }, { training: true, seed: 100 });
  for (let j = 0; j < M; j++) {
    const ref = r.moes[j]!.apply(tf.reshape(tokens[j]!, [B * L, D]) as tf.Tensor2D, { training: true, seed: 100 + j });
    close(out.tokens[j]!.dataSync(), ref.y.dataSync(), 1e-6, `y ${j}`);
    close(out.stats.groups[j]!.gateProbs.dataSync(), ref.gateProbs.dataSync(), 1e-6, `gateProbs ${j}`);
  }
});

test('without a seed the noise follows the router’s own seeded sequence: reproducible, fresh on every call', () => {
  for (const design of ['per-modality', 'disjoint'] as RouterDesign[]) {
    const a = createRouter(`na${uid++}`, cfgFor(design, 'token'), new Rng(20));
    const b = createRouter(`nb${uid++}`, cfgFor(design, 'token'), new Rng(20));
    const input = { tokens: tokensOf(13), present: PRESENT };
    const probs = (r: typeof a) => r.apply(input, { training: true }).stats.groups.map((g) => Array.from(g.gateProbs.dataSync()));
    const a1 = probs(a);
    assert.deepEqual(probs(b), a1, `${design}: same Rng, same noise`);
    const a2 = probs(a);
    for (let j = 0; j < M; j++) assert.notDeepEqual(a2[j], a1[j], `${design}: modality ${j} draws fresh noise`);
  }
});

test("per-modality dispatch: 'dense' runs the pool's dense reference, 'sparse' and the default the sparse path", () => {
  const r = createRouter(`pd${uid++}`, cfgFor('per-modality', 'token'), new Rng(21)) as PerModalityRouter;
  const calls: string[] = [];
  const pool = r.pool;
  const dense = pool.dense.bind(pool);
  const sparse = pool.sparse.bind(pool);
  pool.dense = (...a) => (calls.push('dense'), dense(...a));
  pool.sparse = (...a) => (calls.push('sparse'), sparse(...a));
  const input = { tokens: tokensOf(14), present: PRESENT };
  const yd = r.apply(input, { training: false, dispatch: 'dense' }).tokens.map((t) => t.dataSync());
  assert.deepEqual(calls, ['dense']);
  const ys = r.apply(input, { training: false, dispatch: 'sparse' }).tokens.map((t) => t.dataSync());
  r.apply(input, { training: false });
  assert.deepEqual(calls, ['dense', 'sparse', 'sparse']);
  yd.forEach((y, j) => close(ys[j]!, y, 1e-5, `modality ${j}`));
});

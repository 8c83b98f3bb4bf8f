/**
 * The Gate's construction (src/moe/gating.ts): its variables per gating function, its defaults,
 * the initialisation of W, and the refusals of a bad config — written against the mutants Stryker
 * left alive there (docs/CONTRIBUTING.md, "Mutation testing").
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { paramName } from '../../src/engine/params.js';
import { FlexiModalError } from '../../src/errors.js';
import { Gate, type GateConfig } from '../../src/moe/gating.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

const names = (g: Gate) => g.variables().map((v) => paramName(v));

test('gate variables: a bias for the softmax gates only, W_noise only with noisy gating (default off)', () => {
  assert.deepEqual(names(new Gate('g', { dim: 3, numExperts: 4, gating: 'softmax' }, new Rng(1))), ['g.w', 'g.b']);
  assert.deepEqual(names(new Gate('g', { dim: 3, numExperts: 4, gating: 'modified-softmax' }, new Rng(1))), ['g.w', 'g.b']);
  assert.deepEqual(names(new Gate('g', { dim: 3, numExperts: 4, gating: 'laplace' }, new Rng(1))), ['g.w']);
  assert.deepEqual(names(new Gate('g', { dim: 3, numExperts: 4, gating: 'gaussian', noisyGating: true }, new Rng(1))), ['g.w', 'g.noise.w']);
  const plain = new Gate('g', { dim: 3, numExperts: 4, gating: 'softmax' }, new Rng(1));
  assert.equal(plain.cfg.noisyGating, false);
  assert.throws(() => plain.noiseStd(tf.zeros([2, 3]) as tf.Tensor2D), (e: unknown) => e instanceof FlexiModalError && e.where === 'g' && /without noise/.test(e.message));
});

test('modified-softmax defaults to the sigmoid map; W starts N(0, initStd²), not zero', () => {
  const x = tf.tensor2d([[0.5, -1, 2]]);
  const byDefault = new Gate('d', { dim: 3, numExperts: 2, gating: 'modified-softmax' }, new Rng(4));
  const sigmoid = new Gate('s', { dim: 3, numExperts: 2, gating: 'modified-softmax', modifiedGateFn: 'sigmoid' }, new Rng(4));
  assert.equal(byDefault.cfg.modifiedGateFn, 'sigmoid');
  assert.deepEqual(byDefault.logits(x).arraySync(), sigmoid.logits(x).arraySync());
  const g = new Gate('i', { dim: 50, numExperts: 40, gating: 'softmax', initStd: 0.5 }, new Rng(2));
  const w = Array.from(g.w.dataSync() as Float32Array);
  const mean = w.reduce((s, v) => s + v, 0) / w.length;
  const sd = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(sd - 0.5) < 0.05, `mean ${mean}, sd ${sd}`);
  assert.ok(w.filter((v) => v === 0).length < 2, 'every weight drawn');
  assert.equal(new Gate('z', { dim: 2, numExperts: 2, gating: 'softmax' }, new Rng(2)).cfg.initStd, 0.02);
});

test('a bad gate config is refused, naming the config key and the fix', () => {
  const bad: [Record<string, unknown>, RegExp, string][] = [
    [{ gating: 'sparsemax' }, /unknown gating function 'sparsemax'/, 'config key r.gating'],
    [{ gating: 'modified-softmax', modifiedGateFn: 'relu' }, /unknown modified gate map 'relu'/, 'config key r.modifiedGateFn'],
    [{ dim: 0 }, /dim \(0\) and numExperts \(4\) must be positive integers/, 'config key r'],
    [{ dim: 2.5 }, /dim \(2\.5\)/, 'config key r'],
    [{ numExperts: 0 }, /numExperts \(0\)/, 'config key r'],
    [{ numExperts: 1.5 }, /numExperts \(1\.5\)/, 'config key r'],
  ];
  for (const [patch, message, where] of bad) {
    const cfg = { dim: 3, numExperts: 4, gating: 'softmax', ...patch } as unknown as GateConfig;
    assert.throws(
      () => new Gate('r', cfg, new Rng(1)),
      (e: unknown) => e instanceof FlexiModalError && e.where === where && message.test(e.message) && /use one of|numExperts ≥ 1/.test(e.hint ?? ''),
      JSON.stringify(patch),
    );
  }
  // the smallest valid gate: one dimension, one expert
  assert.deepEqual(new Gate('one', { dim: 1, numExperts: 1, gating: 'laplace' }, new Rng(1)).w.shape, [1, 1]);
});

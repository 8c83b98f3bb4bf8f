import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uncertaintyOf, sampleUncertainty, softmaxRows, switchFires } from '../../src/moe/routerUncertainty.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('uniform over 2 slots: maximal entropy, zero certainty, margin, variance and KL', () => {
  const u = uncertaintyOf([0.5, 0.5], 2);
  close(u.entropy, Math.log(2));
  close(u.normalizedCertainty, 0);
  close(u.maxProb, 0.5);
  close(u.margin, 0);
  close(u.gini, 0.5);
  close(u.variance, 0);
  close(u.klUniform, 0);
});

test('one-hot over 4 slots: zero entropy, full certainty, variance (3/4)² + 3·(1/4)², KL = ln 4', () => {
  const u = uncertaintyOf([0, 1, 0, 0], 4);
  close(u.entropy, 0);
  close(u.normalizedCertainty, 1);
  close(u.maxProb, 1);
  close(u.margin, 1);
  close(u.gini, 0);
  close(u.variance, 0.75);
  close(u.klUniform, Math.log(4));
});

test("the appendix's 32-expert example: H ≈ 2.658 nats, KL ≈ 0.807", () => {
  const p = [0.2, 0.2, 0.15, 0.1, 0.05, ...Array.from({ length: 27 }, () => 0.3 / 27)];
  const u = uncertaintyOf(p, 32);
  close(u.entropy, 2.658, 2e-3);
  close(u.klUniform, 0.807, 2e-3);
  close(u.margin, 0);
  close(u.maxProb, 0.2);
  // hand: 1 − (2·0.04 + 0.0225 + 0.01 + 0.0025 + 27·(0.3/27)²)
  close(u.gini, 1 - (0.08 + 0.0225 + 0.01 + 0.0025 + 0.09 / 27), 1e-12);
});

test('softmaxRows and per-sample means skip invalid tokens; a sample without valid tokens is NaN', () => {
  const p = softmaxRows([0, 0, Math.log(3), 0], 2, 2); // rows [.5,.5], [.75,.25]
  close(p[2]!, 0.75, 1e-12);
  const [a, b] = sampleUncertainty(p, 2, 1, 2, [1, 0]);
  close(a!.entropy, Math.log(2));
  assert.ok(Number.isNaN(b!.entropy));
  const both = sampleUncertainty(p, 1, 2, 2)[0]!;
  close(both.maxProb, (0.5 + 0.75) / 2);
});

test('the switch: entropy above a fraction of ln S, or KL to uniform below a threshold', () => {
  const flat = uncertaintyOf([0.25, 0.25, 0.25, 0.25], 4);
  const peaked = uncertaintyOf([0.97, 0.01, 0.01, 0.01], 4);
  assert.equal(switchFires(flat, 4, { metric: 'entropy', threshold: 0.8 }), true);
  assert.equal(switchFires(peaked, 4, { metric: 'entropy', threshold: 0.8 }), false);
  assert.equal(switchFires(flat, 4, { metric: 'kl', threshold: 0.1 }), true);
  assert.equal(switchFires(peaked, 4, { metric: 'kl', threshold: 0.1 }), false);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UNCERTAINTY_METRICS, uncertaintyOf, sampleUncertainty, softmaxRows, switchFires, type RouterUncertainty } from '../../src/moe/routerUncertainty.js';

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

/** Hand values of the 7 metrics of a distribution over 2 slots (module doc formulas). */
function twoSlot(a: number): RouterUncertainty {
  const p = [a, 1 - a];
  const H = -p.reduce((acc, x) => acc + (x > 0 ? x * Math.log(x) : 0), 0);
  return {
    entropy: H,
    normalizedCertainty: 1 - H / Math.log(2),
    maxProb: Math.max(a, 1 - a),
    margin: Math.abs(2 * a - 1),
    gini: 1 - a * a - (1 - a) * (1 - a),
    variance: (a - 0.5) ** 2 + (0.5 - a) ** 2,
    klUniform: Math.log(2) - H,
  };
}

test('UNCERTAINTY_METRICS lists the 7 metrics in Table 6 order', () => {
  assert.deepEqual([...UNCERTAINTY_METRICS], ['entropy', 'normalizedCertainty', 'maxProb', 'margin', 'gini', 'variance', 'klUniform']);
});

test('sampleUncertainty: every metric is the mean over the valid tokens of each sample (B = 2, T = 2)', () => {
  // sample 0: [.5,.5], [.75,.25] both valid; sample 1: [1,0] invalid, [.25,.75] valid
  const probs = [0.5, 0.5, 0.75, 0.25, 1, 0, 0.25, 0.75];
  const [s0, s1] = sampleUncertainty(probs, 2, 2, 2, [1, 1, 0, 1]);
  const a = twoSlot(0.5);
  const b = twoSlot(0.75);
  // hand: row [.75,.25]: gini 1 − (.5625 + .0625) = .375, variance 2·.25² = .125, margin .5
  close(b.gini, 0.375, 1e-15);
  close(b.variance, 0.125, 1e-15);
  for (const k of UNCERTAINTY_METRICS) {
    close(s0![k], (a[k] + b[k]) / 2, 1e-12);
    close(s1![k], twoSlot(0.25)[k], 1e-12);
  }
  // all tokens valid by default: sample 1 then also averages the one-hot row
  const all = sampleUncertainty(probs, 2, 2, 2)[1]!;
  for (const k of UNCERTAINTY_METRICS) close(all[k], (twoSlot(1)[k] + twoSlot(0.25)[k]) / 2, 1e-12);
});

test('S = 1: the single slot is certain — certainty 1, margin = max-prob = 1, everything else 0', () => {
  const u = uncertaintyOf([1], 1);
  assert.deepEqual(u, { entropy: 0, normalizedCertainty: 1, maxProb: 1, margin: 1, gini: 0, variance: 0, klUniform: 0 });
  // at an offset too
  assert.deepEqual(uncertaintyOf([0.3, 0.7, 1], 1, 2).margin, 1);
});

test('margin is top-1 − top-2 whatever the order of the slots', () => {
  for (const p of [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.3, 0.5, 0.2], [0.1, 0.1, 0.8]]) {
    const sorted = [...p].sort((x, y) => y - x);
    close(uncertaintyOf(p, 3).margin, sorted[0]! - sorted[1]!, 1e-15);
    close(uncertaintyOf(p, 3).maxProb, sorted[0]!, 0);
  }
});

test('softmaxRows is stable for large logits (shifted by the row max) and matches the naive softmax', () => {
  const p = softmaxRows([1000, 1001, -1000, -1001, 0, Math.log(3)], 3, 2);
  const e = Math.exp(1);
  close(p[0]!, 1 / (1 + e), 1e-12);
  close(p[1]!, e / (1 + e), 1e-12);
  close(p[2]!, e / (1 + e), 1e-12);
  close(p[3]!, 1 / (1 + e), 1e-12);
  close(p[4]!, 0.25, 1e-12);
  close(p[5]!, 0.75, 1e-12);
});

test('the switch thresholds are strict: H = threshold·ln S or KL = threshold does not fire', () => {
  const S = 4;
  const u = { ...uncertaintyOf([0.25, 0.25, 0.25, 0.25], S) };
  u.entropy = 0.5 * Math.log(S);
  assert.equal(switchFires(u, S, { metric: 'entropy', threshold: 0.5 }), false);
  u.entropy = 0.5 * Math.log(S) + 1e-12;
  assert.equal(switchFires(u, S, { metric: 'entropy', threshold: 0.5 }), true);
  u.klUniform = 0.2;
  assert.equal(switchFires(u, S, { metric: 'kl', threshold: 0.2 }), false);
  assert.equal(switchFires(u, S, { metric: 'kl', threshold: 0.2 + 1e-12 }), true);
});

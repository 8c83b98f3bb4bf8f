/**
 * Contracts of src/theory/mlogitMoe.ts and gateTransform.ts that the hand-value tests leave open
 * (mutants Stryker left alive, docs/CONTRIBUTING.md "Mutation testing"): a one-atom mixture, the
 * shape refusals' messages and names, data that does not fit the model, clones that do not alias their source, normal covariates drawn as
 * mean + sd·z from the same stream, the categorical draw staying inside its segment when the
 * probabilities sum below 1, and the printed names of the gate transforms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlexiModalError } from '../../src/errors.js';
import { Rng } from '../../src/engine/rng.js';
import { gateTransformName, parseGateTransform } from '../../src/theory/gateTransform.js';
import { cloneMlogitParams, drawCategorical, mlogitClassProbs, mlogitLogLik, mlogitParamsFromAtoms, sampleCovariates, type MlogitAtom, type MlogitData } from '../../src/theory/mlogitMoe.js';

const identity = parseGateTransform('identity');

test('one atom is a mixture (P(Y | x) is that expert alone); no atom or mismatched shapes are refused by name', () => {
  // one atom, K = 2, d = 1: P(Y = 0 | x) = σ(a₀ + b₀ x) = σ(1 + 2·0.5) = σ(2)
  const one: MlogitAtom = { beta0: 0.3, beta1: [0.7], a: [1, 0], b: [[2], [0]] };
  const p = mlogitParamsFromAtoms([one], identity);
  assert.equal(p.k, 1);
  const probs = mlogitClassProbs(p, [0.5]);
  assert.ok(Math.abs(probs[0]! - 1 / (1 + Math.exp(-2))) < 1e-12, `P(Y=0) ${probs[0]}`);
  assert.throws(
    () => mlogitParamsFromAtoms([], identity),
    (e: unknown) => e instanceof FlexiModalError && /at least one atom/.test(e.message) && e.where === 'mlogitParamsFromAtoms',
  );
  const bad: MlogitAtom = { beta0: 0, beta1: [0, 0], a: [1, 0], b: [[2], [0]] };
  assert.throws(
    () => mlogitParamsFromAtoms([one, bad], identity),
    (e: unknown) => e instanceof FlexiModalError && /atom 1 has inconsistent shapes/.test(e.message) && e.where === 'mlogitParamsFromAtoms' && /beta1 of length 1, a of length 2, b of 2×1/.test(e.hint ?? ''),
  );
});

test('data that does not match the model is refused by name, whichever of d, K, |X| or |Y| is off', () => {
  // the model: k = 1, K = 2, d = 1; the good data: n = 2 points
  const p = mlogitParamsFromAtoms([{ beta0: 0, beta1: [0.7], a: [1, 0], b: [[2], [0]] }], identity);
  const good: MlogitData = { n: 2, d: 1, K: 2, X: Float64Array.of(0.5, -1), Y: Int32Array.of(0, 1) };
  assert.ok(Number.isFinite(mlogitLogLik(p, good)));
  const bad: [string, MlogitData][] = [
    ['d', { ...good, d: 2, X: Float64Array.of(0.5, -1, 0, 0) }],
    ['K', { ...good, K: 3 }],
    ['|X| ≠ n·d', { ...good, X: Float64Array.of(0.5) }],
    ['|Y| ≠ n', { ...good, Y: Int32Array.of(0) }],
  ];
  for (const [what, data] of bad) {
    assert.throws(
      () => mlogitLogLik(p, data),
      (e: unknown) =>
        e instanceof FlexiModalError &&
        e.message.includes(`data (n=2, d=${data.d}, K=${data.K}) does not match the model (d=1, K=2)`) &&
        e.where === 'mlogit data' &&
        e.hint === 'sample the data with the same d and K as the model',
      what,
    );
  }
});

test('a clone shares no array with its source', () => {
  const p = mlogitParamsFromAtoms([{ beta0: 0.3, beta1: [0.7], a: [1, 0], b: [[2], [0]] }], identity);
  const q = cloneMlogitParams(p);
  q.beta0[0] = 9;
  q.beta1[0] = 9;
  q.a[0] = 9;
  q.b[0] = 9;
  assert.deepEqual([p.beta0[0], p.beta1[0], p.a[0], p.b[0]], [0.3, 0.7, 1, 2]);
});

test('normal covariates are mean + sd · z, z the stream’s own normal draws in order', () => {
  const x = sampleCovariates(3, 2, { kind: 'normal', mean: -1, sd: 3 }, new Rng(11));
  const z = new Rng(11);
  for (let j = 0; j < 6; j++) {
    const want = -1 + 3 * z.normal();
    assert.ok(Math.abs(x[j]! - want) < 1e-12, `x[${j}] = ${x[j]} vs ${want}`);
  }
});

test('a categorical draw stays in its segment when the probabilities sum below 1 (the last index takes the rest)', () => {
  // segment [0, 0] at offset 0, length 2, followed by another segment's 0.9: u = 0.5 exhausts neither entry
  const r = new Rng(1);
  r.next = () => 0.5;
  assert.equal(drawCategorical([0, 0, 0.9], 0, 2, r), 1);
});

test('gate transforms print by their names', () => {
  assert.equal(gateTransformName(parseGateTransform('identity')), 'standard');
  assert.equal(gateTransformName(parseGateTransform('l2normalize')), 'l2-normalize');
  assert.equal(gateTransformName(parseGateTransform('pow3')), 'pow3');
  assert.equal(gateTransformName(parseGateTransform('pow5')), 'pow5');
});

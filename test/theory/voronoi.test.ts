import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGateTransform } from '../../src/theory/gateTransform.js';
import { mlogitAtoms, mlogitParamsFromAtoms, type MlogitAtom } from '../../src/theory/mlogitMoe.js';
import { regimeTruth } from '../../src/theory/regimes.js';
import { voronoiLoss, voronoiLossDetailed } from '../../src/theory/voronoi.js';

const gate = parseGateTransform('standard');
const truth = regimeTruth(1, gate);
const T = mlogitAtoms(truth);

test('D_r is 0 at the truth, also when a true atom is split into two atoms of the same total mass', () => {
  for (const r of [1, 2, 3.5]) assert.equal(voronoiLoss(truth, truth, r), 0);
  const split: MlogitAtom[] = [
    { ...T[0]!, beta0: T[0]!.beta0 + Math.log(0.3) },
    { ...T[0]!, beta0: T[0]!.beta0 + Math.log(0.7) },
    T[1]!,
  ];
  assert.ok(voronoiLoss(mlogitParamsFromAtoms(split, gate), truth, 2) < 1e-12);
  // a gate translation of every atom is the same model: the reference-cell gauge removes it
  const shifted = split.map((a) => ({ ...a, beta0: a.beta0 + 0.4, beta1: [a.beta1[0]! - 1.3] }));
  assert.ok(voronoiLoss(mlogitParamsFromAtoms(shifted, gate), truth, 2) < 1e-12);
});

test('D_r is invariant to permuting the fitted atoms', () => {
  const fit: MlogitAtom[] = [
    { beta0: 0.2, beta1: [2.7], a: [-0.8, 0], b: [[2.3], [0]] },
    { beta0: 0.4, beta1: [3.4], a: [-1.2, 0], b: [[1.6], [0]] },
    { beta0: 0.1, beta1: [0.3], a: [0.9, 0], b: [[-1.2], [0]] },
  ];
  const base = voronoiLoss(mlogitParamsFromAtoms(fit, gate), truth, 2, { gauge: 'none' });
  const baseAligned = voronoiLoss(mlogitParamsFromAtoms(fit, gate), truth, 2);
  for (const perm of [
    [1, 0, 2],
    [2, 1, 0],
    [2, 0, 1],
    [0, 2, 1],
  ]) {
    const p = mlogitParamsFromAtoms(perm.map((i) => fit[i]!), gate);
    assert.ok(Math.abs(voronoiLoss(p, truth, 2, { gauge: 'none' }) - base) < 1e-12);
    assert.ok(Math.abs(voronoiLoss(p, truth, 2) - baseAligned) < 1e-12);
  }
  assert.ok(base > 0 && baseAligned > 0);
});

test('D_r is positive away from the truth and grows with the perturbation', () => {
  let prev = 0;
  for (const eps of [0.01, 0.05, 0.2]) {
    const fit = T.map((a) => ({ ...a, a: [a.a[0]! + eps, 0] }));
    const v = voronoiLoss(mlogitParamsFromAtoms(fit, gate), truth, 2);
    assert.ok(v > prev, `eps ${eps}: ${v}`);
    prev = v;
  }
});

test('D_r matches a hand computation (k* = 2, k = 3, r = 2, no gauge shift)', () => {
  // truth: atom 1 (β₀ = 1, β₁ = 3, a = −1, b = 2), atom 2 (0, 0, 1, −1)
  const fit: MlogitAtom[] = [
    { beta0: 0, beta1: [3.1], a: [-1, 0], b: [[2.2], [0]] }, // cell 1
    { beta0: 0.5, beta1: [2.9], a: [-0.9, 0], b: [[2], [0]] }, // cell 1
    { beta0: -0.1, beta1: [0.2], a: [1, 0], b: [[-1.3], [0]] }, // cell 2 (singleton)
  ];
  const e = Math.exp;
  const mass = Math.abs(e(0) + e(0.5) - e(1)) + Math.abs(e(-0.1) - e(0));
  const over = e(0) * (0.1 ** 2 + 0 + 0.2 ** 2) + e(0.5) * (0.1 ** 2 + 0.1 ** 2 + 0);
  const exact = e(-0.1) * (0.2 + 0 + 0.3);
  const got = voronoiLossDetailed(mlogitParamsFromAtoms(fit, gate), truth, 2, { gauge: 'none' });
  assert.deepEqual(got.cells, [[0, 1], [2]]);
  assert.ok(Math.abs(got.loss - (mass + over + exact)) < 1e-12, `${got.loss} vs ${mass + over + exact}`);
  assert.ok(Math.abs(got.parts.mass - mass) < 1e-12 && Math.abs(got.parts.over - over) < 1e-12 && Math.abs(got.parts.exact - exact) < 1e-12);
  // r = 1 turns the over-specified terms into first powers
  const over1 = e(0) * (0.1 + 0 + 0.2) + e(0.5) * (0.1 + 0.1 + 0);
  assert.ok(Math.abs(voronoiLoss(mlogitParamsFromAtoms(fit, gate), truth, 1, { gauge: 'none' }) - (mass + over1 + exact)) < 1e-12);
  // an empty cell contributes exp(β₀ⱼ*)
  const allInOne = fit.map((a) => ({ ...a, a: [-1, 0], b: [[2], [0]], beta1: [3] }));
  const v = voronoiLossDetailed(mlogitParamsFromAtoms(allInOne, gate), truth, 2, { gauge: 'none' });
  assert.deepEqual(v.cells[1], []);
  assert.ok(v.parts.mass >= e(0) - 1e-12);
});

test('D_r rejects r < 1', () => {
  assert.throws(() => voronoiLoss(truth, truth, 0.5), /r = 0.5/);
});

/**
 * The theory lab's plumbing that the hand-value tests do not pin, written against the mutants
 * Stryker left alive in gateTransform.ts, mlogitMoe.ts and voronoi.ts (docs/CONTRIBUTING.md,
 * "Mutation testing"): gate names, transforms written into a row of a larger buffer, the atom ↔
 * flat-parameter maps, the identifiability gauge, the sampler's draws, and the Voronoi loss of
 * seed 002 eq. (5) against an independent implementation on nested arrays (d = 2, K = 3, so
 * that a wrong flat index cannot go unseen).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlexiModalError } from '../../src/errors.js';
import { Rng } from '../../src/engine/rng.js';
import { applyGateTransform, parseGateTransform } from '../../src/theory/gateTransform.js';
import {
  canonicalizeMlogit,
  drawCategorical,
  mlogitAtoms,
  mlogitClassProbs,
  mlogitLogLik,
  mlogitParamsFromAtoms,
  sampleCovariates,
  type MlogitAtom,
  type MlogitMoeParams,
} from '../../src/theory/mlogitMoe.js';
import { voronoiLossDetailed } from '../../src/theory/voronoi.js';

const close = (a: number, b: number, tol = 1e-12, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
const identity = parseGateTransform('identity');

test('gate names: aliases, case and spaces, pow<m> anchored at both ends', () => {
  assert.deepEqual(parseGateTransform('  Cos '), { kind: 'cos' });
  assert.deepEqual(parseGateTransform('x'), { kind: 'identity' });
  for (const n of ['logabs', 'log|x|', 'log-abs']) assert.deepEqual(parseGateTransform(n), { kind: 'logabs' });
  for (const n of ['l2normalize', 'l2norm', 'l2-normalize']) assert.deepEqual(parseGateTransform(n), { kind: 'l2normalize' });
  assert.deepEqual(parseGateTransform('pow12'), { kind: 'pow', m: 12 });
  assert.deepEqual(parseGateTransform('x^2'), { kind: 'pow', m: 2 });
  for (const bad of ['xpow3', 'pow3x', 'pow', 'pow-1']) {
    assert.throws(
      () => parseGateTransform(bad, '--gate'),
      (e: unknown) => e instanceof FlexiModalError && e.where === '--gate' && /unknown gate/.test(e.message) && /use one of standard, identity, sigmoid/.test(e.hint ?? ''),
      bad,
    );
  }
});

test('gate transforms write exactly their row of a larger buffer; l2-normalize of 0 is 0', () => {
  // x = [9 | 3, 4 | 9], the row at offset 1 of length 2 → out[2..4), neighbours untouched
  for (const t of [parseGateTransform('l2-normalize'), parseGateTransform('pow2')]) {
    const out = new Float64Array([-1, -1, -1, -1, -1]);
    applyGateTransform(t, [9, 3, 4, 9], 1, 2, out, 2);
    assert.equal(out[1], -1);
    assert.equal(out[4], -1, 'nothing written past the row');
    const want = t.kind === 'pow' ? [9, 16] : [0.6, 0.8];
    out.subarray(2, 4).forEach((v, c) => close(v, want[c]!, 1e-12, `${t.kind} [${c}]`));
  }
  const zero = new Float64Array(2);
  applyGateTransform(parseGateTransform('l2-normalize'), [0, 0], 0, 2, zero, 0);
  assert.deepEqual([...zero], [0, 0]);
});

/** Two atoms, K = 3 classes, d = 2: every flat index of the maps is distinct. */
const atoms: MlogitAtom[] = [
  { beta0: 0.3, beta1: [1, -2], a: [0.5, -0.25, 0.75], b: [[1, 2], [3, 4], [5, 6]] },
  { beta0: -0.7, beta1: [0.5, 1.5], a: [-1, 2, 0.25], b: [[-1, 0.5], [2, -3], [0.25, 1]] },
];

test('atoms ↔ flat parameters: the maps are inverse, and bad shapes are named', () => {
  const p = mlogitParamsFromAtoms(atoms, identity);
  assert.deepEqual([p.k, p.K, p.d], [2, 3, 2]);
  assert.deepEqual([...p.beta1], [1, -2, 0.5, 1.5]);
  assert.deepEqual([...p.a], [0.5, -0.25, 0.75, -1, 2, 0.25]);
  assert.deepEqual([...p.b], [1, 2, 3, 4, 5, 6, -1, 0.5, 2, -3, 0.25, 1]);
  assert.deepEqual(mlogitAtoms(p), atoms);
  const broken: [string, MlogitAtom][] = [
    ['a', { ...atoms[1]!, a: [1, 2] }],
    ['b rows', { ...atoms[1]!, b: [[1, 2], [3, 4]] }],
    ['beta1', { ...atoms[1]!, beta1: [1] }],
    ['b row length', { ...atoms[1]!, b: [[1, 2], [3], [5, 6]] }],
  ];
  for (const [what, bad] of broken) {
    assert.throws(
      () => mlogitParamsFromAtoms([atoms[0]!, bad], identity),
      (e: unknown) => e instanceof FlexiModalError && /atom 1 has inconsistent shapes/.test(e.message) && /beta1 of length 2, a of length 3, b of 3×2/.test(e.hint ?? ''),
      what,
    );
  }
  assert.throws(() => mlogitParamsFromAtoms([], identity), /at least one atom/);
});

test('identifiability gauge: last atom and last class pinned to 0, P(Y | x) unchanged', () => {
  const p = mlogitParamsFromAtoms(atoms, identity);
  const q = canonicalizeMlogit(p);
  // gate: subtract atom 2's (β₀, β₁) = (−0.7, [0.5, 1.5]) from both atoms
  assert.deepEqual([...q.beta0].map((v) => +v.toFixed(12)), [1, 0]);
  assert.deepEqual([...q.beta1], [0.5, -3.5, 0, 0]);
  // experts: subtract each atom's last class (a, b): atom 1 (0.75, [5, 6]), atom 2 (0.25, [0.25, 1])
  assert.deepEqual([...q.a], [-0.25, -1, 0, -1.25, 1.75, 0]);
  assert.deepEqual([...q.b], [-4, -4, -2, -2, 0, 0, -1.25, -0.5, 1.75, -4, 0, 0]);
  assert.deepEqual([...p.a], [0.5, -0.25, 0.75, -1, 2, 0.25], 'the input is not modified');
  for (const x of [[0.2, 0.9], [-1, 0.4], [0, 0]]) {
    const before = mlogitClassProbs(p, x);
    const after = mlogitClassProbs(q, x);
    for (let s = 0; s < 3; s++) close(after[s]!, before[s]!, 1e-12, `P(Y=${s} | x=${x})`);
  }
});

/** An Rng whose next() returns the given values in turn. */
function fixedRng(values: number[]): Rng {
  const r = new Rng(1);
  let i = 0;
  r.next = () => values[i++ % values.length]!;
  return r;
}

test('sampler draws: categorical by the cumulative sum, covariates from their distribution', () => {
  const probs = [9, 0.2, 0.5, 0.3, 9]; // the distribution sits at offset 1, length 3
  assert.equal(drawCategorical(probs, 1, 3, fixedRng([0.1])), 0);
  assert.equal(drawCategorical(probs, 1, 3, fixedRng([0.2])), 1, 'u = 0.2 is not below the first mass 0.2');
  assert.equal(drawCategorical(probs, 1, 3, fixedRng([0.69])), 1);
  assert.equal(drawCategorical(probs, 1, 3, fixedRng([0.71])), 2);
  assert.equal(drawCategorical(probs, 1, 3, fixedRng([0.999])), 2);
  const u = sampleCovariates(4000, 2, { kind: 'uniform', lo: 2, hi: 5 }, new Rng(3));
  assert.equal(u.length, 8000);
  assert.ok(u.every((v) => v >= 2 && v < 5));
  close(u.reduce((s, v) => s + v, 0) / u.length, 3.5, 0.05, 'uniform mean');
  const g = sampleCovariates(4000, 2, { kind: 'normal', mean: -1, sd: 3 }, new Rng(4));
  const mean = g.reduce((s, v) => s + v, 0) / g.length;
  const sd = Math.sqrt(g.reduce((s, v) => s + (v - mean) ** 2, 0) / g.length);
  close(mean, -1, 0.1, 'normal mean');
  close(sd, 3, 0.1, 'normal sd');
});

test('log-likelihood refuses data of another shape, naming both', () => {
  const p = mlogitParamsFromAtoms(atoms, identity);
  const ok = { n: 2, d: 2, K: 3, X: new Float64Array(4), Y: new Int32Array(2) };
  assert.ok(Number.isFinite(mlogitLogLik(p, ok)));
  for (const bad of [
    { ...ok, d: 3 },
    { ...ok, K: 2 },
    { ...ok, X: new Float64Array(3) },
    { ...ok, Y: new Int32Array(3) },
  ]) {
    assert.throws(
      () => mlogitLogLik(p, bad),
      (e: unknown) => e instanceof FlexiModalError && /does not match the model \(d=2, K=3\)/.test(e.message) && /same d and K/.test(e.hint ?? ''),
    );
  }
});

/** D_r of eq. (5) on nested arrays (no gauge), written from the formula independently of voronoi.ts. */
function naiveVoronoi(fit: MlogitAtom[], truth: MlogitAtom[], r: number): { loss: number; cells: number[][] } {
  const theta = (t: MlogitAtom) => [...t.beta1, ...t.a.slice(0, -1), ...t.b.slice(0, -1).flat()];
  const cells: number[][] = truth.map(() => []);
  for (const [i, f] of fit.entries()) {
    const d2 = truth.map((t) => theta(f).reduce((s, v, q) => s + (v - theta(t)[q]!) ** 2, 0));
    cells[d2.indexOf(Math.min(...d2))]!.push(i);
  }
  const norm = (u: number[], v: number[]) => Math.sqrt(u.reduce((s, x, q) => s + (x - v[q]!) ** 2, 0));
  let loss = 0;
  truth.forEach((t, j) => {
    const cell = cells[j]!;
    loss += Math.abs(cell.reduce((s, i) => s + Math.exp(fit[i]!.beta0), 0) - Math.exp(t.beta0));
    const pw = cell.length > 1 ? r : 1;
    for (const i of cell) {
      const f = fit[i]!;
      let term = norm(f.beta1, t.beta1) ** pw;
      for (let l = 0; l < t.a.length - 1; l++) term += Math.abs(f.a[l]! - t.a[l]!) ** pw + norm(f.b[l]!, t.b[l]!) ** pw;
      loss += Math.exp(f.beta0) * term;
    }
  });
  return { loss, cells };
}

/** A random atom with K = 3, d = 2 (last class free: the loss uses classes 1..K−1 only). */
function randomAtom(rng: Rng, scale = 1): MlogitAtom {
  const n = () => scale * rng.normal();
  return { beta0: 0.5 * rng.normal(), beta1: [n(), n()], a: [n(), n(), 0], b: [[n(), n()], [n(), n()], [0, 0]] };
}

test('Voronoi loss (eq. 5, no gauge) equals an independent nested-array implementation, r = 1 and 2', () => {
  const rng = new Rng(11);
  for (let rep = 0; rep < 6; rep++) {
    const truth = [randomAtom(rng, 2), randomAtom(rng, 2), randomAtom(rng, 2)];
    // four fitted atoms near the truth: one cell gets two (over-specified), another one
    const fit = [0, 0, 1, 2].map((j) => {
      const t = truth[j]!;
      const e = () => 0.3 * rng.normal();
      return { beta0: t.beta0 + e(), beta1: t.beta1.map((v) => v + e()), a: t.a.map((v) => v + e()), b: t.b.map((row) => row.map((v) => v + e())) };
    });
    for (const r of [1, 2]) {
      const got = voronoiLossDetailed(mlogitParamsFromAtoms(fit, identity), mlogitParamsFromAtoms(truth, identity), r, { gauge: 'none' });
      const want = naiveVoronoi(fit, truth, r);
      assert.deepEqual(got.cells, want.cells);
      close(got.loss, want.loss, 1e-9, `rep ${rep}, r = ${r}`);
      close(got.parts.mass + got.parts.over + got.parts.exact, got.loss, 1e-12, 'parts add up');
    }
  }
});

test('Voronoi gauge: a fit that is the truth translated by (t₀, t₁) has loss 0 and the opposite shift', () => {
  const rng = new Rng(5);
  const truth = mlogitParamsFromAtoms([randomAtom(rng), randomAtom(rng), { beta0: 0, beta1: [0, 0], a: [0.4, -0.6, 0], b: [[1, -1], [0.5, 2], [0, 0]] }], identity);
  const shifted: MlogitMoeParams = { ...truth, beta0: truth.beta0.map((v) => v + 0.8), beta1: truth.beta1.map((v, q) => v + (q % 2 === 0 ? 0.6 : -0.4)) };
  const r = voronoiLossDetailed(shifted, truth, 2);
  close(r.loss, 0, 1e-9, 'loss');
  close(r.shift.t0, -0.8, 1e-9, 't0');
  close(r.shift.t1[0]!, -0.6, 1e-9, 't1[0]');
  close(r.shift.t1[1]!, 0.4, 1e-9, 't1[1]');
  assert.deepEqual(r.cells, [[0], [1], [2]]);
  // the same fit without the gauge is far from the truth
  assert.ok(voronoiLossDetailed(shifted, truth, 2, { gauge: 'none' }).loss > 0.5);
  // shapes must agree; r must be ≥ 1
  const shapeRefusal = (e: unknown) => e instanceof FlexiModalError && e.where === 'voronoiLoss' && e.message.includes('fitted and true measures have different K or d') && e.hint === 'compare models of the same shape';
  assert.throws(() => voronoiLossDetailed(shifted, { ...truth, K: 4 }, 2), shapeRefusal);
  assert.throws(() => voronoiLossDetailed(shifted, { ...truth, d: 3 }, 2), shapeRefusal);
  assert.throws(() => voronoiLossDetailed(shifted, truth, 0.5), (e: unknown) => e instanceof FlexiModalError && e.where === 'voronoiLoss r' && /r = 0\.5 must be ≥ 1/.test(e.message) && e.hint === 'use r = 1 or 2');
});

test('Voronoi gauge with an empty reference cell: no shift, a finite loss', () => {
  const rng = new Rng(8);
  const t0 = randomAtom(rng, 3);
  const truth = mlogitParamsFromAtoms([t0, randomAtom(rng, 3), { beta0: 0, beta1: [0, 0], a: [9, -9, 0], b: [[9, 9], [-9, 9], [0, 0]] }], identity);
  // both fitted atoms sit on the first true atom: the reference (last) cell is empty
  const fit = mlogitParamsFromAtoms([t0, { ...t0, beta0: t0.beta0 - 1 }], identity);
  const r = voronoiLossDetailed(fit, truth, 2);
  assert.deepEqual(r.cells, [[0, 1], [], []]);
  assert.deepEqual(r.shift, { t0: 0, t1: [0, 0] });
  assert.ok(Number.isFinite(r.loss) && r.loss > 0, String(r.loss));
});

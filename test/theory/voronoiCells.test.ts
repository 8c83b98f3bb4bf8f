/**
 * The Voronoi cells and the reference-cell gauge of src/theory/voronoi.ts (seed 002 eq. (5)), on
 * cases built so that each part decides something: a gauge shift that moves an atom into another
 * cell (the alignment must iterate), cells decided by the gate slope alone, by an expert intercept
 * alone and by an expert slope alone, the tie rule, the reference class that eq. (5) leaves out,
 * and a gauge intercept t₀ ≠ 0 that weighs the loss. Every expected value is worked by hand in the
 * comments (d = 1 unless said, so θ = (β₁ + t₁, a_{·,0..K−2}, b_{·,0..K−2})).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGateTransform } from '../../src/theory/gateTransform.js';
import type { MlogitMoeParams } from '../../src/theory/mlogitMoe.js';
import { voronoiCells, voronoiLossDetailed, nearestAtomCells } from '../../src/theory/voronoi.js';

const close = (a: number, b: number, tol = 1e-12, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** A mixing measure with d = 1 from per-atom lists (a and b: K values per atom, the last one the reference class). */
function measure(beta0: number[], beta1: number[], a: number[][], b: number[][]): MlogitMoeParams {
  const K = a[0]!.length;
  return {
    k: beta0.length,
    K,
    d: 1,
    gate: parseGateTransform('identity'),
    beta0: Float64Array.from(beta0),
    beta1: Float64Array.from(beta1),
    a: Float64Array.from(a.flat()),
    b: Float64Array.from(b.flat()),
  };
}
const zeros = (k: number, K: number) => Array.from({ length: k }, () => new Array<number>(K).fill(0));

test('gauge: a shift that moves an atom into another cell makes the alignment iterate until the cells stop changing', () => {
  // truth: T0 slope 5, T1 (the reference, last) slope 0, both mass 1; fit slopes −3.4, 2.2, 3.5, 9, all mass 1
  const truth = measure([0, 0], [5, 0], zeros(2, 2), zeros(2, 2));
  const fit = measure([0, 0, 0, 0], [-3.4, 2.2, 3.5, 9], zeros(4, 2), zeros(4, 2));
  // round 1, t₁ = 0: −3.4 → T1; 2.2 → T1 (4.84 < 7.84); 3.5 → T0; 9 → T0. Reference cell {0, 1}:
  //   mass 2, mean slope −0.6 → t₀ = −ln 2, t₁ = 0.6; shifted: 2.2 + 0.6 = 2.8 → T0 (4.84 < 7.84): cells change
  // round 2: reference cell {0}: mass 1, mean −3.4 → t₀ = 0, t₁ = 3.4; shifted 0, 5.6, 6.9, 12.4 → same cells: stop
  const r = voronoiLossDetailed(fit, truth, 2);
  assert.deepEqual(r.cells, [[1, 2, 3], [0]]);
  close(r.shift.t0, 0, 1e-12, 't0');
  assert.equal(r.shift.t1.length, 1, 't1 has one entry per slope coordinate');
  close(r.shift.t1[0]!, 3.4, 1e-12, 't1');
  // the loss at that gauge: cell T0 = {1, 2, 3} (over-specified, r = 2): mass |3 − 1| = 2; slopes
  //   shifted 5.6, 6.9, 12.4 → Δ² = 0.36, 3.61, 54.76; cell T1 = {0}: mass 0, Δβ₁ = 0
  close(r.parts.mass, 2, 1e-12, 'mass');
  close(r.parts.over, 0.36 + 3.61 + 54.76, 1e-9, 'over');
  close(r.parts.exact, 0, 1e-12, 'exact');
  close(r.loss, 2 + 0.36 + 3.61 + 54.76, 1e-9, 'loss');
});

test('gauge intercept t₀ ≠ 0 weighs every fitted atom by exp(β₀ᵢ + t₀)', () => {
  // truth masses 1 and 1 (β₀* = 0), slopes 5 and 0; fit: atom 0 (β₀ = ln 2, slope 6, a₀ = 0.5), atom 1 (β₀ = ln 3, slope 1)
  const truth = measure([0, 0], [5, 0], zeros(2, 2), zeros(2, 2));
  const fit = measure([Math.log(2), Math.log(3)], [6, 1], [[0.5, 0], [0, 0]], zeros(2, 2));
  // cells {0} → T0, {1} → T1; reference cell {1}: t₀ = 0 − ln 3, t₁ = 0 − 1 = −1 (cells unchanged)
  // T0: mass e^{ln 2 − ln 3} = 2/3 → |2/3 − 1| = 1/3; exact cell (order 1): w = 2/3, Δβ₁ = 6 − 1 − 5 = 0, |Δa| = 0.5 → 1/3
  // T1: mass 1 → 0; Δβ₁ = 1 − 1 − 0 = 0 → 0
  const r = voronoiLossDetailed(fit, truth, 2);
  assert.deepEqual(r.cells, [[0], [1]]);
  close(r.shift.t0, -Math.log(3), 1e-12, 't0');
  close(r.shift.t1[0]!, -1, 1e-12, 't1');
  close(r.parts.mass, 1 / 3, 1e-12, 'mass');
  close(r.parts.exact, 1 / 3, 1e-12, 'exact');
  close(r.loss, 2 / 3, 1e-12, 'loss');
});

test('cells are decided by the gate slope, an expert intercept or an expert slope alone (gauge none)', () => {
  // K = 3 (two free classes). Truth T0 and T1 differ in one block at a time; the fitted atom is
  // nearer T1 in that block and equal to both elsewhere.
  const K = 3;
  const base = () => ({ beta1: [0, 0], a: zeros(2, K), b: zeros(2, K) });
  // gate slope: T0 β₁ = 0, T1 β₁ = 4; fit β₁ = 3 → T1
  {
    const t = base();
    t.beta1 = [0, 4];
    const r = voronoiLossDetailed(measure([0], [3], zeros(1, K), zeros(1, K)), measure([0, 0], t.beta1, t.a, t.b), 2, { gauge: 'none' });
    assert.deepEqual(r.cells, [[], [0]], 'slope block');
  }
  // expert intercept of free class 1 (the second free class): T1 a₁ = 4; fit a₁ = 3 → T1
  {
    const t = base();
    t.a[1]![1] = 4;
    const fa = zeros(1, K);
    fa[0]![1] = 3;
    const r = voronoiLossDetailed(measure([0], [0], fa, zeros(1, K)), measure([0, 0], t.beta1, t.a, t.b), 2, { gauge: 'none' });
    assert.deepEqual(r.cells, [[], [0]], 'intercept block');
  }
  // expert slope of free class 1: T1 b₁ = 4; fit b₁ = 3 → T1
  {
    const t = base();
    t.b[1]![1] = 4;
    const fb = zeros(1, K);
    fb[0]![1] = 3;
    const r = voronoiLossDetailed(measure([0], [0], zeros(1, K), fb), measure([0, 0], t.beta1, t.a, t.b), 2, { gauge: 'none' });
    assert.deepEqual(r.cells, [[], [0]], 'slope-of-expert block');
  }
});

test('the reference class (pinned to 0 by the identifiability constraint) enters neither the cells nor eq. (5)', () => {
  // K = 2, d = 1: the free class is s = 0 only. The fitted atom is nearer T0 in the free entries; its
  // reference-class entries (a_{·,1}, b_{·,1}), which a fit never moves, are set to values near T1's.
  const truth = measure([0, 0], [0, 0], [[0, 0], [4, 9]], [[0, 0], [4, 9]]);
  const fit = measure([0], [0], [[1, 9]], [[1, 9]]);
  // free entries only: θ_fit = (0, 1, 1), T0 = (0, 0, 0) (distance 2), T1 = (0, 4, 4) (distance 18) → T0
  const r = voronoiLossDetailed(fit, truth, 2, { gauge: 'none' });
  assert.deepEqual(r.cells, [[0], []]);
  // T0: mass |1 − 1| = 0, exact cell: Δβ₁ = 0, |Δa₀| = 1, |Δb₀| = 1 → 2; T1: mass |0 − 1| = 1
  close(r.loss, 3, 1e-12, 'loss');
  close(r.parts.exact, 2, 1e-12, 'exact');
  close(r.parts.mass, 1, 1e-12, 'mass');
});

test('ties go to the lower true index; voronoiCells without a shift uses none', () => {
  // 1-D: truths at 0 and 2, fitted atom at 1 (equidistant)
  assert.deepEqual(nearestAtomCells([[1]], [[0], [2]]), [[0], []]);
  assert.deepEqual(nearestAtomCells([[1]], [[2], [0]]), [[0], []]);
  // voronoiCells(fit, truth) = voronoiCells(fit, truth, [0]): slope 1.2 is nearer 2 than 0 → T1 either way
  const truth = measure([0, 0], [0, 2], zeros(2, 2), zeros(2, 2));
  const fit = measure([0], [1.2], zeros(1, 2), zeros(1, 2));
  assert.deepEqual(voronoiCells(fit, truth), [[], [0]]);
  assert.deepEqual(voronoiCells(fit, truth, [-1]), [[0], []], 'a shift of −1 moves it to 0.2, nearer T0');
});

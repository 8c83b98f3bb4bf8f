/**
 * The theory lab's dense linear algebra (src/theory/linalg.ts) on hand-worked cases: the
 * theory target's mutation run found most of it executed only through EM fits that do not pin
 * its values (258 mutants without a covering test). Each expected value is worked in a comment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choleskyInto, logSumExp, olsSlope, softmaxInPlace, solveSpd, symmetricEigen, symmetrizeLower } from '../../src/theory/linalg.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
const f64 = (...v: number[]) => Float64Array.from(v);

test('solveSpd: exact solve, the ridge argument, and A and b left untouched', () => {
  // A = [[4, 2], [2, 3]] (det 8, A⁻¹ = [[3, −2], [−2, 4]] / 8), b = (2, 1) → x = (6 − 2, −4 + 4) / 8 = (0.5, 0)
  const A = f64(4, 2, 2, 3);
  const b = f64(2, 1);
  const x = solveSpd(A, b, 2);
  close(x[0]!, 0.5, 1e-15, 'x0');
  close(x[1]!, 0, 1e-15, 'x1');
  assert.deepEqual(Array.from(A), [4, 2, 2, 3]);
  assert.deepEqual(Array.from(b), [2, 1]);
  // ridge 1: (A + I) = [[5, 2], [2, 4]] (det 16) → x = ([4, −2], [−2, 5]) · (2, 1) / 16 = (6, 1) / 16
  const xr = solveSpd(A, b, 2, 1);
  close(xr[0]!, 6 / 16, 1e-15, 'ridge x0');
  close(xr[1]!, 1 / 16, 1e-15, 'ridge x1');
});

test('solveSpd on a singular A: the first ridge is 1e-10 · trace / n, read off along the null space', () => {
  // A = [[1, 1], [1, 1]] is singular (eigenvalues 2 and 0, null space (1, −1)); trace 2, n = 2 → λ = 1e-10.
  // b = (1, −1) lies in the null space, so (A + λI) x = b gives x = b / λ = (1e10, −1e10)
  const x = solveSpd(f64(1, 1, 1, 1), f64(1, -1), 2);
  close(x[0]! / 1e10, 1, 1e-5, 'x0 · λ');
  close(x[1]! / 1e10, -1, 1e-5, 'x1 · λ');
  // a larger trace scales the first ridge: A = 100·[[1, 1], [1, 1]] → λ = 1e-10 · 100 = 1e-8 → x = b / 1e-8
  const y = solveSpd(f64(100, 100, 100, 100), f64(1, -1), 2);
  close(y[0]! / 1e8, 1, 1e-5, 'scaled ridge');
});

test('solveSpd on an indefinite A: the ridge grows ×10 until A + λI is positive definite', () => {
  // A = diag(1, −1): λ = 1e-10, 1e-9, …, 1 fail (the second pivot is λ − 1 ≤ 0), λ ≈ 10 succeeds;
  // b = (11, 9) → x = (11 / 11, 9 / 9) = (1, 1)
  const x = solveSpd(f64(1, 0, 0, -1), f64(11, 9), 2);
  close(x[0]!, 1, 1e-12, 'x0');
  close(x[1]!, 1, 1e-12, 'x1');
  // a hopeless system (NaN) gives no step: zeros of length n
  assert.deepEqual(Array.from(solveSpd(f64(NaN, 0, 0, 1), f64(1, 1), 2)), [0, 0]);
});

test('choleskyInto: L of a 2 × 2 by hand; false for a zero or infinite pivot', () => {
  // [[4, 2], [2, 3]] = L Lᵀ with L = [[2, 0], [1, √2]]
  const L = new Float64Array(4).fill(7);
  assert.equal(choleskyInto(f64(4, 2, 2, 3), 2, 0, L), true);
  close(L[0]!, 2, 0, 'L00');
  assert.equal(L[1], 0, 'upper triangle cleared');
  close(L[2]!, 1, 0, 'L10');
  close(L[3]!, Math.SQRT2, 1e-15, 'L11');
  // with λ = 5: [[9, 2], [2, 8]] → L00 = 3, L10 = 2/3, L11 = √(8 − 4/9)
  assert.equal(choleskyInto(f64(4, 2, 2, 3), 2, 5, L), true);
  close(L[3]!, Math.sqrt(8 - 4 / 9), 1e-15, 'L11 with λ');
  // 3 × 3, so that every index of the factor and the two substitutions is used:
  // [[4, 2, 0], [2, 5, 1], [0, 1, 3]] → L = [[2, 0, 0], [1, 2, 0], [0, 0.5, √2.75]]
  const A3 = f64(4, 2, 0, 2, 5, 1, 0, 1, 3);
  const L3 = new Float64Array(9);
  assert.equal(choleskyInto(A3, 3, 0, L3), true);
  [2, 0, 0, 1, 2, 0, 0, 0.5, Math.sqrt(2.75)].forEach((want, i) => close(L3[i]!, want, 1e-15, `L3[${i}]`));
  // b = A3 · (1, −1, 2) = (2, −1, 5) → x = (1, −1, 2)
  const x3 = solveSpd(A3, f64(2, -1, 5), 3);
  [1, -1, 2].forEach((want, i) => close(x3[i]!, want, 1e-14, `x3[${i}]`));
  assert.equal(choleskyInto(f64(0), 1, 0, L), false);
  assert.equal(choleskyInto(f64(Infinity), 1, 0, L), false);
});

test('symmetrizeLower copies the lower triangle up', () => {
  const A = f64(1, 0, 0, 2, 3, 0, 4, 5, 6);
  symmetrizeLower(A, 3);
  assert.deepEqual(Array.from(A), [1, 2, 4, 2, 3, 5, 4, 5, 6]);
});

test('logSumExp and softmaxInPlace: values by hand, sub-ranges, −∞ and large scores', () => {
  close(logSumExp([1, 2, 3]), 3 + Math.log(Math.exp(-2) + Math.exp(-1) + 1), 1e-15, 'lse');
  // v[1..3) = (1, 2) only
  close(logSumExp([100, 1, 2, -50], 1, 2), 2 + Math.log(Math.exp(-1) + 1), 1e-15, 'lse sub-range');
  close(logSumExp(f64(5, -1, 7), 1), 7 + Math.log(Math.exp(-8) + 1), 1e-15, 'lse from an offset to the end');
  assert.equal(logSumExp([-Infinity, -Infinity]), -Infinity);
  close(logSumExp([1000, 1000]), 1000 + Math.log(2), 1e-12, 'no overflow');
  const v = f64(9, 0, Math.log(3), 9);
  softmaxInPlace(v, 1, 2); // (1, 3) / 4, the entries outside untouched
  assert.deepEqual([v[0], v[3]], [9, 9]);
  close(v[1]!, 0.25, 1e-15, 'p0');
  close(v[2]!, 0.75, 1e-15, 'p1');
  const big = f64(1000, 1000 + Math.log(3));
  softmaxInPlace(big, 0, 2);
  close(big[0]!, 0.25, 1e-12, 'large scores');
});

test('olsSlope: slope, intercept, standard error and r² by hand; degenerate inputs', () => {
  // x = (0, 1, 2, 3), y = (1, 3, 2, 5): x̄ = 1.5, ȳ = 2.75, Sxx = 5, Sxy = 5.5, Syy = 8.75
  // slope 1.1, intercept 2.75 − 1.65 = 1.1; residuals −0.1, 0.8, −1.3, 0.6 → RSS 2.7
  // stderr √(2.7 / 2 / 5) = √0.27; r² = 1 − 2.7 / 8.75
  const r = olsSlope([0, 1, 2, 3], [1, 3, 2, 5]);
  close(r.slope, 1.1, 1e-14, 'slope');
  close(r.intercept, 1.1, 1e-14, 'intercept');
  close(r.slopeStderr, Math.sqrt(0.27), 1e-14, 'stderr');
  close(r.r2, 1 - 2.7 / 8.75, 1e-14, 'r2');
  // two points: a line through both, no standard error
  const two = olsSlope([1, 3], [2, 6]);
  close(two.slope, 2, 1e-15, 'two-point slope');
  close(two.intercept, 0, 1e-15, 'two-point intercept');
  assert.ok(Number.isNaN(two.slopeStderr));
  // constant y: r² = 1 by convention
  assert.equal(olsSlope([0, 1, 2], [4, 4, 4]).r2, 1);
  for (const [x, y] of [
    [[1], [1]],
    [[1, 2, 3], [1, 2]],
  ] as const) {
    const d = olsSlope([...x], [...y]);
    assert.ok([d.slope, d.intercept, d.slopeStderr, d.r2].every(Number.isNaN), `x ${x}, y ${y}: all NaN`);
  }
});

test('symmetricEigen: 2 × 2 by hand, a permuted diagonal, and A v = λ v on a full 3 × 3', () => {
  // [[2, 1], [1, 2]]: λ = 1 with (1, −1)/√2, λ = 3 with (1, 1)/√2
  const e = symmetricEigen(f64(2, 1, 1, 2), 2);
  close(e.values[0]!, 1, 1e-14, 'λ0');
  close(e.values[1]!, 3, 1e-14, 'λ1');
  const s = Math.SQRT1_2;
  close(Math.abs(e.vectors[0]!), s, 1e-14, 'v0[0]'); // column 0 = (V[0], V[2])
  close(e.vectors[0]! * e.vectors[2]!, -0.5, 1e-14, 'v0 ∝ (1, −1)');
  close(e.vectors[1]! * e.vectors[3]!, 0.5, 1e-14, 'v1 ∝ (1, 1)');
  // diag(3, 1, 2): values (1, 2, 3), vectors the unit axes (2, 3, 1) as columns
  const d = symmetricEigen(f64(3, 0, 0, 0, 1, 0, 0, 0, 2), 3);
  assert.deepEqual(Array.from(d.values), [1, 2, 3]);
  assert.deepEqual(Array.from(d.vectors, Math.abs), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
  // [[4, 1, 0], [1, 3, 1], [0, 1, 2]]: trace 9, det 4·(6 − 1) − 1·(2 − 0) = 18; A v = λ v, V orthonormal, values sorted
  const A = [4, 1, 0, 1, 3, 1, 0, 1, 2];
  const f = symmetricEigen(Float64Array.from(A), 3);
  close(f.values[0]! + f.values[1]! + f.values[2]!, 9, 1e-12, 'trace');
  close(f.values[0]! * f.values[1]! * f.values[2]!, 18, 1e-11, 'det');
  assert.ok(f.values[0]! < f.values[1]! && f.values[1]! < f.values[2]!, 'increasing');
  for (let m = 0; m < 3; m++) {
    for (let i = 0; i < 3; i++) {
      let av = 0;
      for (let k = 0; k < 3; k++) av += A[i * 3 + k]! * f.vectors[k * 3 + m]!;
      close(av, f.values[m]! * f.vectors[i * 3 + m]!, 1e-12, `(A v${m})[${i}]`);
    }
    for (let q = 0; q < 3; q++) {
      let dot = 0;
      for (let i = 0; i < 3; i++) dot += f.vectors[i * 3 + m]! * f.vectors[i * 3 + q]!;
      close(dot, m === q ? 1 : 0, 1e-12, `v${m} · v${q}`);
    }
  }
  const input = Float64Array.from(A);
  symmetricEigen(input, 3);
  assert.deepEqual(Array.from(input), A, 'A is not modified');
});

/**
 * Test helpers shared by test/nn and test/encoders (not a test file itself).
 */
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';

/** Assert two flat arrays agree entry-wise within `tol` (absolute). */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Number.isFinite(a), `${what}[${i}] is not finite: ${a}`);
    assert.ok(Math.abs(a - e) <= tol, `${what}[${i}]: ${a} vs expected ${e} (tol ${tol})`);
  }
}

/** Set a variable's value from a flat array. */
export function setVar(v: tf.Variable, values: number[] | Float32Array): void {
  tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
}

/**
 * Finite-difference check of d loss / d variables (central differences, probing at most
 * `maxEntries` coordinates per variable). Returns the largest relative error
 * |a − f| / max(floor, |a|, |f|).
 */
export function checkVariableGrads(
  loss: () => tf.Scalar,
  vars: tf.Variable[],
  opts: { eps?: number; maxEntries?: number; floor?: number } = {},
): { maxRelError: number; maxAbsError: number; checked: number; nonZero: number } {
  const eps = opts.eps ?? 1e-2;
  const maxEntries = opts.maxEntries ?? 12;
  const floor = opts.floor ?? 1e-2;
  const { grads } = tf.variableGrads(loss, vars);
  let maxRel = 0;
  let maxAbs = 0;
  let checked = 0;
  let nonZero = 0;
  for (const v of vars) {
    const g = grads[v.name]!.dataSync().slice();
    const base = v.dataSync().slice() as Float32Array;
    const stride = Math.max(1, Math.floor(base.length / maxEntries));
    for (let j = 0; j < base.length; j += stride) {
      const at = (delta: number): number => {
        const probe = base.slice();
        probe[j] = probe[j]! + delta;
        setVar(v, probe);
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      const num = (at(eps) - at(-eps)) / (2 * eps);
      setVar(v, base);
      const a = g[j]!;
      const abs = Math.abs(a - num);
      maxAbs = Math.max(maxAbs, abs);
      maxRel = Math.max(maxRel, abs / Math.max(floor, Math.abs(a), Math.abs(num)));
      checked++;
    }
    if (g.some((x) => x !== 0)) nonZero++;
  }
  Object.values(grads).forEach((t) => t.dispose());
  return { maxRelError: maxRel, maxAbsError: maxAbs, checked, nonZero };
}

/** Assert every variable gets a finite, not-all-zero gradient from `loss`. */
export function assertAllGradsNonZero(loss: () => tf.Scalar, vars: tf.Variable[]): void {
  const { grads } = tf.variableGrads(loss, vars);
  for (const v of vars) {
    const g = grads[v.name]!.dataSync();
    assert.ok(
      g.every((x) => Number.isFinite(x)),
      `gradient of ${v.name} has non-finite entries`,
    );
    assert.ok(
      g.some((x) => x !== 0),
      `gradient of ${v.name} is all zero`,
    );
  }
  Object.values(grads).forEach((t) => t.dispose());
}

/** A fixed pseudo-random tensor (for projecting outputs to a scalar loss). */
export function fixedRandom(shape: number[], seed = 7): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

/**
 * Tensor-leak helpers: measure how many tensors a piece of code leaves behind and assert that
 * a training loop keeps `tf.memory().numTensors` flat.
 */
import { tf } from './tf.js';

/** Live tensor count and bytes right now. */
export function tensorCount(): { numTensors: number; numBytes: number } {
  const m = tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}

/** Runs `f` and returns its result plus how many tensors it left alive (may be negative). */
export function measureLeak<T>(f: () => T): { result: T; leaked: number } {
  const before = tf.memory().numTensors;
  const result = f();
  return { result, leaked: tf.memory().numTensors - before };
}

/**
 * Runs `step` `steps` times and records the live tensor count after each. Throws (with the
 * counts) if the count after any step differs from the count after the first step by more than
 * `tolerance`: the first step may legitimately allocate optimiser slots.
 */
export function assertFlatTensorCount(step: (i: number) => void, steps = 5, tolerance = 0): number[] {
  const counts: number[] = [];
  for (let i = 0; i < steps; i++) {
    step(i);
    counts.push(tf.memory().numTensors);
  }
  const first = counts[0]!;
  const bad = counts.findIndex((c) => Math.abs(c - first) > tolerance);
  if (bad >= 0) {
    throw new Error(
      `tensor leak: live tensors after each step were [${counts.join(', ')}] (step ${bad + 1} differs from ` +
        `step 1 by ${counts[bad]! - first}). Wrap the step in tf.tidy or dispose what it creates.`,
    );
  }
  return counts;
}

/**
 * Gradient consistency (REMIND §3.1 and appendix 7.1): for a set of examples X with per-example
 * loss gradients J [n, p] of the fusion block's parameters,
 *
 *   NTK Θ = J Jᵀ [n, n],  u = top eigenvector of Θ (power iteration),  g(X) = uᵀ J [p]
 *   GC(g_k) = cos(g(X), g(X_k))  for the examples X_k of modality-combination group k.
 *
 * The sign of an eigenvector is arbitrary; we fix it so that g points along the summed gradient
 * (g · Σᵢ Jᵢ ≥ 0), so GC compares the directions training actually moves in. Rows of J are
 * gradients of each example's task loss (appendix 7.1.2; eq. 9 writes ∇f, the loss gradient is
 * the same direction scaled per example for a scalar output).
 */
import { tf } from '../engine/tf.js';
import type { Sample, TaskSpec } from '../data/schema.js';
import type { Batch } from '../data/batchTypes.js';
import type { FusionModel } from '../models/model.js';
import { taskLoss, type TaskLossOptions } from '../train/taskLoss.js';
import { FlexiModalError } from '../errors.js';

/**
 * Per-example gradients of the task loss w.r.t. `params` (inference mode: no dropout), one
 * forward/backward per example: rows [n][p] in the order of `params` (flattened).
 */
export function perExampleGradients(
  model: FusionModel,
  task: TaskSpec,
  samples: Sample[],
  toBatch: (s: Sample[]) => Batch,
  params: tf.Variable[],
  loss: TaskLossOptions,
): Float32Array[] {
  if (params.length === 0) throw new FlexiModalError('gradient consistency: no parameters selected', { hint: 'check analysis.gradientConsistency.params against the model variable names' });
  const p = params.reduce((a, v) => a + v.size, 0);
  return samples.map((s) => {
    const batch = toBatch([s]);
    const row = new Float32Array(p);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => taskLoss(task, model.forward(batch, { training: false }).logits, batch.labels, loss), params);
      let at = 0;
      for (const v of params) {
        const g = grads[v.name];
        if (g) row.set(g.dataSync(), at);
        at += v.size;
      }
    });
    return row;
  });
}

/** Top eigenvector of the symmetric PSD matrix K [n, n] (row-major) by power iteration; unit norm. */
export function topEigenvector(K: Float64Array, n: number, maxIter = 500, tol = 1e-12): Float64Array {
  let u = new Float64Array(n).fill(1 / Math.sqrt(n));
  for (let it = 0; it < maxIter; it++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += K[i * n + j]! * u[j]!;
      v[i] = s;
    }
    const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
    if (norm === 0) return u; // Θ = 0: every direction is an eigenvector
    let diff = 0;
    for (let i = 0; i < n; i++) {
      v[i]! /= norm;
      diff += (v[i]! - u[i]!) ** 2;
    }
    u = v;
    if (diff < tol) break;
  }
  return u;
}

/** Dominant gradient direction g = uᵀJ of a set of per-example gradients (sign: along Σᵢ Jᵢ). */
export function dominantDirection(J: Float32Array[]): Float64Array {
  const n = J.length;
  if (n === 0) throw new FlexiModalError('gradient consistency: an empty set of examples');
  const p = J[0]!.length;
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      const a = J[i]!;
      const b = J[j]!;
      for (let k = 0; k < p; k++) s += a[k]! * b[k]!;
      K[i * n + j] = s;
      K[j * n + i] = s;
    }
  }
  const u = topEigenvector(K, n);
  const g = new Float64Array(p);
  const sum = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const row = J[i]!;
    for (let k = 0; k < p; k++) {
      g[k]! += u[i]! * row[k]!;
      sum[k]! += row[k]!;
    }
  }
  if (dot(g, sum) < 0) for (let k = 0; k < p; k++) g[k] = -g[k]!;
  return g;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Cosine similarity; NaN when either vector is zero. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const na = Math.sqrt(dot(a, a));
  const nb = Math.sqrt(dot(b, b));
  return na > 0 && nb > 0 ? dot(a, b) / (na * nb) : NaN;
}

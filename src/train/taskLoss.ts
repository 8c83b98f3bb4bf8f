/**
 * Task losses on logits: binary / multi-label BCE (optionally positive-weighted), focal loss
 * (Lin et al. 2017, γ = 2 by default), multi-class cross-entropy.
 */
import { tf } from '../engine/tf.js';
import type { TaskSpec } from '../data/schema.js';

export interface TaskLossOptions {
  /** 'bce' (binary/multilabel) or 'ce' (multiclass) is chosen from the task; 'focal' replaces it. */
  type: 'default' | 'focal';
  /** Weight of positive examples in BCE (binary/multilabel). 1 = unweighted. */
  posWeight: number;
  /** Focal-loss focusing parameter. */
  focalGamma: number;
}

/** Numerically stable log σ(z) = −softplus(−z). */
function logSigmoid(z: tf.Tensor): tf.Tensor {
  return tf.neg(tf.softplus(tf.neg(z)));
}

/**
 * Mean task loss over the batch.
 * logits: binary [B, 1], multilabel [B, L], multiclass [B, C].
 * labels: binary [B] 0/1, multilabel [B*L] 0/1 (row-major), multiclass [B] class indices.
 * sampleWeights (optional) [B]: per-sample weights (e.g. group DRO), mean-normalised by the caller.
 */
export function taskLoss(
  task: TaskSpec,
  logits: tf.Tensor2D,
  labels: Float32Array,
  opts: TaskLossOptions,
  sampleWeights?: tf.Tensor1D,
): tf.Scalar {
  return tf.tidy(() => {
    const perSample = perSampleTaskLoss(task, logits, labels, opts); // [B]
    if (sampleWeights) return tf.mean(tf.mul(perSample, sampleWeights)) as tf.Scalar;
    return tf.mean(perSample) as tf.Scalar;
  });
}

/** The task loss of each sample, [B] (same definitions as `taskLoss`, before the batch mean). */
export function perSampleTaskLoss(task: TaskSpec, logits: tf.Tensor2D, labels: Float32Array, opts: TaskLossOptions): tf.Tensor1D {
  return tf.tidy(() => {
    const [B, C] = logits.shape;
    let perSample: tf.Tensor1D; // [B]
    if (task.kind === 'multiclass') {
      const y = tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), C); // [B, C]
      const logp = tf.logSoftmax(logits); // [B, C]
      if (opts.type === 'focal') {
        const p = tf.exp(logp);
        const w = tf.pow(tf.sub(1, p), opts.focalGamma);
        perSample = tf.neg(tf.sum(tf.mul(tf.mul(y, w), logp), 1)) as tf.Tensor1D;
      } else {
        perSample = tf.neg(tf.sum(tf.mul(y, logp), 1)) as tf.Tensor1D;
      }
    } else {
      const y = tf.tensor2d(labels, [B, C]); // [B, C]
      const logP = logSigmoid(logits); // log p
      const logQ = logSigmoid(tf.neg(logits)); // log (1 − p)
      let pos = tf.mul(y, logP);
      let neg = tf.mul(tf.sub(1, y), logQ);
      if (opts.type === 'focal') {
        const p = tf.sigmoid(logits);
        pos = tf.mul(pos, tf.pow(tf.sub(1, p), opts.focalGamma));
        neg = tf.mul(neg, tf.pow(p, opts.focalGamma));
      }
      if (opts.posWeight !== 1) pos = tf.mul(pos, opts.posWeight);
      perSample = tf.neg(tf.mean(tf.add(pos, neg), 1)) as tf.Tensor1D;
    }
    return perSample;
  });
}

/** Convert logits to probabilities: sigmoid for binary/multilabel, softmax for multiclass. */
export function logitsToProbs(task: TaskSpec, logits: tf.Tensor2D): tf.Tensor2D {
  return task.kind === 'multiclass' ? tf.softmax(logits) : tf.sigmoid(logits);
}

/** Number of output units the head needs for a task. */
export function outputUnits(task: TaskSpec): number {
  switch (task.kind) {
    case 'binary':
      return 1;
    case 'multiclass':
      return task.classes.length;
    case 'multilabel':
      return task.labels.length;
  }
}

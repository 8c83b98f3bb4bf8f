/**
 * Batched inference: probabilities for a list of samples.
 */
import { tf } from '../engine/tf.js';
import type { Sample, TaskSpec } from '../data/schema.js';
import type { Batch } from '../data/batchTypes.js';
import type { FusionModel } from '../models/model.js';
import { logitsToProbs, outputUnits } from './taskLoss.js';

/** Probabilities for every sample, row-major [N, C] (C = 1 for binary). */
export interface Predictions {
  ids: string[];
  /** [N, C] row-major */
  probs: Float32Array;
  /** C */
  width: number;
}

/** Run the model in inference mode over `samples` in batches of `batchSize`. */
export function predict(
  model: FusionModel,
  task: TaskSpec,
  samples: Sample[],
  toBatch: (samples: Sample[]) => Batch,
  batchSize: number,
): Predictions {
  const width = outputUnits(task);
  const probs = new Float32Array(samples.length * width);
  const ids: string[] = [];
  for (let start = 0; start < samples.length; start += batchSize) {
    const chunk = samples.slice(start, start + batchSize);
    const batch = toBatch(chunk);
    const p = tf.tidy(() => logitsToProbs(task, model.forward(batch, { training: false }).logits).dataSync());
    probs.set(p, start * width);
    ids.push(...batch.ids);
  }
  return { ids, probs, width };
}

/** Labels of samples as the flat array the metrics expect ([N] or [N, L] row-major). */
export function labelsOf(task: TaskSpec, samples: Sample[]): Float32Array {
  if (task.kind === 'multilabel') {
    const L = task.labels.length;
    const out = new Float32Array(samples.length * L);
    samples.forEach((s, i) => out.set(s.label as number[], i * L));
    return out;
  }
  return Float32Array.from(samples, (s) => s.label as number);
}

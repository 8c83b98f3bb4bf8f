/**
 * Weights full of NaN (a diverged or corrupted training) load fine and predict `null` for every
 * sample; they are refused at load time instead.
 */
import type { tf } from '../engine/tf.js';
import { FlexiModalError } from '../errors.js';

/** Throws a FlexiModalError naming the first weights (up to 5) that hold NaN or ±Infinity. */
export function assertFiniteWeights(weights: Map<string, tf.Tensor>, where: string): void {
  const bad: string[] = [];
  let total = 0;
  for (const [name, t] of weights) {
    const data = t.dataSync();
    let n = 0;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) n++;
    if (n > 0) {
      total++;
      if (bad.length < 5) bad.push(`'${name}' (${n} of ${data.length} values)`);
    }
  }
  if (total > 0) {
    throw new FlexiModalError(`${total} weight tensor(s) hold NaN or Infinity: ${bad.join(', ')}${total > bad.length ? ', …' : ''}`, {
      where,
      hint: 'the model diverged or the file is corrupted; retrain it (lower train.lr or enable train.clipNorm)',
    });
  }
}

/**
 * Seeded dropout: at training time zeroes each entry with probability `rate` and scales the rest
 * by 1/(1 − rate); identity at inference. A fresh integer seed is drawn from the layer's own
 * generator at every call (tf.dropout with a fixed seed would repeat the same mask every step).
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';

export interface DropoutConfig {
  /** Probability of dropping an entry, in [0, 1). */
  rate: number;
}

/** Inverted dropout with a seeded mask sequence. No variables. */
export class Dropout {
  readonly name: string;
  readonly rate: number;
  private readonly rng: Rng;

  constructor(name: string, cfg: DropoutConfig, rng: Rng) {
    if (!(cfg.rate >= 0 && cfg.rate < 1)) {
      throw new FlexiModalError(`dropout rate must be in [0, 1), got ${cfg.rate}`, {
        where: `layer ${name}`,
        hint: 'set a dropout rate such as 0.1',
      });
    }
    this.name = name;
    this.rate = cfg.rate;
    this.rng = new Rng(rng.seed());
  }

  /** x [any] → same shape. */
  apply(x: tf.Tensor, training: boolean): tf.Tensor {
    if (!training || this.rate === 0) return x.clone();
    return tf.dropout(x, this.rate, undefined, this.rng.seed());
  }

  variables(): tf.Variable[] {
    return [];
  }
}

/**
 * Exponential moving average of the weights (Polyak averaging): shadow ← β·shadow + (1−β)·w after
 * every optimizer step. Evaluation can swap the averaged weights in and back out.
 */
import { tf } from '../engine/tf.js';
import { param, paramName } from '../engine/params.js';

export class WeightAverage {
  private readonly shadow: Map<string, tf.Variable>;
  private updates = 0;

  constructor(
    private readonly variables: tf.Variable[],
    private readonly decay: number,
  ) {
    this.shadow = new Map(variables.map((v) => [paramName(v), tf.tidy(() => param(tf.clone(v), false, `${paramName(v)}/ema`))] as const));
  }

  /** Fold the current weights into the average (bias-corrected warm-up: β_t = min(β, (1+t)/(10+t))). */
  update(): void {
    this.updates++;
    const beta = Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
    tf.tidy(() => {
      for (const v of this.variables) {
        const s = this.shadow.get(paramName(v))!;
        s.assign(tf.add(tf.mul(s, beta), tf.mul(v, 1 - beta)));
      }
    });
  }

  /** Run `fn` with the averaged weights in place of the live ones, then restore them. */
  withAveraged<T>(fn: () => T): T {
    const live = new Map(this.variables.map((v) => [paramName(v), tf.clone(v)] as const));
    try {
      for (const v of this.variables) v.assign(this.shadow.get(paramName(v))!);
      return fn();
    } finally {
      for (const v of this.variables) v.assign(live.get(paramName(v))!);
      live.forEach((t) => t.dispose());
    }
  }

  /** The number of updates so far and the averaged weights by name (for checkpoints; not copies). */
  state(): { updates: number; shadow: Map<string, tf.Tensor> } {
    return { updates: this.updates, shadow: new Map([...this.shadow].map(([k, v]) => [k, v as tf.Tensor] as const)) };
  }

  /** Continue from a checkpoint written from {@link state}. */
  restore(updates: number, shadow: Map<string, tf.Tensor>): void {
    this.updates = updates;
    for (const [name, s] of this.shadow) {
      const saved = shadow.get(name);
      if (!saved) throw new Error(`WeightAverage.restore: no averaged weight '${name}' in the checkpoint`);
      s.assign(saved);
    }
  }

  dispose(): void {
    this.shadow.forEach((s) => s.dispose());
    this.shadow.clear();
  }
}

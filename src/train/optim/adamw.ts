/**
 * Adam with optional decoupled weight decay (AdamW, Loshchilov & Hutter 2019), with a learning
 * rate that can change every step (for schedules):
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
 *   θ ← θ − lr·( m̂ / (√v̂ + ε) + λθ ),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
 * λ = 0 gives plain Adam. Weight decay is skipped for variables whose name matches `noDecay`
 * (biases, norms and embeddings by default).
 */
import { tf } from '../../engine/tf.js';
import { param, paramName } from '../../engine/params.js';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
  /** Variables whose names match are not decayed. Default: biases, layer norms, missing embeddings. */
  noDecay?: RegExp;
}

export class AdamW {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly weightDecay: number;
  private readonly noDecay: RegExp;
  private readonly slots = new Map<string, { m: tf.Variable; v: tf.Variable }>();
  /** Number of updates applied so far. */
  step = 0;

  constructor(opts: AdamWOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.noDecay = opts.noDecay ?? /(\.b$|\.b\d*$|bias|\.ln\d*\.|norm|\.gain$|missing|\.beta$|\.gamma$)/;
  }

  /** Apply one update with learning rate `lr`. `grads` maps a variable's engine name (`v.name`, as `tf.variableGrads` returns) → gradient. */
  apply(variables: tf.Variable[], grads: Record<string, tf.Tensor>, lr: number): void {
    this.step++;
    const t = this.step;
    const bc1 = 1 - Math.pow(this.beta1, t);
    const bc2 = 1 - Math.pow(this.beta2, t);
    tf.tidy(() => {
      for (const variable of variables) {
        const g = grads[variable.name]; // gradients are keyed by the engine name
        if (!g) continue;
        const name = paramName(variable); // state and rules by the logical name
        let slot = this.slots.get(name);
        if (!slot) {
          slot = {
            m: tf.tidy(() => param(tf.zerosLike(variable), false, `${name}/adam_m`)),
            v: tf.tidy(() => param(tf.zerosLike(variable), false, `${name}/adam_v`)),
          };
          this.slots.set(name, slot);
        }
        const m = tf.add(tf.mul(slot.m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(slot.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        slot.m.assign(m);
        slot.v.assign(v);
        let update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), this.epsilon));
        if (this.weightDecay > 0 && !this.noDecay.test(name)) {
          update = tf.add(update, tf.mul(variable, this.weightDecay));
        }
        variable.assign(tf.sub(variable, tf.mul(update, lr)));
      }
    });
  }

  /** The moment estimates by variable name (for checkpoints; the optimizer keeps ownership). */
  moments(): Map<string, { m: tf.Tensor; v: tf.Tensor }> {
    return new Map([...this.slots].map(([name, s]) => [name, { m: s.m as tf.Tensor, v: s.v as tf.Tensor }] as const));
  }

  /** Continue from a checkpoint: the step count and the moments by variable name (copied). */
  restore(step: number, moments: Map<string, { m: tf.Tensor; v: tf.Tensor }>): void {
    this.dispose();
    this.step = step;
    for (const [name, { m, v }] of moments) {
      this.slots.set(name, {
        m: tf.tidy(() => param(tf.clone(m), false, `${name}/adam_m`)),
        v: tf.tidy(() => param(tf.clone(v), false, `${name}/adam_v`)),
      });
    }
  }

  /** Free the optimizer state. */
  dispose(): void {
    for (const { m, v } of this.slots.values()) {
      m.dispose();
      v.dispose();
    }
    this.slots.clear();
  }
}

/**
 * mTAND learnable time embedding (Shukla & Marlin 2021) of width d_t:
 *   φ(τ)[0] = w₀·τ + b₀          (linear trend)
 *   φ(τ)[i] = sin(w_i·τ + b_i)   for 1 ≤ i < d_t   (periodic)
 *
 * Init: w₀, b₀ ~ U(−1, 1); frequencies w_i ~ U(−ω, ω) with ω = `freqInit` (default 10, i.e.
 * periods down to ≈ 0.6 of the [0, 1] window — PyTorch's nn.Linear(1, ·) default would be ω = 1,
 * which makes every sin nearly linear on [0, 1]); phases b_i ~ U(−π, π).
 * The concat of the linear and periodic parts is written as a blend with a constant one-hot
 * selector (no slice/concat in the graph).
 */
import { tf } from '../engine/tf.js';
import { param } from '../engine/params.js';
import { Rng } from '../engine/rng.js';
import { runInferenceKernel } from '../engine/inferenceKernels.js';
import { initRng, uniform } from './init.js';

export interface TimeEmbeddingConfig {
  /** d_t ≥ 1. */
  dim: number;
  /** Half-width ω of the uniform init of the periodic frequencies. Default 10. */
  freqInit?: number;
  seed?: number;
}

/** Variables: `${name}.w` [d_t], `${name}.b` [d_t]. */
export class TimeEmbedding {
  readonly name: string;
  readonly dim: number;
  readonly w: tf.Variable; // [d_t]
  readonly b: tf.Variable; // [d_t]
  private readonly linSel: Float32Array; // [d_t] one-hot at 0 (tensors made per call: no constants held)

  constructor(name: string, cfg: TimeEmbeddingConfig, rng: Rng) {
    this.name = name;
    this.dim = cfg.dim;
    const r = initRng(rng, cfg.seed);
    const omega = cfg.freqInit ?? 10;
    const w = uniform(r, -omega, omega, cfg.dim);
    const b = uniform(r, -Math.PI, Math.PI, cfg.dim);
    w[0] = -1 + 2 * r.next();
    b[0] = -1 + 2 * r.next();
    this.w = tf.tidy(() => param(tf.tensor1d(w), true, `${name}.w`));
    this.b = tf.tidy(() => param(tf.tensor1d(b), true, `${name}.b`));
    const sel = new Float32Array(cfg.dim);
    sel[0] = 1;
    this.linSel = Float32Array.from(sel);
  }

  /** τ [...] → φ(τ) [..., d_t]. */
  apply(t: tf.Tensor): tf.Tensor {
    const fused = runInferenceKernel('FlexiTimeEmbedding', { t, w: this.w, b: this.b });
    if (fused) return fused;
    return tf.tidy(() => {
      const lin = tf.add(tf.mul(tf.expandDims(t, -1), this.w), this.b); // [..., d_t]
      const linSel = tf.tensor1d(this.linSel);
      return tf.add(tf.mul(lin, linSel), tf.mul(tf.sin(lin), tf.sub(1, linSel)));
    });
  }

  variables(): tf.Variable[] {
    return [this.w, this.b];
  }
}

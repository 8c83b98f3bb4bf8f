/**
 * The reference MoE training step of ENGINE-NOTES ("A measured reference"), used by
 * bench/engine.ts and by the engine tests:
 *   N = 32·4·48 tokens X₀ ~ N(0,1) [N, 128]; X = X₀·W_in (128×128, trainable);
 *   p = softmax(X·W_g) [N, 16]; top-4 per token, gates renormalised over the kept 4;
 *   16 experts y_e = GELU(x·W1_e + b1_e)·W2_e + b2_e (128→512→128, exact erf GELU);
 *   out = Σ_k g_k·y_{e_k}; loss = mean((out − Y)²) with a fixed random target Y;
 *   Adam (lr 1e-3) over W_in, W_g, W1, b1, W2, b2.
 * Sparse dispatch: tokens are sorted by expert and gathered, each expert runs on its own tokens
 * only, results are gathered back per (token, slot) and weighted by the gates. Top-k and all
 * index computations carry no gradient.
 */
import { tf } from './tf.js';
import { param } from './params.js';
import { noGrad } from './noGrad.js';
import { seedFor } from './seed.js';
import { tfSeed } from './rng.js';

export interface MoeConfig {
  /** Number of tokens (default 32·4·48 = 6144). */
  tokens: number;
  dModel: number;
  dHidden: number;
  experts: number;
  topK: number;
  lr: number;
  seed: number;
  /** 'erf' (exact) or 'sigmoid' (x·σ(1.702x)). */
  gelu: 'erf' | 'sigmoid';
  /** Dense evaluation (every expert on every token) instead of sparse dispatch; for checks only. */
  dense: boolean;
}

/** The ENGINE-NOTES configuration at batch 32. */
export const REFERENCE_MOE: MoeConfig = {
  tokens: 32 * 4 * 48,
  dModel: 128,
  dHidden: 512,
  experts: 16,
  topK: 4,
  lr: 1e-3,
  seed: 42,
  gelu: 'erf',
  dense: false,
};

/** GELU: exact 0.5·x·(1 + erf(x/√2)) or the sigmoid approximation x·σ(1.702x). */
export function gelu(x: tf.Tensor, kind: 'erf' | 'sigmoid' = 'erf'): tf.Tensor {
  if (kind === 'sigmoid') return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** Trainable state, data and optimiser of the reference MoE. */
export class ReferenceMoe {
  readonly cfg: MoeConfig;
  readonly x0: tf.Tensor2D; // [N, D]
  readonly y: tf.Tensor2D; // [N, D]
  readonly wIn: tf.Variable; // [D, D]
  readonly wG: tf.Variable; // [D, E]
  readonly w1: tf.Variable; // [E, D, H]
  readonly b1: tf.Variable; // [E, H]
  readonly w2: tf.Variable; // [E, H, D]
  readonly b2: tf.Variable; // [E, D]
  readonly optimizer: tf.AdamOptimizer;

  private static instances = 0;

  constructor(cfg: Partial<MoeConfig> = {}) {
    const c = { ...REFERENCE_MOE, ...cfg };
    const prefix = `moe${ReferenceMoe.instances++}`; // variable names must be unique per process
    this.cfg = c;
    const { tokens: N, dModel: D, dHidden: H, experts: E } = c;
    const s = (name: string): number => tfSeed(seedFor(c.seed, `moe.${name}`));
    this.x0 = tf.randomNormal([N, D], 0, 1, 'float32', s('x0'));
    this.y = tf.randomNormal([N, D], 0, 1, 'float32', s('y'));
    const init = (shape: number[], fanIn: number, name: string): tf.Variable =>
      tf.tidy(() => param(tf.randomNormal(shape, 0, 1 / Math.sqrt(fanIn), 'float32', s(name)), true, `${prefix}.${name}`));
    this.wIn = init([D, D], D, 'w_in');
    this.wG = init([D, E], D, 'w_g');
    this.w1 = init([E, D, H], D, 'w1');
    this.b1 = tf.tidy(() => param(tf.zeros([E, H]), true, `${prefix}.b1`));
    this.w2 = init([E, H, D], H, 'w2');
    this.b2 = tf.tidy(() => param(tf.zeros([E, D]), true, `${prefix}.b2`));
    this.optimizer = tf.train.adam(c.lr);
  }

  /** All trainable variables. */
  variables(): tf.Variable[] {
    return [this.wIn, this.wG, this.w1, this.b1, this.w2, this.b2];
  }

  /** The loss (scalar) of the current parameters; records gradients when called under a tape. */
  loss(): tf.Scalar {
    const { tokens: N, dModel: D, experts: E, topK: K } = this.cfg;
    const x = tf.matMul(this.x0, this.wIn); // [N, D]
    const p = tf.softmax(tf.matMul(x, this.wG)); // [N, E]
    const top = noGrad((q) => tf.topk(q, K).indices, p); // [N, K] int32, no gradient
    const topIdx = top.dataSync() as Int32Array;
    // Gates: p at the kept experts, renormalised over the K kept.
    const flat = new Int32Array(N * K);
    for (let i = 0; i < N * K; i++) flat[i] = Math.floor(i / K) * E + topIdx[i]!;
    const pTop = tf.gather(tf.reshape(p, [N * E]), tf.tensor1d(flat, 'int32')).reshape([N, K]); // [N, K]
    const g = tf.div(pTop, tf.sum(pTop, 1, true)); // [N, K]

    if (this.cfg.dense) {
      // Every expert on every token, weighted by a dense gate matrix (for checks only).
      let out: tf.Tensor = tf.zeros([N, D]);
      const params = this.expertParams();
      for (let e = 0; e < E; e++) {
        const ye = this.expert(x, params, e); // [N, D]
        const maskE = new Float32Array(N * K);
        for (let i = 0; i < N * K; i++) maskE[i] = topIdx[i] === e ? 1 : 0;
        const ge = tf.sum(tf.mul(g, tf.tensor2d(maskE, [N, K])), 1, true); // [N, 1]
        out = tf.add(out, tf.mul(ye, ge));
      }
      return tf.mean(tf.square(tf.sub(out, this.y))) as tf.Scalar;
    }

    // Sparse dispatch: assignments (token, slot) sorted by expert (stable).
    const counts = new Int32Array(E);
    for (let i = 0; i < N * K; i++) counts[topIdx[i]!]!++;
    const starts = new Int32Array(E + 1);
    for (let e = 0; e < E; e++) starts[e + 1] = starts[e]! + counts[e]!;
    const fill = starts.slice(0, E);
    const tokOf = new Int32Array(N * K); // sorted position -> token
    const posOf = new Int32Array(N * K); // assignment (n·K + k) -> sorted position
    for (let i = 0; i < N * K; i++) {
      const pos = fill[topIdx[i]!]!++;
      tokOf[pos] = Math.floor(i / K);
      posOf[i] = pos;
    }
    const xs = tf.gather(x, tf.tensor1d(tokOf, 'int32')); // [N·K, D] sorted by expert
    // Per-expert rows: one SplitV (its gradient is one concat).
    const nonEmpty = [...counts.keys()].filter((e) => counts[e]! > 0);
    const xsPieces = nonEmpty.length === 1 ? [xs] : tf.split(xs, nonEmpty.map((e) => counts[e]!), 0);
    const params = this.expertParams();
    const pieces = nonEmpty.map((e, i) => this.expert(xsPieces[i]!, params, e)); // [c_e, D] each
    const ys = pieces.length === 1 ? pieces[0]! : tf.concat(pieces, 0); // [N·K, D]
    const yTok = tf.gather(ys, tf.tensor1d(posOf, 'int32')).reshape([N, K, D]); // [N, K, D]
    const out = tf.sum(tf.mul(yTok, g.reshape([N, K, 1])), 1); // [N, D]
    return tf.mean(tf.square(tf.sub(out, this.y))) as tf.Scalar;
  }

  /**
   * Per-expert parameter views. One `unstack` per stacked variable: its gradient is a single
   * stack, whereas slicing expert e out of [E, …] costs a full-size pad + add per expert.
   */
  expertParams(): { w1: tf.Tensor[]; b1: tf.Tensor[]; w2: tf.Tensor[]; b2: tf.Tensor[] } {
    return { w1: tf.unstack(this.w1), b1: tf.unstack(this.b1), w2: tf.unstack(this.w2), b2: tf.unstack(this.b2) };
  }

  /** Expert e applied to rows x [n, D] → [n, D]. */
  expert(x: tf.Tensor, p: { w1: tf.Tensor[]; b1: tf.Tensor[]; w2: tf.Tensor[]; b2: tf.Tensor[] }, e: number): tf.Tensor {
    const h = gelu(tf.add(tf.matMul(x, p.w1[e]!), p.b1[e]!), this.cfg.gelu); // [n, H]
    return tf.add(tf.matMul(h, p.w2[e]!), p.b2[e]!); // [n, D]
  }

  /** One training step (forward, backward, Adam); returns the loss value before the update. */
  step(): number {
    const loss = this.optimizer.minimize(() => this.loss(), true, this.variables());
    const v = loss!.dataSync()[0]!;
    loss!.dispose();
    return v;
  }

  /** Frees data, variables and optimiser state. */
  dispose(): void {
    this.x0.dispose();
    this.y.dispose();
    this.variables().forEach((v) => v.dispose());
    this.optimizer.dispose();
  }
}

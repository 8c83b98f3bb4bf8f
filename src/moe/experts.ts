/**
 * A pool of S expert FFNs (d → h → d, GELU) and the two ways to combine them with top-K gates:
 * sparse dispatch (each expert runs only on its routed rows) and a dense reference
 * (every expert on every token, weights masked to the top-K) used by the tests.
 */
import { tf } from '../engine/tf.js';
import { param } from '../engine/params.js';
import type { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import { gatherRows, scatterAddRows } from './row-ops.js';
import { dense } from '../nn/linear.js';
import { runInferenceKernel } from '../engine/inferenceKernels.js';

/** GELU, sigmoid approximation x·σ(1.702x) (tfjs has no GELU op; see ENGINE-NOTES). */
export function geluApprox(x: tf.Tensor): tf.Tensor {
  return runInferenceKernel('FlexiGeluSigmoid', { x }) ?? tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
}

/** Configuration of an expert pool. */
export interface ExpertPoolConfig {
  /** Token width d (expert input and output). */
  dim: number;
  /** Hidden width h of each expert FFN. */
  hidden: number;
  /** Number of experts S. */
  numExperts: number;
}

/** Glorot-normal matrix from the seeded Rng. */
function glorot(rng: Rng, rows: number, cols: number): tf.Tensor2D {
  const std = Math.sqrt(2 / (rows + cols));
  const a = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal() * std;
  return tf.tensor2d(a, [rows, cols]);
}

/** One expert's parameters: `<name>.expert<i>.w1 [d,h] | b1 [h] | w2 [h,d] | b2 [d]`. */
interface ExpertParams {
  w1: tf.Variable;
  b1: tf.Variable;
  w2: tf.Variable;
  b2: tf.Variable;
}

/** Sort the (token, slot) pairs by expert: the dispatch plan shared by forward and backward. */
export interface DispatchPlan {
  /** [P] token row of each routed pair, grouped by expert (expert 0's rows first). */
  token: Int32Array;
  /** [P] position n·K + k of each routed pair in the flattened [N·K] gate matrix. */
  pair: Int32Array;
  /** [S] number of rows routed to each expert. */
  counts: Int32Array;
}

/** Build the dispatch plan from topIdx ([N, K], −1 = not routed), by a stable counting sort. */
export function dispatchPlan(topIdx: Int32Array, K: number, S: number): DispatchPlan {
  const counts = new Int32Array(S);
  for (const e of topIdx) {
    if (e >= S) throw new RangeError(`dispatchPlan: expert id ${e} ≥ ${S}`);
    if (e >= 0) counts[e]!++;
  }
  const start = new Int32Array(S);
  for (let e = 1; e < S; e++) start[e] = start[e - 1]! + counts[e - 1]!;
  const P = start[S - 1]! + counts[S - 1]!;
  const token = new Int32Array(P);
  const pair = new Int32Array(P);
  for (let j = 0; j < topIdx.length; j++) {
    const e = topIdx[j]!;
    if (e < 0) continue;
    const at = start[e]!++;
    token[at] = Math.floor(j / K);
    pair[at] = j;
  }
  return { token, pair, counts };
}

/** S expert FFNs with variables named `<name>.expert<i>.w1|b1|w2|b2`. */
export class ExpertPool {
  readonly name: string;
  readonly cfg: ExpertPoolConfig;
  private readonly experts: ExpertParams[] = [];

  constructor(name: string, cfg: ExpertPoolConfig, rng: Rng) {
    for (const key of ['dim', 'hidden', 'numExperts'] as const) {
      if (!(Number.isInteger(cfg[key]) && cfg[key] > 0)) {
        throw new FlexiModalError(`${key} = ${cfg[key]} must be a positive integer`, {
          where: `config key ${name}.${key}`,
          hint: `set ${key} ≥ 1`,
        });
      }
    }
    this.name = name;
    this.cfg = cfg;
    const { dim, hidden } = cfg;
    for (let i = 0; i < cfg.numExperts; i++) {
      const p = `${name}.expert${i}`;
      this.experts.push({
        w1: tf.tidy(() => param(glorot(rng, dim, hidden), true, `${p}.w1`)),
        b1: tf.tidy(() => param(tf.zeros([hidden]), true, `${p}.b1`)),
        w2: tf.tidy(() => param(glorot(rng, hidden, dim), true, `${p}.w2`)),
        b2: tf.tidy(() => param(tf.zeros([dim]), true, `${p}.b2`)),
      });
    }
  }

  /** Expert i on rows x: [n, d] → [n, d]. */
  expert(i: number, x: tf.Tensor2D): tf.Tensor2D {
    const e = this.experts[i]!;
    const h = geluApprox(dense(x, e.w1, e.b1)) as tf.Tensor2D; // [n, h]
    return dense(h, e.w2, e.b2) as tf.Tensor2D; // [n, d]
  }

  /**
   * Sparse dispatch: y[n] = Σ_k topGates[n,k] · E_{topIdx[n,k]}(x[n]), computing each expert only
   * on the rows routed to it. x: [N, d], topIdx: [N, K] (−1 = skip), topGates: [N, K] → [N, d].
   */
  sparse(x: tf.Tensor2D, topIdx: Int32Array, topGates: tf.Tensor2D): tf.Tensor2D {
    const [N, K] = topGates.shape;
    const plan = dispatchPlan(topIdx, K, this.cfg.numExperts);
    const P = plan.token.length;
    if (P === 0) return tf.zeros([N, x.shape[1]]);
    const xs = gatherRows(x, plan.token); // [P, d], grouped by expert
    const outs: tf.Tensor2D[] = [];
    let at = 0;
    for (let e = 0; e < this.cfg.numExperts; e++) {
      const c = plan.counts[e]!;
      if (c === 0) continue;
      const rows = c === P ? xs : (tf.slice(xs, [at, 0], [c, -1]) as tf.Tensor2D); // [c, d]
      outs.push(this.expert(e, rows));
      at += c;
    }
    const ys = outs.length === 1 ? outs[0]! : (tf.concat(outs, 0) as tf.Tensor2D); // [P, d]
    const g = gatherRows(tf.reshape(topGates, [N * K, 1]) as tf.Tensor2D, plan.pair); // [P, 1]
    return scatterAddRows(tf.mul(ys, g), plan.token, N); // [N, d]
  }

  /**
   * Dense reference: every expert on every token, combined with the top-K gates scattered into a
   * dense [N, S] weight matrix (zeros off the top-K). Same result as `sparse`, S/K times the work.
   */
  dense(x: tf.Tensor2D, topIdx: Int32Array, topGates: tf.Tensor2D): tf.Tensor2D {
    const [N, K] = topGates.shape;
    const S = this.cfg.numExperts;
    const pairs: number[] = [];
    for (let j = 0; j < N * K; j++) if (topIdx[j]! >= 0) pairs.push(j);
    const src = Int32Array.from(pairs);
    const dst = Int32Array.from(pairs, (j) => Math.floor(j / K) * S + topIdx[j]!);
    const gFlat = gatherRows(tf.reshape(topGates, [N * K, 1]) as tf.Tensor2D, src); // [P, 1]
    const weights = tf.reshape(scatterAddRows(gFlat, dst, N * S), [N, S]); // [N, S]
    let y: tf.Tensor2D | null = null;
    for (let e = 0; e < S; e++) {
      const w = tf.slice(weights, [0, e], [N, 1]); // [N, 1]
      const term = tf.mul(this.expert(e, x), w) as tf.Tensor2D; // [N, d]
      y = y === null ? term : (tf.add(y, term) as tf.Tensor2D);
    }
    return y!;
  }

  /** All expert variables, expert by expert (w1, b1, w2, b2). */
  variables(): tf.Variable[] {
    return this.experts.flatMap((e) => [e.w1, e.b1, e.w2, e.b2]);
  }
}

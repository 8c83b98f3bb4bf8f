/**
 * Context-aware routing of MoE-Retriever (seed 001, §3.2.3, eq. 3): the retrieval context of one
 * query (sample i, missing target modality T) is a set of tokens — intra-modal (drawn
 * supporting-group members' embeddings of T) and inter-modal (i's own observed embeddings).
 *
 *   P' = P + MHA(LN(P))                               over the query's context tokens (masked)
 *   y_t = Σ_{e ∈ topK(R(P'_t) | allowed(T))} R_e · E_e(P'_t)     per context token t
 *   P̂_{i,T} = mean_t y_t
 *
 * The sparse MoE has M·E_T modality experts (expert m·E_T + j is expert j of modality m's pool)
 * followed by b shared experts; a token of a query for T may only route to T's pool and the
 * shared experts (the others are masked out of the top-K). Variables: `<name>.ln.*`,
 * `<name>.attn.*`, `<name>.moe.gate.*`, `<name>.moe.expert<i>.*`.
 *
 * Switches: `router: false` replaces the MoE by the mean of P' (the paper's "w/o context-aware
 * routing"); `averageContextOutput` reproduces the public code, whose output is overwritten by
 * the plain mean of the (un-attended) context embeddings.
 */
import { tf } from '../engine/tf.js';
import type { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import { LayerNorm } from '../nn/layerNorm.js';
import { MultiHeadAttention } from '../nn/multiHeadAttention.js';
import { SparseMoE } from './sparse-moe.js';

export interface ContextRetrieverConfig {
  dim: number;
  heads: number;
  numModalities: number;
  expertsPerModality: number;
  sharedExperts: number;
  topK: number;
  hidden: number;
  gating: 'softmax' | 'laplace';
  router: boolean;
  averageContextOutput: boolean;
}

/** What one retrieval call returns. */
export interface RetrievalOutput {
  /** [R, d] retrieved embeddings. */
  retrieved: tf.Tensor2D;
  /** [R·Lc, K] chosen experts per context token (−1 for padding, or when there is no router). */
  topIdx: Int32Array;
  /** [R·Lc, K] their gate values (plain numbers, for analyses and explanations). */
  topGates: Float32Array;
}

export class ContextRetriever {
  readonly ln: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly moe: SparseMoE | null;

  constructor(
    readonly name: string,
    readonly cfg: ContextRetrieverConfig,
    rng: Rng,
  ) {
    const allowed = cfg.expertsPerModality + cfg.sharedExperts;
    if (cfg.router && cfg.topK > allowed) {
      throw new FlexiModalError(`topK = ${cfg.topK} exceeds the ${allowed} experts a target may use (expertsPerModality + sharedExperts)`, {
        where: 'config key model.retrieval.topK',
        hint: 'lower topK or add experts',
      });
    }
    this.ln = new LayerNorm(`${name}.ln`, { dim: cfg.dim });
    this.attn = new MultiHeadAttention(`${name}.attn`, { dim: cfg.dim, heads: cfg.heads }, rng);
    this.moe = cfg.router
      ? new SparseMoE(
          `${name}.moe`,
          { dim: cfg.dim, hidden: cfg.hidden, numExperts: this.numExperts, topK: cfg.topK, gating: cfg.gating },
          rng,
        )
      : null;
  }

  /** Total experts M·E_T + b. */
  get numExperts(): number {
    return this.cfg.numModalities * this.cfg.expertsPerModality + this.cfg.sharedExperts;
  }

  /** Readable name of global expert e: "<modality>#j" or "shared#j". */
  expertName(e: number, modalityNames: string[]): string {
    const E = this.cfg.expertsPerModality;
    const M = this.cfg.numModalities;
    return e < M * E ? `${modalityNames[Math.floor(e / E)]}#${e % E}` : `shared#${e - M * E}`;
  }

  /** [N·S] expert mask: token n (of a query for targets[n]) may use T's pool and the shared experts. */
  expertMask(targets: Int32Array): Float32Array {
    const S = this.numExperts;
    const E = this.cfg.expertsPerModality;
    const M = this.cfg.numModalities;
    const mask = new Float32Array(targets.length * S);
    targets.forEach((t, n) => {
      for (let j = 0; j < E; j++) mask[n * S + t * E + j] = 1;
      for (let j = M * E; j < S; j++) mask[n * S + j] = 1;
    });
    return mask;
  }

  /**
   * context [R, Lc, d], mask [R, Lc] (1 = real token; every query needs ≥ 1), targets [R] (T of
   * each query) → retrieved embeddings [R, d] and the routing.
   */
  apply(context: tf.Tensor3D, mask: Float32Array, targets: Int32Array, opts: { training: boolean; seed?: number }): RetrievalOutput {
    const [R, Lc, d] = context.shape;
    const K = this.cfg.topK;
    const maskT = tf.tensor2d(mask, [R, Lc]); // [R, Lc]
    const counts = tf.maximum(tf.sum(maskT, 1, true), 1); // [R, 1]
    const meanOver = (x: tf.Tensor3D): tf.Tensor2D => tf.div(tf.sum(tf.mul(x, maskT.expandDims(2)), 1), counts) as tf.Tensor2D; // [R, d]
    const normed = this.ln.apply(context) as tf.Tensor3D; // [R, Lc, d]
    const attended = tf.add(context, this.attn.apply(normed, normed, { mask: maskT, training: opts.training })) as tf.Tensor3D; // [R, Lc, d]
    let retrieved: tf.Tensor2D;
    let topIdx: Int32Array = new Int32Array(R * Lc * K).fill(-1);
    let topGates: Float32Array = new Float32Array(R * Lc * K);
    if (this.moe) {
      const tokenTargets = new Int32Array(R * Lc);
      for (let r = 0; r < R; r++) tokenTargets.fill(targets[r]!, r * Lc, (r + 1) * Lc);
      const out = this.moe.apply(attended.reshape([R * Lc, d]) as tf.Tensor2D, {
        training: opts.training,
        seed: opts.seed,
        tokenMask: mask,
        expertMask: this.expertMask(tokenTargets),
      });
      retrieved = meanOver(out.y.reshape([R, Lc, d]) as tf.Tensor3D);
      topIdx = out.topIdx;
      topGates = out.topGates.dataSync() as Float32Array;
    } else {
      retrieved = meanOver(attended);
    }
    if (this.cfg.averageContextOutput) retrieved = meanOver(context);
    return { retrieved, topIdx, topGates };
  }

  variables(): tf.Variable[] {
    return [...this.ln.variables(), ...this.attn.variables(), ...(this.moe ? this.moe.variables() : [])];
  }
}

/**
 * Sparse top-K mixture-of-experts layer (FuseMoE §3.1): y = Σ_{i ∈ topK(x)} G(x)_i E_i(x).
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import { ExpertPool } from './experts.js';
import { Gate, type GateConfig, type GatingFunction, type ModifiedGateFn } from './gating.js';
import { routeTokens } from './routing.js';

/** Configuration of a SparseMoE layer. */
export interface SparseMoEConfig {
  /** Token width d. */
  dim: number;
  /** Hidden width h of each expert FFN (d → h → d). */
  hidden: number;
  /** Number of experts S. */
  numExperts: number;
  /** Experts kept per token K (1 ≤ K ≤ S). */
  topK: number;
  gating: GatingFunction;
  /** M for modified-softmax gating (default 'sigmoid'). */
  modifiedGateFn?: ModifiedGateFn;
  /** Noisy top-K (Shazeer 2017): logits + N(0,1)·(softplus(x W_noise) + 0.01), training only. */
  noisyGating?: boolean;
  /** Reference-code deviation: keep the noise at inference too. Default false. */
  noiseAtInference?: boolean;
  /** Std of the gate weight init (default 0.02). */
  gateInitStd?: number;
}

/** Options of one forward call. */
export interface SparseMoEApplyOptions {
  training: boolean;
  /** Seed of the gating noise; default: the layer's own seeded sequence. */
  seed?: number;
  /** [N] 1 = real token, 0 = padding (output row 0, not routed). */
  tokenMask?: Float32Array;
  /** [N, S] 1 = allowed expert, 0 = masked out (see RouteOptions.expertMask). */
  expertMask?: Float32Array;
  /** 'sparse' (default) or the 'dense' reference (every expert on every token; for tests). */
  dispatch?: 'sparse' | 'dense';
}

/** Output of SparseMoE.apply. */
export interface SparseMoEOutput {
  /** [N, d] */
  y: tf.Tensor2D;
  /** [N, S] full softmax over all experts of the routing logits (noisy ones when noise was on). */
  gateProbs: tf.Tensor2D;
  /** [N, K] chosen expert ids, best first; −1 for masked tokens. */
  topIdx: Int32Array;
  /** [N, K] gate values (softmax over the kept K logits; 0 for masked tokens). */
  topGates: tf.Tensor2D;
  /** [S] Σ_tokens of the sparse gates (for the importance loss). */
  importance: tf.Tensor1D;
  /** [S] smooth load estimate (noisy training) or token counts (for the load loss). */
  load: tf.Tensor1D;
}

/** The gate settings of a MoE config, for a gate over tokens of width `dim`. */
export function gateConfigOf(cfg: Pick<SparseMoEConfig, 'numExperts' | 'gating' | 'modifiedGateFn' | 'noisyGating' | 'gateInitStd'>, dim: number): GateConfig {
  return { dim, numExperts: cfg.numExperts, gating: cfg.gating, modifiedGateFn: cfg.modifiedGateFn, noisyGating: cfg.noisyGating, initStd: cfg.gateInitStd };
}

/**
 * Sparse MoE layer. Variables: `<name>.gate.w` [d,S], `<name>.gate.b` [S] (softmax and
 * modified-softmax), `<name>.gate.noise.w` [d,S] (noisy gating), `<name>.expert<i>.w1` [d,h],
 * `.b1` [h], `.w2` [h,d], `.b2` [d].
 */
export class SparseMoE {
  readonly name: string;
  readonly cfg: SparseMoEConfig;
  readonly gate: Gate;
  readonly experts: ExpertPool;
  private readonly noiseRng: Rng;

  constructor(name: string, cfg: SparseMoEConfig, rng: Rng) {
    this.name = name;
    this.cfg = cfg;
    this.gate = new Gate(`${name}.gate`, gateConfigOf(cfg, cfg.dim), rng);
    this.experts = new ExpertPool(name, { dim: cfg.dim, hidden: cfg.hidden, numExperts: cfg.numExperts }, rng);
    this.noiseRng = new Rng(rng.seed());
  }

  /** Route and combine. x: [N, d]. */
  apply(x: tf.Tensor2D, opts: SparseMoEApplyOptions): SparseMoEOutput {
    const r = routeTokens(
      this.gate,
      x,
      {
        topK: this.cfg.topK,
        training: opts.training,
        seed: opts.seed,
        noiseAtInference: this.cfg.noiseAtInference,
        tokenMask: opts.tokenMask,
        expertMask: opts.expertMask,
      },
      () => this.noiseRng.seed(),
    );
    const y =
      opts.dispatch === 'dense'
        ? this.experts.dense(x, r.topIdx, r.topGates)
        : this.experts.sparse(x, r.topIdx, r.topGates);
    return {
      y,
      gateProbs: r.gateProbs,
      topIdx: r.topIdx,
      topGates: r.topGates,
      importance: r.importance,
      load: r.load,
    };
  }

  /** Gate variables then expert variables. */
  variables(): tf.Variable[] {
    return [...this.gate.variables(), ...this.experts.variables()];
  }
}

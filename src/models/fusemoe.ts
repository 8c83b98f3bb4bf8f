/**
 * FuseMoE (Han et al. 2024): per-modality encoders → tokens (a learnable per-modality missing
 * embedding replaces the tokens of an absent modality) → L transformer blocks whose feed-forward
 * is a sparse MoE behind one of three router designs (self-attention runs across all modality
 * tokens) → masked mean pooling → layer norm → head.
 */
import { tf } from '../engine/tf.js';
import { param } from '../engine/params.js';
import { Rng, tfSeed } from '../engine/rng.js';
import type { Batch } from '../data/batchTypes.js';
import type { DatasetSpec } from '../data/schema.js';
import type { FuseMoEModelConfig } from '../config/schema.js';
import { makeEncoder } from '../encoders/encoder.js';
import type { ModalityEncoder } from '../encoders/encoder.js';
import { LayerNorm } from '../nn/layerNorm.js';
import { MultiHeadAttention } from '../nn/multiHeadAttention.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { createRouter, routerLosses, type MoEFusionRouter, type RouterStats } from '../moe/routers.js';
import type { ExpertUsageAccumulator } from '../moe/usage-stats.js';
import { outputUnits } from '../train/taskLoss.js';
import { encoderConfigOf } from './encoderConfig.js';
import type { FusionModel, ForwardOutput, RoutingExplanation } from './model.js';
import { explainRouting } from './explainRouting.js';
import { GroupMissingEmbedding, presenceGroupIds } from './groupMissingEmbedding.js';
import { absentOf, encodeModalities } from './encodeModalities.js';

/** One FuseMoE block: x + MHA(LN(x)); x + MoE(LN(x)) with the MoE routed per modality. */
export class FuseMoEBlock {
  readonly ln1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln2: LayerNorm;
  readonly router: MoEFusionRouter;
  private readonly drop: Dropout;

  constructor(name: string, cfg: Pick<FuseMoEModelConfig, 'd' | 'heads' | 'dropout' | 'moe' | 'referenceCode'>, seqLens: number[], rng: Rng) {
    this.ln1 = new LayerNorm(`${name}.ln1`, { dim: cfg.d });
    this.attn = new MultiHeadAttention(`${name}.attn`, { dim: cfg.d, heads: cfg.heads }, rng);
    this.ln2 = new LayerNorm(`${name}.ln2`, { dim: cfg.d });
    this.router = createRouter(
      `${name}.moe`,
      {
        design: cfg.moe.router,
        numModalities: seqLens.length,
        dim: cfg.d,
        hidden: cfg.moe.hidden,
        numExperts: cfg.moe.numExperts,
        topK: cfg.moe.topK,
        gating: cfg.moe.gating,
        modifiedGateFn: cfg.moe.modifiedGateFn,
        noisyGating: cfg.moe.noisyGating,
        noiseAtInference: cfg.referenceCode.noiseAtInference,
        routingUnit: cfg.referenceCode.flattenedSequenceRouting ? 'sample' : 'token',
        seqLens,
      },
      rng,
    );
    this.drop = new Dropout(`${name}.drop`, { rate: cfg.dropout }, rng);
  }

  /** x [B, ΣL, d] → [B, ΣL, d] and the router statistics. */
  apply(x: tf.Tensor3D, seqLens: number[], present: Float32Array, training: boolean, seed: number | undefined): { y: tf.Tensor3D; stats: RouterStats } {
    const [B, L, d] = x.shape;
    const n1 = this.ln1.apply(x) as tf.Tensor3D;
    const a = this.attn.apply(n1, n1, { training });
    const x1 = tf.add(x, this.drop.apply(a, training)) as tf.Tensor3D;
    const n2 = this.ln2.apply(x1) as tf.Tensor3D; // [B, ΣL, d]
    const parts = tf.split(n2, seqLens, 1) as tf.Tensor3D[]; // per modality [B, L_j, d]
    const out = this.router.apply({ tokens: parts, present }, { training, seed });
    const f = tf.concat(out.tokens, 1).reshape([B, L, d]); // [B, ΣL, d]
    return { y: tf.add(x1, this.drop.apply(f, training)) as tf.Tensor3D, stats: out.stats };
  }

  variables(): tf.Variable[] {
    return [...this.ln1.variables(), ...this.attn.variables(), ...this.ln2.variables(), ...this.router.variables()];
  }
}

export class FuseMoEModel implements FusionModel {
  readonly type = 'fusemoe';
  private readonly encoders: ModalityEncoder[];
  /** Per modality: learnable missing-modality tokens [L_j, d] (config missing = 'learned'). */
  private readonly missing: (tf.Variable | null)[];
  /** Group-specific missing embeddings B_k (config missing = 'learned-group', REMIND §3.1). */
  private readonly groupMissing: GroupMissingEmbedding | null;
  /** Per modality: a learned modality-type embedding added to its tokens [d]. */
  private readonly modalityEmbedding: tf.Variable;
  private readonly blocks: FuseMoEBlock[];
  private readonly norm: LayerNorm;
  private readonly head: Linear;
  readonly seqLens: number[];

  constructor(
    private readonly spec: DatasetSpec,
    private readonly cfg: FuseMoEModelConfig,
    seed: number,
  ) {
    const rng = new Rng(seed);
    const enc = encoderConfigOf(cfg.encoder, cfg.d, cfg.dropout);
    if (cfg.moe.router === 'joint' && !cfg.referenceCode.flattenedSequenceRouting) {
      // joint routing concatenates the modalities position by position: one length for all
      const L = enc.gamma! + (enc.summaryToken ? 1 : 0);
      enc.staticTokens = L;
      enc.embeddingGamma = L;
    }
    this.encoders = spec.modalities.map((m) => makeEncoder(`enc.${m.name}`, m, enc, rng));
    this.seqLens = this.encoders.map((e) => e.numTokens);
    this.missing = this.encoders.map((e, j) =>
      cfg.missing === 'learned'
        ? tf.tidy(() => param(tf.randomNormal([e.numTokens, cfg.d], 0, 0.02, 'float32', tfSeed(rng.seed())), true, `missing.${spec.modalities[j]!.name}`))
        : null,
    );
    this.modalityEmbedding = tf.tidy(() => param(tf.randomNormal([spec.modalities.length, cfg.d], 0, 0.02, 'float32', tfSeed(rng.seed())), true, 'fusion.modalityEmbedding'));
    this.groupMissing = cfg.missing === 'learned-group' ? new GroupMissingEmbedding('missing', spec.modalities.length, cfg.d, rng) : null;
    this.blocks = Array.from({ length: cfg.blocks }, (_, i) => new FuseMoEBlock(`fusion.block${i}`, cfg, this.seqLens, rng));
    this.norm = new LayerNorm('fusion.norm', { dim: cfg.d });
    const pooledDim = cfg.pooling === 'per-modality' ? cfg.d * spec.modalities.length : cfg.d;
    this.head = new Linear('head', { inDim: pooledDim, outDim: outputUnits(spec.task) }, rng);
  }

  /** Tokens of every modality with missing ones replaced: [B, ΣL, d] and the effective presence [B·M]. */
  private tokens(batch: Batch, training: boolean): { x: tf.Tensor3D; present: Float32Array } {
    const B = batch.size;
    const M = this.spec.modalities.length;
    const { tokens: encoded, present, keeps } = encodeModalities(this.encoders, this.spec, batch, training);
    const parts = encoded.map((tokens, j) => {
      let t = tf.mul(tokens, keeps[j]!); // [B, L_j, d] · [B, 1, 1]
      const miss = this.missing[j]; // [L_j, d]
      if (miss) t = tf.add(t, tf.mul(absentOf(present, B, M, j), miss)); // learned tokens where absent
      return tf.add(t, this.modalityEmbedding.slice([j, 0], [1, this.cfg.d])) as tf.Tensor3D; // + [1, d]
    });
    if (this.groupMissing) {
      const emb = tf.reshape(this.groupMissing.lookup(presenceGroupIds(present, B, M), training), [B, 1, this.cfg.d]); // [B, 1, d]
      parts.forEach((t, j) => (parts[j] = tf.add(t, tf.mul(absentOf(present, B, M, j), emb)) as tf.Tensor3D)); // B_k where absent
    }
    return { x: tf.concat(parts, 1) as tf.Tensor3D, present };
  }

  forward(batch: Batch, opts: { training: boolean; seed?: number }): ForwardOutput {
    return tf.tidy(() => {
      const { x: x0, present } = this.tokens(batch, opts.training);
      let x = x0;
      const entropy: tf.Scalar[] = [];
      const balance: tf.Scalar[] = [];
      const aux: tf.Scalar[] = [];
      this.blocks.forEach((block, i) => {
        const r = block.apply(x, this.seqLens, present, opts.training, opts.seed === undefined ? undefined : opts.seed + 7919 * i);
        x = r.y;
        if (!opts.training) return; // the router losses only matter for training (≈8 % of a single-stay prediction)
        const losses = routerLosses(r.stats, { entropy: this.cfg.moe.entropyWeight, balance: this.cfg.moe.loadWeight });
        entropy.push(losses.entropy);
        balance.push(losses.balance);
        aux.push(losses.total);
      });
      const logits = this.readout(x); // [B, C]
      if (!opts.training) return { logits };
      const nb = this.blocks.length;
      return {
        logits,
        auxLoss: tf.div(tf.addN(aux), nb) as tf.Scalar,
        auxTerms: { entropy: tf.div(tf.addN(entropy), nb) as tf.Scalar, load: tf.div(tf.addN(balance), nb) as tf.Scalar },
      };
    });
  }

  /** Final norm, pooling and head: x [B, ΣL, d] → logits [B, C]. */
  private readout(x: tf.Tensor3D): tf.Tensor2D {
    const normed = this.norm.apply(x) as tf.Tensor3D; // [B, ΣL, d]
    const pooled =
      this.cfg.pooling === 'per-modality'
        ? tf.concat(tf.split(normed, this.seqLens, 1).map((t) => tf.mean(t, 1)), 1) // [B, M·d]
        : tf.mean(normed, 1); // [B, d]
    return this.head.apply(pooled) as tf.Tensor2D; // [B, C]
  }

  /**
   * Run the blocks in inference mode and hand each block's router statistics and the blocks'
   * output x [B, ΣL, d] to `visit` (inside one tidy: keep what `visit` returns).
   */
  private route<T extends tf.TensorContainer>(batch: Batch, visit: (stats: RouterStats[], x: tf.Tensor3D) => T): T {
    return tf.tidy(() => {
      const { x: x0, present } = this.tokens(batch, false);
      let x = x0;
      const stats: RouterStats[] = [];
      for (const block of this.blocks) {
        const r = block.apply(x, this.seqLens, present, false, undefined);
        x = r.y;
        stats.push(r.stats);
      }
      return visit(stats, x);
    });
  }

  /** Inference logits [B, C] and the routing explanation of every sample, from one pass. */
  forwardExplained(batch: Batch): { logits: tf.Tensor2D; explanations: RoutingExplanation[] } {
    let explanations: RoutingExplanation[] = [];
    const names = this.spec.modalities.map((m) => m.name);
    const logits = this.route(batch, (stats, x) => {
      explanations = explainRouting(batch, stats, names);
      return this.readout(x);
    });
    return { logits, explanations };
  }

  /** Routing of every sample of a batch (inference mode): top experts and modality shares. */
  explain(batch: Batch): RoutingExplanation[] {
    let out: RoutingExplanation[] = [];
    const names = this.spec.modalities.map((m) => m.name);
    this.route(batch, (stats) => {
      out = explainRouting(batch, stats, names);
      return [];
    });
    return out;
  }

  /** Add this batch's gate-weighted expert × modality usage to one accumulator per block. */
  accumulateExpertUsage(batch: Batch, accumulators: ExpertUsageAccumulator[]): void {
    this.route(batch, (stats) => {
      stats.forEach((s, l) => accumulators[l]!.addRouterStats(s));
      return [];
    });
  }

  /** Number of blocks and the size of each block's global expert numbering. */
  expertLayout(): { blocks: number; totalExperts: number } {
    const S = this.cfg.moe.numExperts;
    return { blocks: this.blocks.length, totalExperts: this.cfg.moe.router === 'disjoint' ? S * this.spec.modalities.length : S };
  }

  variables(): tf.Variable[] {
    return [
      ...this.encoders.flatMap((e) => e.variables()),
      ...this.missing.filter((v): v is tf.Variable => v !== null),
      ...(this.groupMissing?.variables() ?? []),
      this.modalityEmbedding,
      ...this.blocks.flatMap((b) => b.variables()),
      ...this.norm.variables(),
      ...this.head.variables(),
    ];
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

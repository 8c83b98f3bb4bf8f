/**
 * REMIND (Wu, Shuai, Shen; seed 003) and plain Soft MoE fusion as one model type:
 * per-modality encoders → tokens (absent modalities filled with group-specific embeddings B_k, or
 * with per-modality learned tokens) + a learned modality-type embedding → blocks of
 * x + MHA(LN x); x + SoftMoE(LN x) (group-residual routing optional) → LN → mean pool → head.
 *
 * "Soft MoE fusion" (the paper's main baseline) = `groupEmbeddings: false`,
 * `residualRouting.enabled: false`. Group DRO and two-stage training are training regimes
 * (src/train), not part of the model.
 *
 * Variables: encoders `enc.<modality>.*`; missing embeddings `missing.*`; the modality-type
 * embedding `fusion.modalityEmbedding`; per block `fusion.block<i>.{ln1,attn,ln2}.*`, router
 * `fusion.block<i>.moe.gate.{phi,scale,residual}`, experts `fusion.block<i>.moe.expert<j>.*`;
 * `fusion.norm.*`; head `head.*`.
 */
import { tf } from '../engine/tf.js';
import { param } from '../engine/params.js';
import { Rng, tfSeed } from '../engine/rng.js';
import type { Batch } from '../data/batchTypes.js';
import type { DatasetSpec } from '../data/schema.js';
import type { RemindModelConfig } from '../config/schema.js';
import { makeEncoder } from '../encoders/encoder.js';
import type { ModalityEncoder } from '../encoders/encoder.js';
import { LayerNorm } from '../nn/layerNorm.js';
import { MultiHeadAttention } from '../nn/multiHeadAttention.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { maskedMeanPool } from '../nn/pooling.js';
import { SoftMoE, type SoftMoERouting } from '../moe/softMoe.js';
import { outputUnits } from '../train/taskLoss.js';
import { encoderConfigOf } from './encoderConfig.js';
import { GroupMissingEmbedding, presenceGroupIds } from './groupMissingEmbedding.js';
import { encodeModalities } from './encodeModalities.js';
import type { FusionModel, ForwardOutput, RoutingExplanation } from './model.js';

/** One fusion block: x + MHA(LN(x)); x + SoftMoE(LN(x)). */
class RemindBlock {
  readonly ln1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln2: LayerNorm;
  readonly moe: SoftMoE;
  private readonly drop: Dropout;

  constructor(name: string, cfg: RemindModelConfig, numModalities: number, rng: Rng) {
    this.ln1 = new LayerNorm(`${name}.ln1`, { dim: cfg.d });
    this.attn = new MultiHeadAttention(`${name}.attn`, { dim: cfg.d, heads: cfg.heads }, rng);
    this.ln2 = new LayerNorm(`${name}.ln2`, { dim: cfg.d });
    const rr = cfg.residualRouting;
    this.moe = new SoftMoE(
      `${name}.moe`,
      {
        dim: cfg.d,
        hidden: cfg.softMoe.hidden,
        numExperts: cfg.softMoe.numExperts,
        slotsPerExpert: cfg.softMoe.slotsPerExpert,
        residual: rr.enabled ? { numGroups: 2 ** numModalities, metric: rr.metric, threshold: rr.threshold } : undefined,
      },
      rng,
    );
    this.drop = new Dropout(`${name}.drop`, { rate: cfg.dropout }, rng);
  }

  /** x [B, T, d] → [B, T, d] and the Soft MoE routing. */
  apply(x: tf.Tensor3D, tokenMask: Float32Array, groupIds: Int32Array, training: boolean, withWeights: boolean): { y: tf.Tensor3D; routing: SoftMoERouting } {
    const n1 = this.ln1.apply(x) as tf.Tensor3D;
    const x1 = tf.add(x, this.drop.apply(this.attn.apply(n1, n1, { training }), training)) as tf.Tensor3D;
    const out = this.moe.apply(this.ln2.apply(x1) as tf.Tensor3D, { tokenMask, groupIds, withWeights });
    return { y: tf.add(x1, this.drop.apply(out.y, training)) as tf.Tensor3D, routing: out.routing };
  }

  variables(): tf.Variable[] {
    return [...this.ln1.variables(), ...this.attn.variables(), ...this.ln2.variables(), ...this.moe.variables()];
  }
}

/** Routing of a batch through every block (inference mode), for explanations and analyses. */
export interface RemindRouting {
  /** Effective modality combination of each sample (bitmask over spec order).  [B] */
  groupIds: Int32Array;
  /** 1 where the modality is present and non-empty.  [B, M] */
  present: Float32Array;
  /** Modality index of each token position.  [T] */
  tokenModality: Int32Array;
  /** Tokens taking part in dispatch and pooling.  [B, T] */
  tokenMask: Float32Array;
  /** Slots per expert p and experts n. */
  slotsPerExpert: number;
  numExperts: number;
  /** Per block: dispatch [B, T, S], combine [B, T, S], switched [B]. */
  blocks: Required<SoftMoERouting>[];
}

/** How often the residual switch fired, per block and group, since the last `takeSwitchCounts`. */
export interface SwitchCount {
  block: number;
  group: number;
  fired: number;
  total: number;
}

export class RemindModel implements FusionModel {
  readonly type = 'remind';
  private readonly encoders: ModalityEncoder[];
  /** Per-modality learned missing tokens [L_j, d] (groupEmbeddings false or "residual"). */
  private readonly modalityMissing: tf.Variable[];
  /** Group-specific missing embeddings B_k (groupEmbeddings true; residuals for "residual"). */
  private readonly groupMissing: GroupMissingEmbedding | null;
  private readonly modalityEmbedding: tf.Variable;
  private readonly blocks: RemindBlock[];
  private readonly norm: LayerNorm;
  private readonly head: Linear;
  readonly seqLens: number[];
  private readonly tokenModality: Int32Array;
  private switchCounts = new Map<string, SwitchCount>();

  constructor(
    private readonly spec: DatasetSpec,
    private readonly cfg: RemindModelConfig,
    seed: number,
  ) {
    const rng = new Rng(seed);
    const enc = encoderConfigOf(cfg.encoder, cfg.d, cfg.dropout);
    const M = spec.modalities.length;
    this.encoders = spec.modalities.map((m) => makeEncoder(`enc.${m.name}`, m, enc, rng));
    this.seqLens = this.encoders.map((e) => e.numTokens);
    this.tokenModality = Int32Array.from(this.seqLens.flatMap((L, j) => Array.from({ length: L }, () => j)));
    this.groupMissing = cfg.groupEmbeddings === false ? null : new GroupMissingEmbedding('missing', M, cfg.d, rng, { residual: cfg.groupEmbeddings === 'residual' });
    this.modalityMissing = cfg.groupEmbeddings === true
      ? []
      : this.encoders.map((e, j) => tf.tidy(() => param(tf.randomNormal([e.numTokens, cfg.d], 0, 0.02, 'float32', tfSeed(rng.seed())), true, `missing.${spec.modalities[j]!.name}`)));
    this.modalityEmbedding = tf.tidy(() => param(tf.randomNormal([M, cfg.d], 0, 0.02, 'float32', tfSeed(rng.seed())), true, 'fusion.modalityEmbedding'));
    this.blocks = Array.from({ length: cfg.blocks }, (_, i) => new RemindBlock(`fusion.block${i}`, cfg, M, rng));
    this.norm = new LayerNorm('fusion.norm', { dim: cfg.d });
    this.head = new Linear('head', { inDim: cfg.d, outDim: outputUnits(spec.task) }, rng);
  }

  /** Tokens [B, T, d] with absent modalities filled, the effective presence [B, M], group ids [B] and the dispatch mask [B, T]. */
  private tokens(batch: Batch, training: boolean): { x: tf.Tensor3D; present: Float32Array; groupIds: Int32Array; tokenMask: Float32Array } {
    const B = batch.size;
    const M = this.spec.modalities.length;
    const d = this.cfg.d;
    const { tokens: encoded, present, keeps } = encodeModalities(this.encoders, this.spec, batch, training);
    const groupIds = presenceGroupIds(present, B, M);
    const groupEmb = this.groupMissing ? tf.reshape(this.groupMissing.lookup(groupIds, training), [B, 1, d]) : null; // [B, 1, d]
    const parts = encoded.map((tokens, j) => {
      const keep = keeps[j]!; // [B, 1, 1]
      const shared = this.modalityMissing.length > 0 ? tf.expandDims(this.modalityMissing[j]!, 0) : null; // [1, L_j, d]
      // [B|1, 1|L_j, d]: B_k (REMIND), the per-modality tokens (Soft MoE), or their sum ('residual')
      const fill = groupEmb && shared ? tf.add(shared, groupEmb) : (groupEmb ?? shared!);
      const t = tf.add(tf.mul(tokens, keep), tf.mul(tf.sub(1, keep), fill));
      return tf.add(t, tf.reshape(tf.slice(this.modalityEmbedding, [j, 0], [1, d]), [1, 1, d])) as tf.Tensor3D;
    });
    const T = this.tokenModality.length;
    const tokenMask = new Float32Array(B * T).fill(1);
    if (this.cfg.absentTokens === 'mask') {
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) tokenMask[b * T + t] = present[b * M + this.tokenModality[t]!]!;
    }
    return { x: tf.concat(parts, 1) as tf.Tensor3D, present, groupIds, tokenMask };
  }

  /** Tokens → blocks → pooled [B, d]; the routing of each block. */
  private run(batch: Batch, training: boolean, withWeights: boolean): { pooled: tf.Tensor2D; routings: SoftMoERouting[]; groupIds: Int32Array; present: Float32Array; tokenMask: Float32Array } {
    const { x: x0, present, groupIds, tokenMask } = this.tokens(batch, training);
    let x = x0;
    const routings: SoftMoERouting[] = [];
    for (const block of this.blocks) {
      const r = block.apply(x, tokenMask, groupIds, training, withWeights);
      x = r.y;
      routings.push(r.routing);
    }
    const normed = this.norm.apply(x) as tf.Tensor3D; // [B, T, d]
    const pooled = maskedMeanPool(normed, tf.tensor2d(tokenMask, [batch.size, this.tokenModality.length])); // [B, d]
    return { pooled, routings, groupIds, present, tokenMask };
  }

  forward(batch: Batch, opts: { training: boolean; seed?: number }): ForwardOutput {
    return tf.tidy(() => {
      const { pooled, routings, groupIds } = this.run(batch, opts.training, false);
      const logits = this.head.apply(pooled) as tf.Tensor2D; // [B, C]
      if (!this.cfg.residualRouting.enabled) return { logits };
      let fired = 0;
      routings.forEach((r, block) => {
        r.switched.forEach((s, b) => {
          fired += s;
          if (!opts.training) return;
          const key = `${block}:${groupIds[b]}`;
          const c = this.switchCounts.get(key) ?? { block, group: groupIds[b]!, fired: 0, total: 0 };
          c.fired += s;
          c.total++;
          this.switchCounts.set(key, c);
        });
      });
      // share of (sample, block) pairs whose group residual was applied: shown in the training log
      return { logits, auxTerms: { residualSwitch: tf.scalar(fired / Math.max(1, batch.size * routings.length)) } };
    });
  }

  /** Switch counts of the training forwards since the last call (then reset), by block and group. */
  takeSwitchCounts(): SwitchCount[] {
    const out = [...this.switchCounts.values()].sort((a, b) => a.block - b.block || a.group - b.group);
    this.switchCounts = new Map();
    return out;
  }

  /** Dispatch and combine weights of every block for a batch (inference mode). */
  routing(batch: Batch): RemindRouting {
    let out: RemindRouting | null = null;
    tf.tidy(() => {
      const r = this.run(batch, false, true);
      out = {
        groupIds: r.groupIds,
        present: r.present,
        tokenModality: this.tokenModality,
        tokenMask: r.tokenMask,
        slotsPerExpert: this.cfg.softMoe.slotsPerExpert,
        numExperts: this.cfg.softMoe.numExperts,
        blocks: r.routings as Required<SoftMoERouting>[],
      };
    });
    return out!;
  }

  /** Per sample: experts ranked by combine weight and the modalities feeding them (dispatch weight). */
  explain(batch: Batch): RoutingExplanation[] {
    return explainSoftRouting(batch.ids, this.routing(batch), this.spec.modalities.map((m) => m.name));
  }

  /** Number of blocks and experts per block. */
  expertLayout(): { blocks: number; totalExperts: number } {
    return { blocks: this.blocks.length, totalExperts: this.cfg.softMoe.numExperts };
  }

  /** Groups marked as seen in training (group embeddings only). */
  seenGroups(): number[] | null {
    return this.groupMissing?.seenGroups() ?? null;
  }

  variables(): tf.Variable[] {
    return [
      ...this.encoders.flatMap((e) => e.variables()),
      ...(this.groupMissing?.variables() ?? []),
      ...this.modalityMissing,
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

/**
 * Per-expert combine weight of each sample in block `l`: w[b, e] = Σ over the sample's valid
 * tokens t and the expert's slots s of C[b, t, s], normalised to sum to 1.  [B, n]
 */
export function expertWeights(r: RemindRouting, l: number): Float64Array {
  const B = r.groupIds.length;
  const T = r.tokenModality.length;
  const p = r.slotsPerExpert;
  const n = r.numExperts;
  const S = n * p;
  const C = r.blocks[l]!.combine;
  const w = new Float64Array(B * n);
  for (let b = 0; b < B; b++) {
    let tot = 0;
    for (let t = 0; t < T; t++) {
      if (!(r.tokenMask[b * T + t]! > 0)) continue;
      for (let s = 0; s < S; s++) {
        const v = C[(b * T + t) * S + s]!;
        w[b * n + Math.floor(s / p)]! += v;
        tot += v;
      }
    }
    for (let e = 0; e < n; e++) w[b * n + e] = tot > 0 ? w[b * n + e]! / tot : 0;
  }
  return w;
}

/**
 * Explanations from Soft MoE routing: an expert's weight is its share of the sample's combine
 * weight summed over blocks; its modality shares are the dispatch weight its slots draw from the
 * tokens of each present modality (tokens of absent modalities carry missing embeddings, not
 * data, and are left out); the sample's modality shares weight those by the expert weights.
 */
export function explainSoftRouting(ids: string[], r: RemindRouting, modalityNames: string[], topN = 5): RoutingExplanation[] {
  const M = modalityNames.length;
  const T = r.tokenModality.length;
  const p = r.slotsPerExpert;
  const n = r.numExperts;
  const S = n * p;
  const shares = (v: ArrayLike<number>): Record<string, number> => {
    let tot = 0;
    for (let j = 0; j < M; j++) tot += v[j]!;
    return Object.fromEntries(modalityNames.map((name, j) => [name, tot > 0 ? v[j]! / tot : 0]));
  };
  const weights = r.blocks.map((_, l) => expertWeights(r, l));
  return ids.map((_id, b) => {
    const experts: { layer: number; expert: number; weight: number; byModality: Float64Array }[] = [];
    const overall = new Float64Array(M);
    r.blocks.forEach((blk, layer) => {
      for (let e = 0; e < n; e++) {
        const byModality = new Float64Array(M);
        for (let s = e * p; s < (e + 1) * p; s++) {
          for (let t = 0; t < T; t++) {
            const j = r.tokenModality[t]!;
            if (r.present[b * M + j]! > 0) byModality[j]! += blk.dispatch[(b * T + t) * S + s]!;
          }
        }
        let mass = 0;
        for (let j = 0; j < M; j++) mass += byModality[j]!;
        const weight = weights[layer]![b * n + e]! / r.blocks.length;
        if (mass > 0) for (let j = 0; j < M; j++) overall[j]! += (weight * byModality[j]!) / mass;
        experts.push({ layer, expert: e, weight, byModality });
      }
    });
    experts.sort((x, y) => y.weight - x.weight);
    return {
      basis: 'dispatch' as const,
      shares: shares(overall),
      topExperts: experts.slice(0, topN).map((e) => ({ layer: e.layer, expert: e.expert, weight: e.weight, shares: shares(e.byModality) })),
    };
  });
}

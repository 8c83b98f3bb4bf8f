/**
 * MoE-Retriever (seed 001) and the missing-modality baselines that share its fusion.
 *
 *   encoders → one embedding per modality (mean of its tokens) E [B, M, d]
 *   → missing slots filled by `missing`: MoE-Retriever (supporting-group draws + own observed
 *     embeddings → attention → masked sparse MoE), zeros, training mean, learned per-modality,
 *     learned per-combination, or nearest supporting-group member
 *   → + modality-type embedding → fusion (transformer blocks, or FuseMoE MoE blocks)
 *   → layer norm → mean over modalities → head.
 *
 * Retrieval pools hold training samples only: `setTrainingPool` gives the model its training
 * split; inference (validation, test, external data, `predict`) reads an embedding bank of that
 * pool computed with the current encoders (recomputed whenever they changed), and a saved model
 * carries the bank (see persist.ts). With `referenceCode.evaluatedSamplesInPool` the other
 * samples of an evaluated batch join the pool (the public code's test-to-test retrieval).
 */
import { tf } from '../engine/tf.js';
import { param } from '../engine/params.js';
import { Rng, tfSeed } from '../engine/rng.js';
import type { Batch } from '../data/batchTypes.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import { groupIdOf } from '../data/groups.js';
import type { MoERetrieverModelConfig } from '../config/schema.js';
import { FlexiModalError } from '../errors.js';
import { makeEncoder, type ModalityEncoder } from '../encoders/encoder.js';
import { LayerNorm } from '../nn/layerNorm.js';
import { Linear } from '../nn/linear.js';
import { TransformerBlock } from '../nn/transformerBlock.js';
import { noGrad } from '../engine/noGrad.js';
import { gatherRows, scatterAddRows } from '../moe/row-ops.js';
import { routerLosses } from '../moe/routers.js';
import { ContextRetriever } from '../moe/contextRetriever.js';
import { SupportingGroupIndex, newPoolCounts, type PoolCounts, type PoolKind } from '../moe/supportingGroups.js';
import { outputUnits } from '../train/taskLoss.js';
import { encoderConfigOf } from './encoderConfig.js';
import { FuseMoEBlock } from './fusemoe.js';
import type { FusionModel, ForwardOutput, RoutingExplanation } from './model.js';
import { EmbeddingBank } from './retriever/embeddingBank.js';
import { GroupMissingEmbedding } from './groupMissingEmbedding.js';
import { planRetrieval, observedGroups, type RetrievalQuery } from './retriever/retrievalPlan.js';

/** The training pool the model retrieves from while it trains. */
interface TrainingPool {
  samples: Sample[];
  toBatch: (s: Sample[]) => Batch;
  index: SupportingGroupIndex;
}

/** What one inference retrieval did (for explanations and the Fig. 3b/3c analyses). */
export interface RetrievalTrace {
  queries: RetrievalQuery[];
  /** Context length Lc and experts per token K. */
  Lc: number;
  K: number;
  /** [R·Lc] modality combination of each context token's source sample (−1 = padding). */
  tokenGroups: Int32Array;
  /** [R·Lc·K] chosen global expert per token (−1 = none). */
  topIdx: Int32Array;
  /** [R·Lc·K] their gates. */
  topGates: Float32Array;
  /** [B] modality combination each batch sample was observed with. */
  sampleGroups: Int32Array;
}

/** What the missing-slot fill of one forward pass works on. */
interface FillInput {
  batch: Batch;
  /** [B, M, d] encoder embeddings (zeros where missing). */
  emb: tf.Tensor3D;
  /** [B·M] 1 where observed. */
  observed: Uint8Array;
  opts: { training: boolean; seed?: number };
  trace?: (t: RetrievalTrace) => void;
}

/** Run `f` outside the gradient tape (ops inside a custom-gradient forward are not recorded). */
function outsideTape(f: () => void): void {
  noGrad(() => {
    f();
    return tf.zeros([1]);
  }, tf.zeros([1])).dispose();
}

export class MoERetrieverModel implements FusionModel {
  readonly type = 'moe-retriever';
  readonly modalityNames: string[];
  private readonly encoders: ModalityEncoder[];
  private readonly modalityEmbedding: tf.Variable; // [M, d]
  private readonly missingModality: tf.Variable[]; // per modality [d]: missing.<m>
  private readonly missingGroup: GroupMissingEmbedding | null;
  private readonly roleEmbedding: tf.Variable | null; // [2, d]: intra, inter
  readonly retriever: ContextRetriever | null;
  private readonly transformer: TransformerBlock[];
  private readonly moeBlocks: FuseMoEBlock[];
  private readonly norm: LayerNorm;
  private readonly head: Linear;
  private pool: TrainingPool | null = null;
  private bank: EmbeddingBank | null = null;
  private samplesSinceBank = 0;
  private samplesSeen = 0;
  /** Kinds of supporting group of every inference query since the last reset. */
  readonly inferenceCounts: PoolCounts = newPoolCounts();

  constructor(
    private readonly spec: DatasetSpec,
    readonly cfg: MoERetrieverModelConfig,
    private readonly seed: number,
  ) {
    const rng = new Rng(seed);
    const M = spec.modalities.length;
    const d = cfg.d;
    this.modalityNames = spec.modalities.map((m) => m.name);
    this.encoders = spec.modalities.map((m) => makeEncoder(`enc.${m.name}`, m, encoderConfigOf(cfg.encoder, d, cfg.dropout), rng));
    this.modalityEmbedding = tf.tidy(() => param(tf.randomNormal([M, d], 0, 0.02, 'float32', tfSeed(rng.seed())), true, 'fusion.modalityEmbedding'));
    this.missingModality =
      cfg.missing === 'learned-modality' ? this.modalityNames.map((n) => tf.tidy(() => param(tf.randomNormal([d], 0, 0.02, 'float32', tfSeed(rng.seed())), true, `missing.${n}`))) : [];
    this.missingGroup = cfg.missing === 'learned-group' ? new GroupMissingEmbedding('missing', M, d, rng) : null;
    const r = cfg.retrieval;
    this.retriever =
      cfg.missing === 'moe-retriever'
        ? new ContextRetriever(
            'retriever',
            {
              dim: d,
              heads: cfg.heads,
              numModalities: M,
              expertsPerModality: r.expertsPerModality,
              sharedExperts: r.sharedExperts,
              topK: r.topK,
              hidden: r.hidden,
              gating: r.gating,
              router: r.router,
              averageContextOutput: cfg.referenceCode.averageContextOutput,
            },
            rng,
          )
        : null;
    this.roleEmbedding = this.retriever ? tf.tidy(() => param(tf.randomNormal([2, d], 0, 0.02, 'float32', tfSeed(rng.seed())), true, 'retriever.role')) : null;
    const f = cfg.fusion;
    this.transformer =
      f.type === 'transformer'
        ? Array.from({ length: f.blocks }, (_, i) => new TransformerBlock(`fusion.block${i}`, { dim: d, heads: cfg.heads, ffnHidden: f.ffnHidden, dropout: cfg.dropout }, rng))
        : [];
    const blockCfg = { d, heads: cfg.heads, dropout: cfg.dropout, moe: f.moe, referenceCode: { noiseAtInference: false, flattenedSequenceRouting: false } };
    this.moeBlocks = f.type === 'moe' ? Array.from({ length: f.blocks }, (_, i) => new FuseMoEBlock(`fusion.block${i}`, blockCfg, new Array<number>(M).fill(1), rng)) : [];
    this.norm = new LayerNorm('fusion.norm', { dim: d });
    this.head = new Linear('head', { inDim: d, outDim: outputUnits(spec.task) }, rng);
  }

  /** Whether the missing strategy retrieves from the training pool (and so needs it or a bank). */
  get usesPool(): boolean {
    return this.cfg.missing === 'moe-retriever' || this.cfg.missing === 'nearest-neighbour' || this.cfg.missing === 'mean';
  }

  /** Give the model its training split: the retrieval pool at every stage. */
  setTrainingPool(samples: Sample[], toBatch: (s: Sample[]) => Batch): void {
    const groups = samples.map((s) => groupIdOf(this.spec, s));
    this.pool = { samples, toBatch, index: new SupportingGroupIndex(groups, this.spec.modalities.length) };
    this.bank = null;
    this.samplesSeen = 0;
    this.samplesSinceBank = 0;
  }

  /** The supporting-group index of the pool (training pool, or the saved bank's). */
  poolIndex(): SupportingGroupIndex | null {
    if (this.pool) return this.pool.index;
    return this.bank ? new SupportingGroupIndex(this.bank.groupIds, this.spec.modalities.length) : null;
  }

  /** Variables whose change makes the bank stale. */
  private encoderVariables(): tf.Variable[] {
    return this.encoders.flatMap((e) => e.variables());
  }

  /** The bank, recomputed when the encoders changed (in training: at most once per pass over the pool). */
  retrievalBank(training = false): EmbeddingBank | null {
    if (!this.pool) return this.bank;
    const vars = this.encoderVariables();
    if (this.bank && this.bank.isFreshFor(vars)) return this.bank;
    if (training && this.bank && this.samplesSinceBank < this.pool.samples.length) return this.bank;
    outsideTape(() => {
      this.bank = this.computeBank(this.pool!);
      this.bank.markFresh(vars);
    });
    this.samplesSinceBank = 0;
    return this.bank;
  }

  private computeBank(pool: TrainingPool): EmbeddingBank {
    const M = this.spec.modalities.length;
    const d = this.cfg.d;
    const N = pool.samples.length;
    const emb = new Float32Array(N * M * d);
    const obs = new Uint8Array(N * M);
    for (let i = 0; i < N; i += 128) {
      const batch = pool.toBatch(pool.samples.slice(i, i + 128));
      tf.tidy(() => {
        const { emb: e, observed } = this.encode(batch, false);
        emb.set(e.dataSync() as Float32Array, i * M * d);
        obs.set(observed, i * M);
      });
    }
    return new EmbeddingBank(
      pool.samples.map((s) => s.id),
      Int32Array.from({ length: N }, (_, i) => pool.index.groupOf(i)),
      emb,
      obs,
      M,
      d,
    );
  }

  /** Attach a saved bank (model directory), made fresh for the current (loaded) weights. */
  attachBank(bank: EmbeddingBank): void {
    this.bank = bank;
    bank.markFresh(this.encoderVariables());
  }

  /** Per-modality embeddings (mean of the encoder's tokens) [B, M, d] and observed flags [B·M]. */
  encode(batch: Batch, training: boolean): { emb: tf.Tensor3D; observed: Uint8Array } {
    const B = batch.size;
    const M = this.spec.modalities.length;
    const observed = new Uint8Array(B * M);
    const parts = this.encoders.map((enc, j) => {
      const { tokens, empty } = enc.apply(batch.modalities[this.modalityNames[j]!]!, training); // [B, L, d], [B]
      const e = empty.dataSync();
      for (let b = 0; b < B; b++) observed[b * M + j] = batch.present[b * M + j]! > 0 && e[b] === 0 ? 1 : 0;
      return tf.mean(tokens, 1).expandDims(1); // [B, 1, d]
    });
    return { emb: tf.concat(parts, 1) as tf.Tensor3D, observed };
  }

  private warmingUp(training: boolean): boolean {
    return training && this.pool !== null && this.samplesSeen < this.cfg.warmupEpochs * this.pool.samples.length;
  }

  /** Index over the training pool, or (reference switch, inference) the pool plus the batch. */
  private indexFor(observed: Uint8Array, B: number, training: boolean): { index: SupportingGroupIndex; poolSize: number } {
    const base = this.poolIndex();
    if (!base) {
      throw new FlexiModalError(`model.missing '${this.cfg.missing}' retrieves from the training pool, but this model has none`, {
        where: 'moe-retriever model',
        hint: 'train it with `fleximodal train` (train.ensemble = 1) or load a saved model directory that holds retrieval-bank.safetensors',
      });
    }
    if (training || !this.cfg.referenceCode.evaluatedSamplesInPool) return { index: base, poolSize: base.size };
    const M = this.spec.modalities.length;
    const groups = [...Array.from({ length: base.size }, (_, i) => base.groupOf(i)), ...observedGroups(observed, B, M)];
    return { index: new SupportingGroupIndex(groups, M), poolSize: base.size };
  }

  /**
   * Embeddings of the members the queries need, as rows of a table: pool member i's modality T
   * → row. Live (training, poolEmbeddings 'live': encoded now, gradient flows) or from the bank.
   * Members ≥ poolSize are batch samples (reference switch): their rows come from `embFlat`.
   */
  private memberTable(
    needs: { member: number; target: number }[],
    poolSize: number,
    embFlat: tf.Tensor2D,
    training: boolean,
  ): { table: tf.Tensor2D; rowOf: Map<string, number> } {
    const M = this.spec.modalities.length;
    const d = this.cfg.d;
    const rowOf = new Map<string, number>();
    const key = (i: number, t: number) => `${i}:${t}`;
    const unique = new Map<string, { member: number; target: number }>();
    for (const n of needs) unique.set(key(n.member, n.target), n);
    const parts: tf.Tensor2D[] = [embFlat];
    let next = embFlat.shape[0];
    const fromPool = [...unique.values()].filter((n) => n.member < poolSize);
    for (const n of unique.values()) if (n.member >= poolSize) rowOf.set(key(n.member, n.target), (n.member - poolSize) * M + n.target);
    if (training && this.pool && this.cfg.retrieval.poolEmbeddings === 'live') {
      for (let t = 0; t < M; t++) {
        const members = fromPool.filter((n) => n.target === t).map((n) => n.member);
        if (!members.length) continue;
        const batch = this.pool.toBatch(members.map((i) => this.pool!.samples[i]!));
        const { tokens } = this.encoders[t]!.apply(batch.modalities[this.modalityNames[t]!]!, training); // [u, L, d]
        parts.push(tf.mean(tokens, 1) as tf.Tensor2D); // [u, d]
        members.forEach((i, j) => rowOf.set(key(i, t), next + j));
        next += members.length;
      }
    } else if (fromPool.length) {
      const bank = this.retrievalBank(training)!;
      const rows = new Float32Array(fromPool.length * d);
      fromPool.forEach((n, j) => {
        rows.set(bank.row(n.member, n.target), j * d);
        rowOf.set(key(n.member, n.target), next + j);
      });
      parts.push(tf.tensor2d(rows, [fromPool.length, d]));
      next += fromPool.length;
    }
    parts.push(tf.zeros([1, d]));
    return { table: tf.concat(parts, 0) as tf.Tensor2D, rowOf };
  }

  /** Nearest supporting-group member of each query: mean cosine over the modalities both observe. */
  private nearestMembers(queries: RetrievalQuery[], embData: Float32Array, observed: Uint8Array, poolSize: number): void {
    const M = this.spec.modalities.length;
    const d = this.cfg.d;
    const bank = this.retrievalBank(false)!;
    const vecOf = (i: number, m: number): Float32Array | null => {
      if (i < poolSize) return bank.observed[i * M + m] ? bank.row(i, m) : null;
      const b = i - poolSize;
      return observed[b * M + m] ? embData.subarray((b * M + m) * d, (b * M + m + 1) * d) : null;
    };
    const cos = (a: Float32Array, c: Float32Array) => {
      let ab = 0;
      let aa = 0;
      let cc = 0;
      for (let k = 0; k < d; k++) {
        ab += a[k]! * c[k]!;
        aa += a[k]! * a[k]!;
        cc += c[k]! * c[k]!;
      }
      return ab / Math.sqrt(aa * cc + 1e-12);
    };
    for (const q of queries) {
      let best = -1;
      let bestScore = -Infinity;
      for (const i of q.pool) {
        let s = 0;
        let n = 0;
        for (let m = 0; m < M; m++) {
          if (!observed[q.b * M + m]) continue;
          const v = vecOf(i, m);
          if (!v) continue;
          s += cos(embData.subarray((q.b * M + m) * d, (q.b * M + m + 1) * d), v);
          n++;
        }
        const score = n ? s / n : -1;
        if (score > bestScore) {
          bestScore = score;
          best = i;
        }
      }
      q.intra = best >= 0 ? Int32Array.of(best) : new Int32Array(0);
    }
  }

  /**
   * The fill of the missing slots [B, M, d] (rows of observed slots are ignored), and the trace
   * of the retrieval when `trace` is given.
   */
  private fill(input: FillInput): tf.Tensor3D {
    const { batch, observed, opts } = input;
    const B = batch.size;
    const M = this.spec.modalities.length;
    const d = this.cfg.d;
    const missingAny = observed.some((o) => o === 0);
    if (this.cfg.missing === 'zeros' || this.warmingUp(opts.training) || !missingAny) return tf.zeros([B, M, d]);
    switch (this.cfg.missing) {
      case 'learned-modality':
        return tf.tile(tf.stack(this.missingModality).expandDims(0), [B, 1, 1]) as tf.Tensor3D; // [B, M, d]
      case 'learned-group': {
        return tf.tile(this.missingGroup!.lookup(observedGroups(observed, B, M), opts.training).expandDims(1), [1, M, 1]) as tf.Tensor3D; // [B, M, d]
      }
      case 'mean': {
        const bank = this.retrievalBank(opts.training);
        if (!bank) this.indexFor(observed, B, opts.training); // throws the "no pool" error
        const means = new Float32Array(M * d);
        for (let m = 0; m < M; m++) means.set(bank!.modalityMean(m), m * d);
        return tf.tile(tf.tensor3d(means, [1, M, d]), [B, 1, 1]) as tf.Tensor3D;
      }
      default:
        return this.retrieve(input);
    }
  }

  /** Retrieval fill (moe-retriever, nearest-neighbour). */
  private retrieve({ batch, emb, observed, opts, trace }: FillInput): tf.Tensor3D {
    const B = batch.size;
    const M = this.spec.modalities.length;
    const d = this.cfg.d;
    const { index, poolSize } = this.indexFor(observed, B, opts.training);
    const queries = planRetrieval(index, observed, batch.ids, {
      intraSamples: this.cfg.missing === 'nearest-neighbour' ? 0 : this.cfg.retrieval.intraSamples,
      interContext: this.cfg.retrieval.interContext,
      stepSeed: opts.training ? (opts.seed ?? 0) : undefined,
      modelSeed: this.seed,
    });
    if (!opts.training) for (const q of queries) this.inferenceCounts[q.kind]++;
    const embFlat = emb.reshape([B * M, d]) as tf.Tensor2D;
    if (this.cfg.missing === 'nearest-neighbour') this.nearestMembers(queries, emb.dataSync() as Float32Array, observed, poolSize);
    const needs = queries.flatMap((q) => Array.from(q.intra, (member) => ({ member, target: q.target })));
    const { table, rowOf } = this.memberTable(needs, poolSize, embFlat, opts.training);
    const zeroRow = table.shape[0] - 1;
    const slots = Int32Array.from(queries, (q) => q.b * M + q.target);
    let retrieved: tf.Tensor2D;
    if (this.cfg.missing === 'nearest-neighbour') {
      const rows = Int32Array.from(queries, (q) => (q.intra.length ? rowOf.get(`${q.intra[0]}:${q.target}`)! : zeroRow));
      retrieved = gatherRows(table, rows); // [R, d]
    } else {
      const R = queries.length;
      const Lc = Math.max(1, ...queries.map((q) => q.intra.length + q.inter.length));
      const idx = new Int32Array(R * Lc).fill(zeroRow);
      const typeIdx = new Int32Array(R * Lc);
      const mask = new Float32Array(R * Lc);
      const tokenGroups = new Int32Array(R * Lc).fill(-1);
      const groupOfMember = (i: number) => index.groupOf(i);
      const sampleGroups = observedGroups(observed, B, M);
      queries.forEach((q, r) => {
        let at = r * Lc;
        const own = sampleGroups[q.b]!;
        for (const i of q.intra) {
          idx[at] = rowOf.get(`${i}:${q.target}`)!;
          typeIdx[at] = q.target; // role intra, modality T
          tokenGroups[at] = groupOfMember(i);
          mask[at++] = 1;
        }
        for (const m of q.inter) {
          idx[at] = q.b * M + m;
          typeIdx[at] = M + m; // role inter, modality m
          tokenGroups[at] = own;
          mask[at++] = 1;
        }
      });
      const types = tf.concat([tf.add(this.modalityEmbedding, this.roleEmbedding!.slice([0, 0], [1, d])), tf.add(this.modalityEmbedding, this.roleEmbedding!.slice([1, 0], [1, d]))], 0) as tf.Tensor2D; // [2M, d]
      const tokens = tf.add(gatherRows(table, idx), tf.mul(gatherRows(types, typeIdx), tf.tensor2d(mask, [R * Lc, 1]))); // [R·Lc, d]
      const out = this.retriever!.apply(tokens.reshape([R, Lc, d]) as tf.Tensor3D, mask, Int32Array.from(queries, (q) => q.target), opts);
      retrieved = out.retrieved;
      trace?.({
        queries,
        Lc,
        K: this.cfg.retrieval.topK,
        tokenGroups,
        topIdx: out.topIdx,
        topGates: out.topGates,
        sampleGroups,
      });
    }
    return scatterAddRows(retrieved, slots, B * M).reshape([B, M, d]) as tf.Tensor3D;
  }

  /** Forward up to the filled per-modality embeddings [B, M, d] (observed ones kept, missing ones filled). */
  filledEmbeddings(batch: Batch, opts: { training: boolean; seed?: number }, trace?: (t: RetrievalTrace) => void): { x: tf.Tensor3D; observed: Uint8Array } {
    const B = batch.size;
    const M = this.spec.modalities.length;
    const { emb, observed } = this.encode(batch, opts.training);
    if (opts.training && this.pool) {
      this.samplesSeen += B;
      this.samplesSinceBank += B;
    }
    const fill = this.fill({ batch, emb, observed, opts, trace });
    const keep = tf.tensor3d(Float32Array.from(observed), [B, M, 1]);
    return { x: tf.add(tf.mul(emb, keep), tf.mul(fill, tf.sub(1, keep))) as tf.Tensor3D, observed };
  }

  forward(batch: Batch, opts: { training: boolean; seed?: number }): ForwardOutput {
    return tf.tidy(() => this.run(batch, opts) as unknown as tf.TensorContainer) as unknown as ForwardOutput;
  }

  private run(batch: Batch, opts: { training: boolean; seed?: number }, trace?: (t: RetrievalTrace) => void): ForwardOutput {
    const { x: filled, observed } = this.filledEmbeddings(batch, opts, trace);
    let x = tf.add(filled, this.modalityEmbedding.expandDims(0)) as tf.Tensor3D; // [B, M, d]
    const aux: tf.Scalar[] = [];
    const entropy: tf.Scalar[] = [];
    const balance: tf.Scalar[] = [];
    for (const block of this.transformer) x = block.apply(x, { training: opts.training }).y;
    this.moeBlocks.forEach((block, i) => {
      const present = Float32Array.from(observed);
      const r = block.apply(x, new Array<number>(this.spec.modalities.length).fill(1), present, opts.training, opts.seed === undefined ? undefined : opts.seed + 7919 * i);
      x = r.y;
      const losses = routerLosses(r.stats, { entropy: this.cfg.fusion.moe.entropyWeight, balance: this.cfg.fusion.moe.loadWeight });
      aux.push(losses.total);
      entropy.push(losses.entropy);
      balance.push(losses.balance);
    });
    const pooled = tf.mean(this.norm.apply(x), 1) as tf.Tensor2D; // [B, d]
    const logits = this.head.apply(pooled) as tf.Tensor2D; // [B, C]
    if (!aux.length) return { logits };
    const nb = aux.length;
    return {
      logits,
      auxLoss: tf.div(tf.addN(aux), nb) as tf.Scalar,
      auxTerms: { entropy: tf.div(tf.addN(entropy), nb) as tf.Scalar, load: tf.div(tf.addN(balance), nb) as tf.Scalar },
    };
  }

  /** The retrieval of a batch in inference mode (null when nothing was retrieved by the MoE). */
  retrievalTrace(batch: Batch): RetrievalTrace | null {
    let out: RetrievalTrace | null = null;
    tf.tidy(() => {
      this.filledEmbeddings(batch, { training: false }, (t) => {
        out = t;
      });
    });
    return out;
  }

  /**
   * Per sample: the experts chosen for each retrieved modality (gate weight summed over the
   * context tokens, shares of the sample's total), and the modality shares of the context tokens'
   * gate weight. Samples with nothing missing get empty lists.
   */
  explain(batch: Batch): RoutingExplanation[] {
    const M = this.spec.modalities.length;
    const trace = this.retriever ? this.retrievalTrace(batch) : null;
    return batch.ids.map((_id, b) => {
      const retrieved: NonNullable<RoutingExplanation['retrieved']> = [];
      const expertWeight = new Map<number, number>();
      const modalityWeight = new Float64Array(M);
      let total = 0;
      trace?.queries.forEach((q, r) => {
        if (q.b !== b) return;
        const perExpert = new Map<number, number>();
        for (let t = 0; t < trace.Lc; t++) {
          for (let k = 0; k < trace.K; k++) {
            const at = (r * trace.Lc + t) * trace.K + k;
            const e = trace.topIdx[at]!;
            if (e < 0) continue;
            const g = trace.topGates[at]!;
            perExpert.set(e, (perExpert.get(e) ?? 0) + g);
            expertWeight.set(e, (expertWeight.get(e) ?? 0) + g);
            modalityWeight[q.target]! += g;
            total += g;
          }
        }
        const sum = [...perExpert.values()].reduce((a, v) => a + v, 0);
        retrieved.push({
          modality: this.modalityNames[q.target]!,
          pool: q.kind,
          intraContext: q.intra.length,
          interContext: q.inter.length,
          experts: [...perExpert.entries()]
            .sort((a, c) => c[1] - a[1])
            .map(([e, w]) => ({ expert: this.retriever!.expertName(e, this.modalityNames), weight: sum > 0 ? w / sum : 0 })),
        });
      });
      return {
        basis: 'retrieval' as const,
        shares: Object.fromEntries(this.modalityNames.map((n, m) => [n, total > 0 ? modalityWeight[m]! / total : 0])),
        topExperts: [...expertWeight.entries()]
          .sort((a, c) => c[1] - a[1])
          .map(([e, w]) => ({ layer: 0, expert: e, weight: total > 0 ? w / total : 0, shares: {} })),
        retrieved,
      };
    });
  }

  variables(): tf.Variable[] {
    return [
      ...this.encoders.flatMap((e) => e.variables()),
      this.modalityEmbedding,
      ...this.missingModality,
      ...(this.missingGroup?.variables() ?? []),
      ...(this.roleEmbedding ? [this.roleEmbedding] : []),
      ...(this.retriever ? this.retriever.variables() : []),
      ...this.transformer.flatMap((b) => b.variables()),
      ...this.moeBlocks.flatMap((b) => b.variables()),
      ...this.norm.variables(),
      ...this.head.variables(),
    ];
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

/** Kinds a `PoolKind` can take, in report order. */
export const POOL_KINDS: readonly PoolKind[] = ['exact', 'observes-target', 'empty'];

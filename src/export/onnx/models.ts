/**
 * ONNX emitters of the fusion models (src/models), mirroring their inference forward pass:
 * the late-fusion baseline, FuseMoE (every gating function, the three router designs, token and
 * flattened-sample routing, learned / zero / group missing embeddings, both poolings) and
 * REMIND / Soft MoE. Parts without an emitter are refused by name.
 *
 * Sparse top-K routing is exported densely: every expert runs on every row and the experts
 * outside a row's top K get weight exactly 0 (docs/EXPORT.md ("ONNX"); the tests check the outputs
 * equal the sparse TypeScript path).
 */
import type { DatasetSpec } from '../../data/schema.js';
import type { FusionModel } from '../../models/model.js';
import { LateFusionBaseline } from '../../models/lateFusionBaseline.js';
import { FuseMoEModel, type FuseMoEBlock } from '../../models/fusemoe.js';
import { RemindModel } from '../../models/remind.js';
import { MoERetrieverModel } from '../../models/moeRetriever.js';
import { EnsembleModel } from '../../models/ensemble.js';
import type { EmbeddingBank } from '../../models/retriever/embeddingBank.js';
import type { TransformerBlock } from '../../nn/transformerBlock.js';
import type { DenseFeedForward } from '../../nn/feedForward.js';
import type { ModalityEncoder } from '../../encoders/encoder.js';
import type { Mlp } from '../../nn/mlp.js';
import type { Linear } from '../../nn/linear.js';
import type { LayerNorm } from '../../nn/layerNorm.js';
import type { MultiHeadAttention } from '../../nn/multiHeadAttention.js';
import type { GroupMissingEmbedding } from '../../models/groupMissingEmbedding.js';
import { JointRouter, PerModalityRouter, DisjointRouter, type MoEFusionRouter } from '../../moe/routers.js';
import type { SoftMoE } from '../../moe/softMoe.js';
import type { UncertaintySwitch } from '../../moe/routerUncertainty.js';
import type { FuseMoEModelConfig, RemindModelConfig } from '../../config/schema.js';
import type { tf } from '../../engine/tf.js';
import type { OnnxGraph } from './graph.js';
import { encoder, type EncodedTokens, type ModalityInputs } from './encoders.js';
import { retrievalWidth } from './tensors.js';
import { expertStack, allExperts, denseMoe, gateLogits, layerNorm, linear, mlp, refuse, selfAttention, sparseMoe, topKWeights } from './layers.js';

/** What a model emitter gets: the graph inputs per modality (spec order) and the presence input. */
export interface ModelInputs {
  modalities: ModalityInputs[];
  /** [B, M] */
  present: string;
  /** MoE-Retriever: drawn bank members per (sample, target) [B, M, n] (float, −1 = none). */
  retrievalMembers?: string;
}

/** Emit the model's inference graph; returns the logits [B, C]. */
export function modelGraph(g: OnnxGraph, model: FusionModel, spec: DatasetSpec, inp: ModelInputs): string {
  if (model instanceof LateFusionBaseline) return baseline(g, model, spec, inp);
  if (model instanceof FuseMoEModel) return fusemoe(g, model, spec, inp);
  if (model instanceof RemindModel) return remind(g, model, spec, inp);
  if (model instanceof MoERetrieverModel) return moeRetriever(g, model, inp);
  if (model instanceof EnsembleModel) return ensemble(g, model, spec, inp);
  return refuse(`model type '${model.type}'`, 'the ONNX exporter covers baseline, fusemoe and remind models');
}

/** Column j of present as [B, 1]. */
function presentCol(g: OnnxGraph, present: string, j: number): string {
  return g.slice(present, 1, j, j + 1);
}

function encodeAll(g: OnnxGraph, encoders: ModalityEncoder[], inp: ModelInputs): EncodedTokens[] {
  return encoders.map((e, j) => encoder(g, e, inp.modalities[j]!));
}

/** Late fusion (src/models/lateFusionBaseline.ts). */
function baseline(g: OnnxGraph, model: LateFusionBaseline, spec: DatasetSpec, inp: ModelInputs): string {
  const m = model as unknown as { encoders: ModalityEncoder[]; head: Mlp };
  const enc = encodeAll(g, m.encoders, inp);
  const pooled = enc.map((e, j) => {
    const keep = g.mul(g.oneMinus(g.unsqueeze(e.empty, [1])), presentCol(g, inp.present, j)); // [B, 1]
    return g.mul(g.reduceMean(e.tokens, [1], false), keep); // [B, d]
  });
  return mlp(g, g.concat([...pooled, inp.present], 1), m.head); // [B, C]
}

/** Effective presence per modality: present and not empty.  → [B, 1] each */
function effectivePresence(g: OnnxGraph, enc: EncodedTokens[], present: string): string[] {
  return enc.map((e, j) => g.mul(g.positive(presentCol(g, present, j)), g.oneMinus(g.unsqueeze(e.empty, [1]))));
}

/** The group embedding of each sample: [B, d] from the table with unseen groups replaced by the default. */
function groupEmbedding(g: OnnxGraph, gm: GroupMissingEmbedding, eff: string[]): string {
  const G = gm.numGroups;
  const d = gm.dim;
  const table = gm.table.dataSync() as Float32Array;
  const seen: number[] = Array.from(gm.seen.dataSync(), (v) => (v > 0 ? 1 : 0));
  const nSeen = seen.reduce((a, v) => a + v, 0);
  const fallback = new Float64Array(d);
  if (!gm.opts.residual && nSeen > 0) {
    for (let k = 0; k < G; k++) if (seen[k]) for (let i = 0; i < d; i++) fallback[i]! += table[k * d + i]!;
    for (let i = 0; i < d; i++) fallback[i]! /= nSeen;
  }
  const eff2 = new Float32Array(table);
  for (let k = 0; k < G; k++) if (!(seen[k] === 1 || nSeen === 0)) eff2.set(Float32Array.from(fallback), k * d);
  const t = g.tensor(eff2, [G, d], 'float32', `${gm.name}.group.effective`);
  return g.node('Gather', [t, groupIds(g, eff)], { axis: 0 }); // [B, d]
}

/** Bitmask of each sample's effectively present modalities (bit j = modality j).  → [B] int64 */
function groupIds(g: OnnxGraph, eff: string[]): string {
  const pow2 = g.const(eff.map((_, j) => 2 ** j), 'float32', [eff.length, 1]);
  return g.squeeze(g.cast(g.matmul(g.concat(eff, 1), pow2), 'int64'), [1]); // [B]
}

/** Row j of the modality-type embedding as a [1, d] constant. */
function modalityRow(g: OnnxGraph, emb: tf.Variable, j: number, d: number): string {
  const all = emb.dataSync() as Float32Array;
  return g.tensor(all.slice(j * d, (j + 1) * d), [1, d], 'float32', `fusion.modalityEmbedding.${j}`);
}

/** FuseMoE (src/models/fusemoe.ts). */
function fusemoe(g: OnnxGraph, model: FuseMoEModel, spec: DatasetSpec, inp: ModelInputs): string {
  const m = model as unknown as {
    encoders: ModalityEncoder[];
    missing: (tf.Variable | null)[];
    groupMissing: GroupMissingEmbedding | null;
    modalityEmbedding: tf.Variable;
    blocks: FuseMoEBlock[];
    norm: LayerNorm;
    head: Linear;
    cfg: FuseMoEModelConfig;
  };
  const d = m.cfg.d;
  const seqLens = model.seqLens;
  const enc = encodeAll(g, m.encoders, inp);
  const eff = effectivePresence(g, enc, inp.present);
  const absent = eff.map((p) => g.unsqueeze(g.oneMinus(p), [2])); // [B, 1, 1]
  const groupEmb = m.groupMissing ? g.unsqueeze(groupEmbedding(g, m.groupMissing, eff), [1]) : null; // [B, 1, d]
  const parts = enc.map((e, j) => {
    let t = g.mul(e.tokens, g.unsqueeze(eff[j]!, [2])); // [B, L_j, d]
    const miss = m.missing[j];
    if (miss) t = g.add(t, g.mul(absent[j]!, g.weight(miss))); // + learned tokens where absent
    t = g.add(t, modalityRow(g, m.modalityEmbedding, j, d));
    if (groupEmb) t = g.add(t, g.mul(absent[j]!, groupEmb));
    return t;
  });
  let x = g.concat(parts, 1); // [B, ΣL, d]
  m.blocks.forEach((block, i) => (x = fuseMoeBlock(g, block, x, seqLens, d, `fusion.block${i}.moe`)));
  const normed = layerNorm(g, x, m.norm);
  const pooled =
    m.cfg.pooling === 'per-modality'
      ? g.concat(g.split(normed, 1, seqLens).map((t) => g.reduceMean(t, [1], false)), 1) // [B, M·d]
      : g.reduceMean(normed, [1], false); // [B, d]
  return linear(g, pooled, m.head);
}

/** One FuseMoE block: x + MHA(LN x); x + MoE(LN x) routed per modality.  x [B, ΣL, d] → [B, ΣL, d] */
function fuseMoeBlock(g: OnnxGraph, block: FuseMoEBlock, x: string, seqLens: number[], d: number, name: string): string {
  const Ltot = seqLens.reduce((a, b) => a + b, 0);
  const n1 = layerNorm(g, x, block.ln1);
  const x1 = g.add(x, selfAttention(g, n1, block.attn as MultiHeadAttention, Ltot));
  const n2 = layerNorm(g, x1, block.ln2);
  return g.add(x1, router(g, block.router, g.split(n2, 1, seqLens), seqLens, d, name));
}

/** An MoE fusion router on per-modality tokens [B, L_j, d] → [B, ΣL, d]. */
function router(g: OnnxGraph, r: MoEFusionRouter, tokens: string[], L: number[], d: number, name: string): string {
  const cfg = r.cfg;
  if (cfg.noisyGating && cfg.noiseAtInference) {
    refuse(`router '${r.name}' with noise at inference (referenceCode.noiseAtInference)`, 'random gating noise at prediction time has no deterministic ONNX equivalent; export a model trained with noiseAtInference false');
  }
  const unit = cfg.routingUnit ?? 'token';
  const M = tokens.length;
  const K = cfg.topK;
  if (r instanceof JointRouter) {
    if (unit === 'token') {
      const L0 = L[0]!;
      const x = g.reshape(g.concat(tokens, 2), [-1, M * d]); // [B·L, M·d]
      const y = g.reshape(sparseMoe(g, x, r.moe.gate, r.moe.experts, K, name), [-1, L0, M * d]);
      return g.concat(g.split(y, 2, L.map(() => d)), 1);
    }
    const x = g.concat(tokens.map((t, j) => g.reshape(t, [-1, L[j]! * d])), 1); // [B, ΣL·d]
    const y = sparseMoe(g, x, r.moe.gate, r.moe.experts, K, name);
    return g.concat(g.split(y, 1, L.map((l) => l * d)).map((t, j) => g.reshape(t, [-1, L[j]!, d])), 1);
  }
  const rows = (t: string, j: number): string => g.reshape(t, unit === 'token' ? [-1, d] : [-1, L[j]! * d]);
  if (r instanceof PerModalityRouter) {
    const stack = expertStack(g, r.pool, name);
    return g.concat(tokens.map((t, j) => g.reshape(sparseMoe(g, rows(t, j), r.gates[j]!, r.pool, K, name, stack), [-1, L[j]!, d])), 1);
  }
  if (r instanceof DisjointRouter) {
    return g.concat(tokens.map((t, j) => g.reshape(sparseMoe(g, rows(t, j), r.moes[j]!.gate, r.moes[j]!.experts, K, `${name}.mod${j}`), [-1, L[j]!, d])), 1);
  }
  return refuse(`router '${r.name}'`, 'use a joint, per-modality or disjoint router');
}

/** REMIND / Soft MoE fusion (src/models/remind.ts). */
function remind(g: OnnxGraph, model: RemindModel, spec: DatasetSpec, inp: ModelInputs): string {
  const m = model as unknown as {
    encoders: ModalityEncoder[];
    modalityMissing: tf.Variable[];
    groupMissing: GroupMissingEmbedding | null;
    modalityEmbedding: tf.Variable;
    blocks: { ln1: LayerNorm; attn: MultiHeadAttention; ln2: LayerNorm; moe: SoftMoE }[];
    norm: LayerNorm;
    head: Linear;
    cfg: RemindModelConfig;
  };
  const d = m.cfg.d;
  const seqLens = model.seqLens;
  const T = seqLens.reduce((a, b) => a + b, 0);
  const enc = encodeAll(g, m.encoders, inp);
  const eff = effectivePresence(g, enc, inp.present);
  const groupEmb = m.groupMissing ? g.unsqueeze(groupEmbedding(g, m.groupMissing, eff), [1]) : null; // [B, 1, d]
  const gid = groupIds(g, eff); // [B] int64
  const parts = enc.map((e, j) => {
    const keep = g.unsqueeze(eff[j]!, [2]); // [B, 1, 1]
    const shared = m.modalityMissing.length > 0 ? g.unsqueeze(g.weight(m.modalityMissing[j]!), [0]) : null; // [1, L_j, d]
    const fill = groupEmb && shared ? g.add(shared, groupEmb) : (groupEmb ?? shared!);
    const t = g.add(g.mul(e.tokens, keep), g.mul(g.oneMinus(keep), fill));
    return g.add(t, modalityRow(g, m.modalityEmbedding, j, d));
  });
  // tokens taking part in dispatch and pooling: [B, T] (null = all)
  const tokenMask =
    m.cfg.absentTokens === 'mask' ? g.concat(eff.map((p, j) => g.mul(p, g.const(new Array<number>(seqLens[j]!).fill(1), 'float32', [1, seqLens[j]!]))), 1) : null;
  let x = g.concat(parts, 1); // [B, T, d]
  for (const block of m.blocks) {
    const n1 = layerNorm(g, x, block.ln1);
    const x1 = g.add(x, selfAttention(g, n1, block.attn, T));
    x = g.add(x1, softMoe(g, layerNorm(g, x1, block.ln2), block.moe, tokenMask, gid));
  }
  const normed = layerNorm(g, x, m.norm); // [B, T, d]
  let pooled: string;
  if (tokenMask) {
    const mk = g.unsqueeze(tokenMask, [2]); // [B, T, 1]
    pooled = g.div(g.reduceSum(g.mul(normed, mk), [1], false), g.node('Max', [g.reduceSum(mk, [1], false), g.const(1)]));
  } else {
    pooled = g.div(g.reduceSum(normed, [1], false), g.const(T));
  }
  return linear(g, pooled, m.head);
}

/** Soft MoE (src/moe/softMoe.ts), with group-residual routing when the layer has it.  x [B, T, d] → [B, T, d] */
function softMoe(g: OnnxGraph, x: string, moe: SoftMoE, tokenMask: string | null, gid: string | null): string {
  const { numExperts: n, slotsPerExpert: p, dim: d } = moe.cfg;
  const S = moe.numSlots;
  const eps = g.const(1e-6);
  const xn = g.div(x, g.node('Sqrt', [g.add(g.reduceSum(g.mul(x, x), [-1]), eps)])); // [B, T, d]
  const phi = g.weight(moe.phi);
  const scale = g.weight(moe.scale);
  const normalizeRouter = (ph: string): string => g.mul(g.div(ph, g.node('Sqrt', [g.add(g.reduceSum(g.mul(ph, ph), [-2]), eps)])), scale);
  let logits = g.matmul(xn, normalizeRouter(phi)); // [B, T, S]
  if (moe.residual && moe.cfg.residual) {
    if (!gid) return refuse(`group-residual routing of '${moe.name}' without group ids`, 'internal: pass the group ids');
    const on = residualSwitch(g, logits, tokenMask, S, moe.cfg.residual); // [B] 1.0 where the switch fires
    const res = g.mul(g.node('Gather', [g.weight(moe.residual), gid], { axis: 0 }), g.unsqueeze(on, [1, 2])); // [B, d, S]
    logits = g.matmul(xn, normalizeRouter(g.add(phi, res))); // [B, T, S]
  }
  let lt = g.transpose(logits, [0, 2, 1]); // [B, S, T]
  let dispatchT: string;
  if (tokenMask) {
    const mk = g.unsqueeze(tokenMask, [1]); // [B, 1, T]
    lt = g.add(lt, g.mul(g.sub(mk, g.const(1)), g.const(1e9)));
    dispatchT = g.mul(g.softmax(lt, -1), mk);
  } else dispatchT = g.softmax(lt, -1); // [B, S, T]
  const slots = g.matmul(dispatchT, x); // [B, S, d]
  const perExpert = g.reshape(g.transpose(g.reshape(slots, [-1, n, p, d]), [1, 0, 2, 3]), [n, -1, d]); // [n, B·p, d]
  const outs = allExperts(g, perExpert, expertStack(g, moe.experts, moe.name)); // [n, B·p, d]
  const back = g.reshape(g.transpose(g.reshape(outs, [n, -1, p, d]), [1, 0, 2, 3]), [-1, S, d]); // [B, S, d]
  const combine = g.softmax(logits, -1); // [B, T, S]
  return g.matmul(combine, back); // [B, T, d]
}

/**
 * REMIND eq. 8 switch, in float64 as src/moe/routerUncertainty.ts: per sample, the mean over its
 * valid tokens of the entropy (or KL to uniform) of the shared router's softmax, compared with the
 * threshold. A sample without valid tokens never switches (NaN mean).  logits [B, T, S] → [B]
 */
function residualSwitch(g: OnnxGraph, logits: string, tokenMask: string | null, S: number, sw: UncertaintySwitch): string {
  const pr = g.softmax(g.cast(logits, 'float64'), -1); // [B, T, S]
  const zero = g.const(0, 'float64');
  const plogp = g.node('Where', [g.node('Greater', [pr, zero]), g.mul(pr, g.node('Log', [pr])), zero]);
  const H = g.node('Neg', [g.reduceSum(plogp, [2], false)]); // [B, T]
  const lnS = Math.log(S);
  const metric = sw.metric === 'entropy' ? H : g.node('Max', [g.sub(g.const(lnS, 'float64'), H), zero]);
  const valid = tokenMask ? g.cast(tokenMask, 'float64') : g.add(g.mul(H, zero), g.const(1, 'float64')); // [B, T]
  const mean = g.div(g.reduceSum(g.mul(metric, valid), [1], false), g.reduceSum(valid, [1], false)); // [B]
  const fires = sw.metric === 'entropy' ? g.node('Greater', [mean, g.const(sw.threshold * lnS, 'float64')]) : g.node('Less', [mean, g.const(sw.threshold, 'float64')]);
  return g.cast(fires, 'float32');
}

/**
 * A seed ensemble (src/models/ensemble.ts): every member's graph with its own weights, probabilities
 * averaged, clipped to [1e-7, 1 − 1e-7] and turned back into logits (log, or logit).  → [B, C]
 */
function ensemble(g: OnnxGraph, model: EnsembleModel, spec: DatasetSpec, inp: ModelInputs): string {
  const probs = Array.from({ length: model.size }, (_, i) =>
    model.withMember(i, (member) => {
      const z = modelGraph(g, member, spec, inp);
      return spec.task.kind === 'multiclass' ? g.softmax(z, -1) : g.node('Sigmoid', [z]);
    }),
  );
  const sum = probs.length === 1 ? probs[0]! : g.node('Sum', probs);
  const mean = g.node('Clip', [g.div(sum, g.const(probs.length)), g.const(1e-7), g.const(1 - 1e-7)]);
  const logMean = g.node('Log', [mean]);
  return spec.task.kind === 'multiclass' ? logMean : g.sub(logMean, g.node('Log', [g.oneMinus(mean)]));
}

/**
 * The MoE-Retriever model type (src/models/moeRetriever.ts) with a deterministic missing-slot
 * fill: zeros, the bank's per-modality training mean, learned per-modality or per-combination
 * embeddings. The retrieval strategies ('moe-retriever', 'nearest-neighbour') draw context
 * members from the training bank by a seed derived from each record's id string, which is not
 * a tensor: they are refused.  → logits [B, C]
 */
function moeRetriever(g: OnnxGraph, model: MoERetrieverModel, inp: ModelInputs): string {
  const cfg = model.cfg;
  if (cfg.missing === 'nearest-neighbour') {
    refuse(
      "MoE-Retriever's nearest-neighbour fill (model.missing 'nearest-neighbour': a cosine search over the training bank)",
      "export a moe-retriever model trained with model.missing 'moe-retriever', 'zeros', 'mean', 'learned-modality' or 'learned-group', or serve this one with Predictor / `fleximodal predict`",
    );
  }
  if (cfg.missing === 'moe-retriever' && cfg.referenceCode.evaluatedSamplesInPool) {
    refuse('MoE-Retriever with referenceCode.evaluatedSamplesInPool (retrieval from the other records of the batch)', 'export a model trained with evaluatedSamplesInPool false');
  }
  if (cfg.missing === 'moe-retriever' && !inp.retrievalMembers) refuse("MoE-Retriever's retrieval fill without the retrieval.members input", 'internal: the exporter declares it for moe-retriever models');
  const m = model as unknown as {
    encoders: ModalityEncoder[];
    modalityEmbedding: tf.Variable;
    missingModality: tf.Variable[];
    missingGroup: GroupMissingEmbedding | null;
    transformer: TransformerBlock[];
    moeBlocks: FuseMoEBlock[];
    norm: LayerNorm;
    head: Linear;
    retrievalBank: (training: boolean) => EmbeddingBank | null;
  };
  const d = cfg.d;
  const M = m.encoders.length;
  const enc = encodeAll(g, m.encoders, inp);
  const eff = effectivePresence(g, enc, inp.present); // observed, [B, 1] each
  const keep = g.unsqueeze(g.concat(eff, 1), [2]); // [B, M, 1]
  const emb = g.concat(enc.map((e) => g.unsqueeze(g.reduceMean(e.tokens, [1], false), [1])), 1); // [B, M, d]
  let fill: string | null = null; // [B|1, M, d]
  switch (cfg.missing) {
    case 'zeros':
      break;
    case 'learned-modality': {
      const rows = new Float32Array(M * d);
      m.missingModality.forEach((v, j) => rows.set(v.dataSync() as Float32Array, j * d));
      fill = g.tensor(rows, [1, M, d], 'float32', 'missing.modality');
      break;
    }
    case 'learned-group':
      fill = g.unsqueeze(groupEmbedding(g, m.missingGroup!, eff), [1]); // [B, 1, d]
      break;
    case 'moe-retriever':
      fill = retrievalFill(g, model, emb, eff, inp.retrievalMembers!);
      break;
    case 'mean': {
      const bank = m.retrievalBank(false);
      if (!bank) return refuse("model.missing 'mean' without a retrieval bank", 'export a model directory written by `fleximodal train` (it holds retrieval-bank.safetensors)');
      const rows = new Float32Array(M * d);
      for (let j = 0; j < M; j++) rows.set(bank.modalityMean(j), j * d);
      fill = g.tensor(rows, [1, M, d], 'float32', 'missing.bankMean');
      break;
    }
  }
  let x = g.mul(emb, keep);
  if (fill) x = g.add(x, g.mul(fill, g.oneMinus(keep)));
  x = g.add(x, g.unsqueeze(g.weight(m.modalityEmbedding), [0])); // + [1, M, d]
  for (const block of m.transformer) {
    const x1 = g.add(x, selfAttention(g, layerNorm(g, x, block.ln1), block.attn, M));
    const ffn = (block.ffn as DenseFeedForward).mlp;
    if (!ffn) refuse(`the feed-forward of '${block.name}'`, 'only the dense FFN of the transformer fusion is exported');
    x = g.add(x1, mlp(g, layerNorm(g, x1, block.ln2), ffn));
  }
  const ones = new Array<number>(M).fill(1);
  m.moeBlocks.forEach((block, i) => (x = fuseMoeBlock(g, block, x, ones, d, `fusion.block${i}.moe`)));
  return linear(g, g.reduceMean(layerNorm(g, x, m.norm), [1], false), m.head);
}

/** Self-attention with a 0/1 key mask (src/nn/multiHeadAttention.ts with a [B, Lk] mask).  x [B, L, d], mask [B, L] → [B, L, out] */
function maskedSelfAttention(g: OnnxGraph, x: string, mask: string, mha: MultiHeadAttention, L: number): string {
  const h = mha.heads;
  const dh = mha.projDim / h;
  const split = (y: string): string => g.transpose(g.reshape(y, [-1, L, h, dh]), [0, 2, 1, 3]); // [B, h, L, dh]
  const Q = split(linear(g, x, mha.q));
  const K = split(linear(g, x, mha.k));
  const V = split(linear(g, x, mha.v));
  let s = g.mul(g.matmul(Q, g.transpose(K, [0, 1, 3, 2])), g.const(1 / Math.sqrt(dh))); // [B, h, L, L]
  s = g.add(s, g.mul(g.sub(g.unsqueeze(mask, [1, 2]), g.const(1)), g.const(1e9)));
  const rowValid = g.reduceMax(mask, [-1]); // [B, 1]
  const a = g.mul(g.softmax(s, -1), g.unsqueeze(rowValid, [2, 3])); // [B, h, L, L]
  const ctx = g.reshape(g.transpose(g.matmul(a, V), [0, 2, 1, 3]), [-1, L, mha.projDim]); // [B, L, p]
  return g.mul(linear(g, ctx, mha.o), g.unsqueeze(rowValid, [2])); // [B, L, out]
}

/**
 * MoE-Retriever's retrieval fill (src/models/moeRetriever.ts `retrieve`, src/moe/contextRetriever.ts)
 * for every target modality T: context = the drawn bank members' embeddings of T (+ type T, role
 * intra) ⊕ the sample's own observed embeddings (+ type m, role inter), masked; P' = P + MHA(LN P);
 * the masked sparse MoE (T's pool and the shared experts, exported densely); mean over the real
 * context tokens. Padding tokens sit between real ones here (the TypeScript path packs them at the
 * end): masked keys and a masked mean make the result independent of their place.
 * emb [B, M, d], eff [B, 1] per modality, members [B, M, n] → fill [B, M, d]
 */
function retrievalFill(g: OnnxGraph, model: MoERetrieverModel, emb: string, eff: string[], members: string): string {
  const m = model as unknown as { modalityEmbedding: tf.Variable; roleEmbedding: tf.Variable; retrievalBank: (training: boolean) => EmbeddingBank | null };
  const bank = m.retrievalBank(false);
  const retr = model.retriever!;
  if (!bank) return refuse("MoE-Retriever's retrieval fill without a retrieval bank", 'export a model directory written by `fleximodal train` (it holds retrieval-bank.safetensors)');
  const M = eff.length;
  const d = model.cfg.d;
  const N = bank.size;
  const modEmb = m.modalityEmbedding.dataSync() as Float32Array;
  const role = m.roleEmbedding.dataSync() as Float32Array;
  const typeRow = (j: number, r: number): Float32Array => Float32Array.from({ length: d }, (_, k) => modEmb[j * d + k]! + role[r * d + k]!);
  const interTypes = new Float32Array(M * d);
  for (let j = 0; j < M; j++) interTypes.set(typeRow(j, 1), j * d);
  const interTokens = g.add(emb, g.tensor(interTypes, [1, M, d], 'float32', 'retriever.types.inter')); // [B, M, d]
  const observed = g.concat(eff, 1); // [B, M]
  const moe = retr.moe;
  const stack = moe ? expertStack(g, moe.experts, 'retriever.moe') : null;
  const E = retr.cfg.expertsPerModality;
  const S = retr.numExperts;
  const fills = Array.from({ length: M }, (_, T) => {
    const mem = g.squeeze(g.slice(members, 1, T, T + 1), [1]); // [B, n]
    const maskIntra = g.cast(g.node('GreaterOrEqual', [mem, g.const(0)]), 'float32'); // [B, n]
    const idx = g.cast(g.node('Where', [g.node('Less', [mem, g.const(0)]), g.const(N), mem]), 'int64'); // [B, n]
    const rows = new Float32Array((N + 1) * d);
    for (let i = 0; i < N; i++) rows.set(bank.row(i, T), i * d);
    const bankT = g.tensor(rows, [N + 1, d], 'float32', `retriever.bank.${T}`); // last row: zeros
    const intra = g.add(g.node('Gather', [bankT, idx], { axis: 0 }), g.mul(g.unsqueeze(maskIntra, [2]), g.tensor(typeRow(T, 0), [1, 1, d], 'float32', `retriever.types.intra.${T}`))); // [B, n, d]
    const ctx = model.cfg.retrieval.interContext ? g.concat([intra, interTokens], 1) : intra; // [B, Lc, d]
    const mask = model.cfg.retrieval.interContext ? g.concat([maskIntra, observed], 1) : maskIntra; // [B, Lc]
    const n = retrievalWidth(model.cfg.retrieval.intraSamples, M);
    const Lc = n + (model.cfg.retrieval.interContext ? M : 0);
    const mk = g.unsqueeze(mask, [2]); // [B, Lc, 1]
    const meanOver = (x: string): string => g.div(g.reduceSum(g.mul(x, mk), [1], false), g.node('Max', [g.reduceSum(mk, [1], false), g.const(1)])); // [B, d]
    if (retr.cfg.averageContextOutput) return meanOver(ctx);
    const attended = g.add(ctx, maskedSelfAttention(g, layerNorm(g, ctx, retr.ln), mask, retr.attn, Lc)); // [B, Lc, d]
    if (!moe) return meanOver(attended);
    const offset = new Array<number>(S).fill(-1e9);
    for (let j = 0; j < E; j++) offset[T * E + j] = 0;
    for (let j = M * E; j < S; j++) offset[j] = 0;
    const rowsX = g.reshape(attended, [-1, d]); // [B·Lc, d]
    const logits = g.add(gateLogits(g, rowsX, moe.gate), g.const(offset, 'float32', [S]));
    const y = denseMoe(g, rowsX, topKWeights(g, logits, moe.cfg.topK), stack!); // [B·Lc, d]
    return meanOver(g.reshape(y, [-1, Lc, d]));
  });
  return g.concat(fills.map((f) => g.unsqueeze(f, [1])), 1); // [B, M, d]
}

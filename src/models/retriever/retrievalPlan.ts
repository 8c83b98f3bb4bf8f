/**
 * The retrieval plan of one batch (pure JS, no tensors): for every (sample, missing modality)
 * query, its supporting-group lookup, the drawn intra-modal members and the inter-modal
 * modalities (MoE-Retriever Algorithm 1, lines 3–15).
 *
 * Draws are seeded: in training from the step seed (one generator walked over the batch's
 * queries in order); at inference from (model seed, sample id, target) only, so a sample's
 * retrieval never depends on which other samples share its batch.
 */
import { Rng } from '../../engine/rng.js';
import { seedFor } from '../../engine/seed.js';
import { drawMembers, popcount, type PoolKind, type SupportingGroupIndex } from '../../moe/supportingGroups.js';

/** One retrieval query. */
export interface RetrievalQuery {
  /** Row of the sample in the batch. */
  b: number;
  /** Target (missing) modality T. */
  target: number;
  /** Which supporting group was used. */
  kind: PoolKind;
  /** The supporting group (pool indices). */
  pool: Int32Array;
  /** Drawn intra-modal members (pool indices). */
  intra: Int32Array;
  /** The sample's observed modalities used as inter-modal context. */
  inter: number[];
}

export interface PlanOptions {
  /** Intra-modal context size: |mc| (paper) or a number (0 = none). */
  intraSamples: 'observed-count' | number;
  interContext: boolean;
  /** Training: walk one generator seeded by the step seed. */
  stepSeed?: number;
  /** Inference: per-(sample, target) generators derived from this seed. */
  modelSeed: number;
}

/** Modality combination (bitmask) of each of B samples from observed flags [B·M]. */
export function observedGroups(observed: Uint8Array, B: number, M: number): Int32Array {
  const groups = new Int32Array(B);
  for (let b = 0; b < B; b++) for (let m = 0; m < M; m++) if (observed[b * M + m]) groups[b]! |= 1 << m;
  return groups;
}

/**
 * Plan the queries of a batch. `observed[b·M + m]` = 1 where sample b has modality m; `ids` are
 * the sample ids (inference draws are keyed by them).
 */
export function planRetrieval(index: SupportingGroupIndex, observed: Uint8Array, ids: string[], opts: PlanOptions): RetrievalQuery[] {
  const M = index.numModalities;
  const B = ids.length;
  const trainRng = opts.stepSeed === undefined ? null : new Rng(seedFor(opts.stepSeed, 'retrieval.draws'));
  const out: RetrievalQuery[] = [];
  const groups = observedGroups(observed, B, M);
  for (let b = 0; b < B; b++) {
    const mc = groups[b]!;
    const inter = opts.interContext ? Array.from({ length: M }, (_, m) => m).filter((m) => (mc >>> m) & 1) : [];
    const n = opts.intraSamples === 'observed-count' ? popcount(mc) : opts.intraSamples;
    for (let t = 0; t < M; t++) {
      if ((mc >>> t) & 1) continue;
      const hit = index.lookup(mc, t);
      const rng = trainRng ?? new Rng(seedFor(opts.modelSeed, `retrieval.${ids[b]}.${t}`));
      out.push({ b, target: t, kind: hit.kind, pool: hit.members, intra: drawMembers(hit.members, n, rng), inter });
    }
  }
  return out;
}

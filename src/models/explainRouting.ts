/**
 * Per-sample routing statistics from sparse-router statistics: which experts a sample's tokens went
 * to (gate-weighted) and which modalities those tokens came from. Each token's top-k gate weights
 * sum to 1, so the sample's modality shares are token counts (basis 'tokens').
 */
import type { Batch } from '../data/batchTypes.js';
import type { RouterStats } from '../moe/routers.js';
import type { RoutingExplanation } from './model.js';

interface Acc {
  /** "layer:expert" → gate weight */
  experts: Map<string, { layer: number; expert: number; weight: number; byModality: Float64Array }>;
  byModality: Float64Array;
}

/**
 * `stats[l]` is block l's router statistics for `batch`. A token's gate weight is split over the
 * modalities in its membership row (a joint token carries all present modalities equally).
 */
export function explainRouting(
  batch: Batch,
  stats: RouterStats[],
  modalityNames: string[],
  topN = 5,
): RoutingExplanation[] {
  const B = batch.size;
  const M = modalityNames.length;
  const acc: Acc[] = Array.from({ length: B }, () => ({ experts: new Map(), byModality: new Float64Array(M) }));
  stats.forEach((s, layer) => {
    for (const g of s.groups) {
      const gates = g.topGates.dataSync();
      const N = g.membership.length / M;
      const K = N === 0 ? 0 : g.topIdx.length / N;
      const perSample = N / B; // tokens per sample in this group
      for (let n = 0; n < N; n++) {
        const b = Math.floor(n / perSample);
        let mass = 0;
        for (let j = 0; j < M; j++) mass += g.membership[n * M + j]!;
        if (mass === 0) continue; // padding or an absent modality's token
        for (let k = 0; k < K; k++) {
          const e = g.topIdx[n * K + k]!;
          if (e < 0) continue;
          const w = gates[n * K + k]!;
          const key = `${layer}:${e}`;
          let entry = acc[b]!.experts.get(key);
          if (!entry) {
            entry = { layer, expert: e, weight: 0, byModality: new Float64Array(M) };
            acc[b]!.experts.set(key, entry);
          }
          entry.weight += w;
          for (let j = 0; j < M; j++) {
            const share = (w * g.membership[n * M + j]!) / mass;
            entry.byModality[j]! += share;
            acc[b]!.byModality[j]! += share;
          }
        }
      }
    }
  });
  const shares = (v: Float64Array): Record<string, number> => {
    const tot = v.reduce((a, x) => a + x, 0);
    return Object.fromEntries(modalityNames.map((name, j) => [name, tot > 0 ? v[j]! / tot : 0]));
  };
  return acc.map((a, b) => {
    const experts = [...a.experts.values()].sort((x, y) => y.weight - x.weight);
    const total = experts.reduce((s, e) => s + e.weight, 0);
    return {
      basis: 'tokens' as const,
      shares: shares(a.byModality),
      topExperts: experts.slice(0, topN).map((e) => ({
        layer: e.layer,
        expert: e.expert,
        weight: total > 0 ? e.weight / total : 0,
        shares: shares(e.byModality),
      })),
    };
  });
}

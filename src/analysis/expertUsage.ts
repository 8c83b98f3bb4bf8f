/**
 * Expert-usage analysis (FuseMoE Fig. 3c): for each expert of each MoE block, the gate-weighted
 * share of each modality among its top-k assignments, accumulated over a dataset; rendered as a
 * Markdown table and an SVG heat-map.
 */
import type { Sample } from '../data/schema.js';
import type { Batch } from '../data/batchTypes.js';
import type { FusionModel } from '../models/model.js';
import { FuseMoEModel } from '../models/fusemoe.js';
import { EnsembleModel } from '../models/ensemble.js';
import { ExpertUsageAccumulator } from '../moe/usage-stats.js';
import { heatmap } from '../eval/plots/heatmap.js';
import { markdownTable } from '../eval/report.js';

export interface ExpertUsage {
  modalities: string[];
  /** Per block: [S][M] modality shares of each expert (rows sum to 1; unused experts are 0). */
  shares: number[][][];
  /** Per block: [S] total gate weight of each expert (share of all assignments). */
  load: number[][];
}

/**
 * Accumulate expert usage over `samples` (inference mode). Null for models without experts. For an
 * ensemble, the usage of its first member (experts of different members are unrelated).
 */
export function expertUsage(model: FusionModel, modalities: string[], samples: Sample[], toBatch: (s: Sample[]) => Batch, batchSize = 64): ExpertUsage | null {
  if (model instanceof EnsembleModel) return model.withMember(0, (m) => expertUsage(m, modalities, samples, toBatch, batchSize));
  if (!(model instanceof FuseMoEModel)) return null;
  const { blocks, totalExperts } = model.expertLayout();
  const accs = Array.from({ length: blocks }, () => new ExpertUsageAccumulator(totalExperts, modalities.length));
  for (let i = 0; i < samples.length; i += batchSize) model.accumulateExpertUsage(toBatch(samples.slice(i, i + batchSize)), accs);
  return {
    modalities,
    shares: accs.map((a) => a.shares()),
    load: accs.map((a) => {
      const t = a.totals();
      const per = Array.from({ length: totalExperts }, (_, e) => {
        let s = 0;
        for (let j = 0; j < modalities.length; j++) s += t[e * modalities.length + j]!;
        return s;
      });
      const all = per.reduce((x, y) => x + y, 0);
      return per.map((v) => (all > 0 ? v / all : 0));
    }),
  };
}

/** Markdown: one table per block, experts × modalities (shares) plus the expert's load. */
export function expertUsageMarkdown(u: ExpertUsage): string {
  return u.shares
    .map((rows, l) => {
      const header = ['expert', 'load', ...u.modalities];
      const body = rows.map((r, e) => [String(e), u.load[l]![e]!.toFixed(3), ...r.map((v) => v.toFixed(3))]);
      return `### Block ${l}\n\n${markdownTable(header, body)}`;
    })
    .join('\n\n');
}

/** SVG heat-map of one block's expert × modality shares. */
export function expertUsageHeatmap(u: ExpertUsage, block: number): Promise<string> {
  return heatmap(u.shares[block]!, {
    rowLabels: u.shares[block]!.map((_, e) => `expert ${e} (${(100 * u.load[block]![e]!).toFixed(1)}%)`),
    colLabels: u.modalities,
    title: `block ${block}: modality share of each expert's top-k assignments`,
    domain: [0, 1],
    showValues: true,
    legendTitle: 'share',
  });
}

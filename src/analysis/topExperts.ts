/**
 * Top-experts pattern per modality-combination group (REMIND Fig. 4): for each Soft MoE block,
 * how often each expert is among a sample's top-k experts by combine weight (the expert's share of
 * the sample's combine weight over its tokens), per group of samples. Rendered as a heat map
 * (groups × experts) and a Markdown table.
 */
import type { Sample, DatasetSpec } from '../data/schema.js';
import type { Batch } from '../data/batchTypes.js';
import { groupName } from '../data/groups.js';
import { expertWeights, type RemindModel } from '../models/remind.js';
import { heatmap } from '../eval/plots/heatmap.js';
import { markdownTable } from '../eval/report.js';

export interface TopExpertsPattern {
  k: number;
  numExperts: number;
  /** Per block, per group (largest first): frequency of each expert in the samples' top-k. */
  blocks: { groups: { name: string; n: number; freq: number[] }[] }[];
}

/** Indices of the k largest of w[off .. off+n) (ties: lower index first). */
export function topIndices(w: ArrayLike<number>, off: number, n: number, k: number): number[] {
  return Array.from({ length: n }, (_, e) => e)
    .sort((a, b) => w[off + b]! - w[off + a]! || a - b)
    .slice(0, Math.min(k, n));
}

/**
 * Count, over `samples` (inference mode), how often each expert is in a sample's top-k, per group
 * (the effective modality combination the model saw). Groups with fewer than `minGroupSize`
 * samples are left out.
 */
export function topExpertsPattern(model: RemindModel, spec: DatasetSpec, samples: Sample[], toBatch: (s: Sample[]) => Batch, k = 3, minGroupSize = 5, batchSize = 64): TopExpertsPattern {
  const { blocks, totalExperts: n } = model.expertLayout();
  const counts = Array.from({ length: blocks }, () => new Map<number, { n: number; hits: number[] }>());
  for (let i = 0; i < samples.length; i += batchSize) {
    const r = model.routing(toBatch(samples.slice(i, i + batchSize)));
    for (let l = 0; l < blocks; l++) {
      const w = expertWeights(r, l);
      r.groupIds.forEach((g, b) => {
        const c = counts[l]!.get(g) ?? { n: 0, hits: new Array<number>(n).fill(0) };
        c.n++;
        for (const e of topIndices(w, b * n, n, k)) c.hits[e]!++;
        counts[l]!.set(g, c);
      });
    }
  }
  return {
    k,
    numExperts: n,
    blocks: counts.map((m) => ({
      groups: [...m.entries()]
        .filter(([, c]) => c.n >= minGroupSize)
        .sort((a, b) => b[1].n - a[1].n || a[0] - b[0])
        .map(([g, c]) => ({ name: groupName(spec, g), n: c.n, freq: c.hits.map((h) => h / c.n) })),
    })),
  };
}

/** Heat map SVG of block `l`: rows = groups (with n), columns = experts. */
export function topExpertsHeatmap(p: TopExpertsPattern, l: number, title: string): Promise<string> {
  const groups = p.blocks[l]!.groups;
  return heatmap(
    groups.map((g) => g.freq),
    {
      title,
      rowLabels: groups.map((g) => `${g.name} (n=${g.n})`),
      colLabels: Array.from({ length: p.numExperts }, (_, e) => `E${e}`),
      xLabel: 'expert',
      yLabel: 'modality combination',
      domain: [0, 1],
      legendTitle: `in top-${p.k}`,
    },
  );
}

/** Markdown table of block `l`. */
export function topExpertsMarkdown(p: TopExpertsPattern, l: number): string {
  const groups = p.blocks[l]!.groups;
  return markdownTable(
    ['group', 'n', ...Array.from({ length: p.numExperts }, (_, e) => `E${e}`)],
    groups.map((g) => [g.name, String(g.n), ...g.freq.map((f) => f.toFixed(2))]),
  );
}

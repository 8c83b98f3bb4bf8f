/**
 * MoE-Retriever routing analyses (seed 001, Fig. 3b and 3c), accumulated over a split in
 * inference mode:
 *  - expert-selection ratio per input modality combination (the querying sample's observed set)
 *    and per target modality: share of the top-k selections that went to each expert (rows sum to 1);
 *  - token-selection ratio per expert: which modality combinations the tokens an expert selected
 *    came from (intra-modal tokens: the pool member's combination; inter-modal: the sample's own),
 *    rows sum to 1;
 *  - how often each supporting-group fallback fired on the split.
 * Rendered as Markdown tables and SVG heat-maps.
 */
import type { Sample } from '../data/schema.js';
import type { Batch } from '../data/batchTypes.js';
import type { FusionModel } from '../models/model.js';
import { MoERetrieverModel } from '../models/moeRetriever.js';
import { newPoolCounts, type PoolCounts } from '../moe/supportingGroups.js';
import { heatmap } from '../eval/plots/heatmap.js';
import { markdownTable } from '../eval/report.js';

/** A labelled matrix of shares (rows sum to 1, or 0 for rows never seen). */
export interface ShareMatrix {
  rows: string[];
  cols: string[];
  values: number[][];
  /** Selections (or tokens) behind each row. */
  counts: number[];
}

export interface RetrieverUsage {
  /** Fig. 3b: rows = the querying sample's observed combination, cols = experts. */
  byCombination: ShareMatrix;
  /** Rows = target (retrieved) modality, cols = experts. */
  byTarget: ShareMatrix;
  /** Fig. 3c: rows = experts, cols = modality combination of the selected tokens' source. */
  tokensByExpert: ShareMatrix;
  /** Supporting groups used by the split's queries. */
  pools: PoolCounts;
  queries: number;
  /** Per split (e.g. train, val, test): the supporting group every (sample, missing modality) gets. */
  splitPools: Record<string, PoolCounts>;
}

/** Most token-source combinations shown as their own column in Fig. 3c (the rest: "other"). */
const MAX_TOKEN_COLUMNS = 12;

function combinationName(names: string[], g: number): string {
  const parts = names.filter((_, m) => (g >>> m) & 1);
  return parts.length ? parts.join('+') : 'none';
}

/** Normalise a count table into a ShareMatrix. */
function shares(rows: string[], cols: string[], table: Map<string, Float64Array>): ShareMatrix {
  const values = rows.map((r) => {
    const c = table.get(r)!;
    const s = c.reduce((a, v) => a + v, 0);
    return Array.from(c, (v) => (s > 0 ? v / s : 0));
  });
  return { rows, cols, values, counts: rows.map((r) => table.get(r)!.reduce((a, v) => a + v, 0)) };
}

/** Accumulate the analyses over `samples`; null for models without a retrieval MoE. */
export function retrieverUsage(
  model: FusionModel,
  samples: Sample[],
  toBatch: (s: Sample[]) => Batch,
  opts: { batchSize?: number; splits?: Record<string, Sample[]> } = {},
): RetrieverUsage | null {
  const batchSize = opts.batchSize ?? 64;
  if (!(model instanceof MoERetrieverModel) || !model.retriever?.moe) return null;
  const names = model.modalityNames;
  const S = model.retriever.numExperts;
  const experts = Array.from({ length: S }, (_, e) => model.retriever!.expertName(e, names));
  const byComb = new Map<string, Float64Array>();
  const byTarget = new Map<string, Float64Array>(names.map((n) => [n, new Float64Array(S)]));
  const tokenSources = Array.from({ length: S }, () => new Map<string, number>());
  const pools = newPoolCounts();
  let queries = 0;
  for (let i = 0; i < samples.length; i += batchSize) {
    const trace = model.retrievalTrace(toBatch(samples.slice(i, i + batchSize)));
    if (!trace) continue;
    trace.queries.forEach((q, r) => {
      queries++;
      pools[q.kind]++;
      const comb = combinationName(names, trace.sampleGroups[q.b]!);
      if (!byComb.has(comb)) byComb.set(comb, new Float64Array(S));
      for (let t = 0; t < trace.Lc; t++) {
        const src = trace.tokenGroups[r * trace.Lc + t]!;
        for (let k = 0; k < trace.K; k++) {
          const e = trace.topIdx[(r * trace.Lc + t) * trace.K + k]!;
          if (e < 0) continue;
          byComb.get(comb)![e]!++;
          byTarget.get(names[q.target]!)![e]!++;
          const srcName = combinationName(names, src);
          tokenSources[e]!.set(srcName, (tokenSources[e]!.get(srcName) ?? 0) + 1);
        }
      }
    });
  }
  const combRows = [...byComb.keys()].sort((a, b) => byComb.get(b)!.reduce((x, v) => x + v, 0) - byComb.get(a)!.reduce((x, v) => x + v, 0));
  const totals = new Map<string, number>();
  for (const m of tokenSources) for (const [k, v] of m) totals.set(k, (totals.get(k) ?? 0) + v);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const shown = ranked.slice(0, MAX_TOKEN_COLUMNS);
  const cols = ranked.length > shown.length ? [...shown, 'other'] : shown;
  const tokenTable = new Map<string, Float64Array>(
    experts.map((name, e) => {
      const row = new Float64Array(cols.length);
      for (const [k, v] of tokenSources[e]!) {
        const at = shown.indexOf(k);
        row[at >= 0 ? at : cols.length - 1]! += v;
      }
      return [name, row];
    }),
  );
  return {
    byCombination: shares(combRows, experts, byComb),
    byTarget: shares(names, experts, byTarget),
    tokensByExpert: shares(experts, cols, tokenTable),
    pools,
    queries,
    splitPools: Object.fromEntries(
      Object.entries(opts.splits ?? {}).map(([name, part]) => [name, model.poolIndex()!.splitCounts(part.length ? toBatch(part).groupIds : [])]),
    ),
  };
}

function matrixMarkdown(m: ShareMatrix, corner: string): string {
  return markdownTable([corner, 'n', ...m.cols], m.rows.map((r, i) => [r, String(m.counts[i]), ...m.values[i]!.map((v) => v.toFixed(2))]));
}

/** The analyses as Markdown (three tables and the fallback counts). */
export function retrieverUsageMarkdown(u: RetrieverUsage): string {
  return [
    `Supporting groups of the ${u.queries} retrievals: exact G(T | mc) ${u.pools.exact}, fallback to samples observing T ${u.pools['observes-target']}, empty (no pool sample observes T) ${u.pools.empty}.`,
    '',
    ...(Object.keys(u.splitPools).length
      ? [
          markdownTable(
            ['split', 'retrievals', 'exact G(T | mc)', 'fallback: observes T', 'empty'],
            Object.entries(u.splitPools).map(([k, c]) => [k, String(c.exact + c['observes-target'] + c.empty), String(c.exact), String(c['observes-target']), String(c.empty)]),
          ),
          '',
        ]
      : []),
    "### Expert-selection ratio per input modality combination (Fig. 3b)",
    '',
    "Rows: the querying sample's observed modalities; share of its retrieval tokens' top-k selections per expert (`<modality>#j` = T's pool, `shared#j`).",
    '',
    matrixMarkdown(u.byCombination, 'observed'),
    '',
    '### Expert-selection ratio per target modality',
    '',
    matrixMarkdown(u.byTarget, 'target'),
    '',
    '### Token-selection ratio per expert (Fig. 3c)',
    '',
    "Rows: experts; columns: the modality combination of the sample each selected token came from (intra-modal tokens: the pool member's; inter-modal: the querying sample's).",
    '',
    matrixMarkdown(u.tokensByExpert, 'expert'),
  ].join('\n');
}

/**
 * SVG heat-maps of the three matrices: file name → SVG. A matrix without rows (no modality was
 * ever retrieved, e.g. data with every modality present) has no plot.
 */
export async function retrieverUsageHeatmaps(u: RetrieverUsage): Promise<[string, string][]> {
  const plots: [string, ShareMatrix, string][] = [
    ['retriever-experts-by-combination.svg', u.byCombination, 'expert-selection ratio per observed modality combination'],
    ['retriever-experts-by-target.svg', u.byTarget, 'expert-selection ratio per target modality'],
    ['retriever-tokens-by-expert.svg', u.tokensByExpert, 'token-selection ratio per expert (token source combination)'],
  ];
  const out: [string, string][] = [];
  for (const [file, m, title] of plots) {
    if (!m.rows.length || !m.cols.length) continue;
    out.push([file, await heatmap(m.values, { rowLabels: m.rows.map((r, i) => `${r} (n=${m.counts[i]})`), colLabels: m.cols, title, domain: [0, 1], legendTitle: 'share' })]);
  }
  return out;
}

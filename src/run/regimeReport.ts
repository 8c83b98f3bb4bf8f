/**
 * The run-report parts of the long-tail training regimes (REMIND): the group weights λ per epoch
 * (group-weights.json + plots/group-weights.svg), written when train.groupWeighting is on.
 */
import { join } from 'node:path';
import { lineChart } from '../eval/plots/lineChart.js';
import { markdownTable } from '../eval/report.js';
import type { RunConfig } from '../config/schema.js';
import type { SeedRun } from './experiment.js';
import type { MetricsJson } from '../eval/aggregate.js';
import { longTailMarkdown } from '../eval/longTail.js';
import { presenceMarkdown } from '../eval/presence.js';
import { writeFileAtomic } from '../io/atomicWrite.js';

/** Metric columns of the regime tables, in report order (those present are shown). */
const METRIC_ORDER = ['auroc', 'auprc', 'f1', 'f1_at_val_threshold', 'accuracy', 'brier'];

/** At most this many groups are drawn in the λ plot (the largest final λ); the JSON has all. */
const MAX_PLOTTED_GROUPS = 12;

/** A section of the run report: plot file names (under plots/) and Markdown lines. */
export interface ReportSection {
  plots: string[];
  lines: string[];
}

/**
 * Writes `group-weights.json` = { type, seeds: { "<seed>" (or "<seed>.member<j>"): [{ epoch,
 * weights: { group: λ } }] } } and a plot of λ over epochs for the first seed; returns the
 * summary section (final weights of the first seed). Empty when no epoch logged weights.
 */
export async function groupWeightsSection(outDir: string, plotsDir: string, cfg: RunConfig, runs: readonly SeedRun[]): Promise<ReportSection> {
  const seeds: Record<string, { epoch: number; weights: Record<string, number> }[]> = {};
  for (const run of runs) {
    run.members.forEach((m, j) => {
      const rows = m.history.filter((h) => h.groupWeights).map((h) => ({ epoch: h.epoch, weights: h.groupWeights! }));
      if (rows.length) seeds[run.members.length > 1 ? `${run.seed}.member${j + 1}` : String(run.seed)] = rows;
    });
  }
  const first = Object.entries(seeds)[0];
  if (!first) return { plots: [], lines: [] };
  writeFileAtomic(join(outDir, 'group-weights.json'), JSON.stringify({ type: cfg.train.groupWeighting.type, seeds }, null, 2) + '\n');
  const [seedKey, rows] = first;
  const last = rows[rows.length - 1]!.weights;
  const ranked = Object.entries(last).sort((a, b) => b[1] - a[1]);
  const plotted = ranked.slice(0, MAX_PLOTTED_GROUPS).map(([g]) => g);
  const series = plotted.map((g) => ({ name: g, x: rows.map((r) => r.epoch), y: rows.map((r) => r.weights[g] ?? NaN) }));
  const plots: string[] = [];
  if (rows.length > 1) {
    const what = cfg.train.groupWeighting.type === 'group-dro' ? 'group-DRO λ' : 'group weight';
    writeFileAtomic(join(plotsDir, 'group-weights.svg'), await lineChart(series, { title: `${what} per epoch (seed ${seedKey}${ranked.length > plotted.length ? `, top ${plotted.length} of ${ranked.length} groups` : ''})`, xLabel: 'epoch', yLabel: 'weight', mark: 'both' }));
    plots.push('group-weights.svg');
  }
  const lines = [
    `## Group weights (train.groupWeighting = ${cfg.train.groupWeighting.type})`,
    '',
    `Weights at the end of training, seed ${seedKey} (every epoch and seed: \`group-weights.json\`).`,
    '',
    markdownTable(['group', 'weight'], ranked.map(([g, w]) => [g, w.toFixed(4)])),
    '',
  ];
  return { plots, lines };
}

/** The head / tail table of a run (metrics.json `longTail`). */
export function longTailSection(metrics: MetricsJson): ReportSection {
  const lt = metrics.longTail;
  if (!lt) return { plots: [], lines: [] };
  const present = new Set(Object.values(lt.test ?? lt.val ?? {}).flatMap((p) => Object.keys(p)));
  return { plots: [], lines: [longTailMarkdown(lt, METRIC_ORDER.filter((m) => present.has(m)))] };
}

/** The available / absent table of the extreme-missingness protocol (metrics.json `extreme`). */
export function extremeSection(metrics: MetricsJson): ReportSection {
  const ex = metrics.extreme;
  if (!ex) return { plots: [], lines: [] };
  const present = new Set(Object.keys(metrics.test ?? metrics.val ?? {}));
  return { plots: [], lines: [presenceMarkdown(ex, metrics, METRIC_ORDER.filter((m) => present.has(m)))] };
}

/**
 * The human-readable side of a run directory: summary.md (data report, metrics overall and per
 * modality-combination group, training history) and SVG plots (learning curves, test ROC,
 * test AUROC per group).
 */
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { join } from 'node:path';
import type { Dataset } from '../data/schema.js';
import { formatReport } from '../data/report.js';
import type { RunConfig } from '../config/schema.js';
import type { MetricsJson, GroupSummary } from '../eval/aggregate.js';
import { metricsReport } from '../eval/report.js';
import { lineChart } from '../eval/plots/lineChart.js';
import { rocCurvePlot } from '../eval/plots/rocCurve.js';
import { barChartWithErrors } from '../eval/plots/barChartWithErrors.js';
import type { SeedRun } from './experiment.js';
import { expertUsageHeatmap, expertUsageMarkdown } from '../analysis/expertUsage.js';
import type { ReportSection } from '../analysis/remindAnalyses.js';
import { extremeSection, groupWeightsSection, longTailSection } from './regimeReport.js';
import { retrieverUsageHeatmaps, retrieverUsageMarkdown } from '../analysis/retrieverUsage.js';

export interface RunReportInput {
  cfg: RunConfig;
  dataset: Dataset;
  external?: Dataset;
  metrics: MetricsJson;
  runs: SeedRun[];
  wallSeconds: number;
  /** REMIND analyses (plots already written into plots/), appended before the data report. */
  analysisSection?: ReportSection | null;
}

/** Write summary.md and plots/*.svg into `outDir`; returns the Markdown. */
export async function writeRunReport(outDir: string, r: RunReportInput): Promise<string> {
  const plotsDir = join(outDir, 'plots');
  mkdirSync(plotsDir, { recursive: true });
  const plots: string[] = [];

  // the metric the training records hold: train.monitor, or a library model's own (xgboost: logloss per round)
  const monitor = r.runs[0]?.members[0]?.monitor ?? r.cfg.train.monitor;
  const curves = r.runs.flatMap((run) =>
    run.members.map((m, j) => ({
      name: run.members.length > 1 ? `seed ${run.seed} member ${j + 1}` : `seed ${run.seed}`,
      x: m.history.map((h) => h.epoch),
      y: m.history.map((h) => h.val[monitor] ?? NaN),
    })),
  );
  if (curves.some((c) => c.x.length > 1)) {
    writeFileAtomic(
      join(plotsDir, 'learning-curves.svg'),
      await lineChart(curves, { title: `validation ${monitor} per epoch`, xLabel: 'epoch', yLabel: monitor, mark: 'both' }),
    );
    plots.push('learning-curves.svg');
  }
  if (r.dataset.spec.task.kind === 'binary') {
    const rocs = r.runs.filter((run) => run.test).map((run) => ({ name: `seed ${run.seed}`, scores: run.test!.probs, labels: run.test!.labels }));
    const hasBoth = rocs.filter((c) => {
      let pos = 0;
      for (const y of c.labels) pos += y;
      return pos > 0 && pos < c.labels.length;
    });
    if (hasBoth.length) {
      writeFileAtomic(join(plotsDir, 'roc-test.svg'), await rocCurvePlot(hasBoth, { title: 'ROC on the test split' }));
      plots.push('roc-test.svg');
    }
  }
  const groupBars = Object.entries(r.metrics.groups.test ?? {})
    .map(([name, g]) => ({ name, g: g as GroupSummary }))
    .filter(({ g }) => typeof g.auroc === 'object' && (g.auroc as { mean: number | null }).mean !== null)
    .sort((a, b) => b.g.n - a.g.n)
    .slice(0, 20)
    .map(({ name, g }) => {
      const m = g.auroc as { mean: number; std: number | null };
      return { label: `${name} (n=${Math.round(g.n)})`, mean: m.mean, std: m.std ?? undefined };
    });
  if (groupBars.length) {
    writeFileAtomic(join(plotsDir, 'test-auroc-by-group.svg'), await barChartWithErrors(groupBars, { title: 'test AUROC per modality combination', yLabel: 'AUROC', yDomain: [0, 1] }));
    plots.push('test-auroc-by-group.svg');
  }

  const usage = r.runs.find((x) => x.usage)?.usage;
  const usageSeed = r.runs.find((x) => x.usage)?.seed;
  if (usage) {
    for (let l = 0; l < usage.shares.length; l++) {
      writeFileAtomic(join(plotsDir, `expert-usage-block${l}.svg`), await expertUsageHeatmap(usage, l));
      plots.push(`expert-usage-block${l}.svg`);
    }
  }

  if (r.analysisSection) plots.push(...r.analysisSection.plots);
  const retrieval = r.runs.find((x) => x.retrieval);
  if (retrieval?.retrieval) {
    for (const [file, svg] of await retrieverUsageHeatmaps(retrieval.retrieval)) {
      writeFileAtomic(join(plotsDir, file), svg);
      plots.push(file);
    }
  }
  const regimeSections = [longTailSection(r.metrics), extremeSection(r.metrics), await groupWeightsSection(outDir, plotsDir, r.cfg, r.runs)];
  plots.push(...regimeSections.flatMap((x) => x.plots));

  const lines: string[] = [];
  lines.push(`# Run ${r.cfg.name}`, '');
  const sp = r.cfg.split;
  const protocol = sp.file
    ? `the split of \`${sp.file}\``
    : sp.seed === 'per-seed'
      ? `a different random ${sp.fractions.join('/')} split per seed (split seed = model seed; seeds/<s>/split.json)`
      : `one ${sp.fractions.join('/')} split (split seed ${sp.seed}) for every seed`;
  lines.push(`Model \`${r.cfg.model.type}\`, seeds ${r.runs.map((x) => x.seed).join(', ')}, ${protocol}, wall time ${r.wallSeconds.toFixed(1)} s.`, '');
  lines.push(metricsReport(r.metrics, { title: 'Metrics (mean ± std over seeds)' }), '');
  lines.push('## Training', '');
  const ensemble = r.runs.some((run) => run.members.length > 1);
  if (ensemble) {
    lines.push(
      `Each seed's model is an ensemble of ${r.cfg.train.ensemble} members (train.ensemble; member seeds derived from the seed) whose probabilities are averaged; one row per member, the metrics above are the ensembles'.`,
      '',
    );
  }
  lines.push('| seed | best epoch | best val ' + monitor + ' | epochs run | early stop | seconds | val threshold |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const run of r.runs) {
    const threshold = run.threshold?.toFixed(3) ?? '—';
    if (run.members.length === 1) {
      const m = run.members[0]!;
      lines.push(`| ${run.seed} | ${m.bestEpoch} | ${m.bestScore.toFixed(4)} | ${m.history.length} | ${m.stoppedEarly ? 'yes' : 'no'} | ${m.seconds.toFixed(1)} | ${threshold} |`);
      continue;
    }
    run.members.forEach((m, j) => {
      lines.push(`| ${run.seed} · member ${j + 1} | ${m.bestEpoch} | ${m.bestScore.toFixed(4)} | ${m.history.length} | ${m.stoppedEarly ? 'yes' : 'no'} | ${m.seconds.toFixed(1)} | |`);
    });
    const ensembleVal = (run.evaluations.val?.overall as unknown as Record<string, number> | undefined)?.[r.cfg.train.monitor];
    const seconds = run.members.reduce((t, m) => t + m.seconds, 0);
    lines.push(`| ${run.seed} · **ensemble** | — | ${ensembleVal !== undefined && Number.isFinite(ensembleVal) ? ensembleVal.toFixed(4) : '—'} | — | — | ${seconds.toFixed(1)} | ${threshold} |`);
  }
  lines.push('');
  if (plots.length) {
    lines.push('## Plots', '');
    for (const p of plots) lines.push(`![${p}](plots/${p})`);
    lines.push('');
  }
  if (usage) {
    lines.push(`## Expert usage (seed ${usageSeed}${ensemble ? ', ensemble member 1' : ''}, ${r.runs[0]!.test ? 'test' : 'validation'} split)`, '');
    lines.push("Gate-weighted share of each modality among each expert's top-k assignments (FuseMoE Fig. 3c); load = the expert's share of all gate weight.", '');
    lines.push(expertUsageMarkdown(usage), '');
  }
  if (r.analysisSection) lines.push(r.analysisSection.markdown, '');
  if (retrieval?.retrieval) {
    lines.push(`## MoE-Retriever routing (seed ${retrieval.seed}, ${r.runs[0]!.test ? 'test' : 'validation'} split)`, '', retrieverUsageMarkdown(retrieval.retrieval), '');
  }
  for (const section of regimeSections) lines.push(...section.lines);
  lines.push('## Data', '', '```', formatReport(r.dataset.report, 'text'), '```', '');
  if (r.external) lines.push('### External data', '', '```', formatReport(r.external.report, 'text'), '```', '');
  const md = lines.join('\n');
  writeFileAtomic(join(outDir, 'summary.md'), md);
  return md;
}

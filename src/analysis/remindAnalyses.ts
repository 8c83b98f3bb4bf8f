/**
 * The REMIND analyses of a run, called by the experiment orchestrator: per seed, the trainer
 * callbacks (residual-switch log, gradient-consistency monitor) and, after training, the
 * top-experts pattern per modality-combination group; at the end, the sibling JSON files of
 * metrics.json (`gradient-consistency.json`, `residual-switch.json`, `top-experts.json`), plots
 * and a Markdown section for summary.md.
 */
import { paramName } from '../engine/params.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../config/schema.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import type { Batch } from '../data/batchTypes.js';
import type { FusionModel } from '../models/model.js';
import { RemindModel } from '../models/remind.js';
import { EnsembleModel } from '../models/ensemble.js';
import type { TaskLossOptions } from '../train/taskLoss.js';
import type { TrainerCallback } from '../train/callbacks.js';
import { seedFor } from '../engine/seed.js';
import { lineChart } from '../eval/plots/lineChart.js';
import { markdownTable } from '../eval/report.js';
import { GradientConsistencyMonitor, type ConsistencyRecord } from './gradientConsistencyMonitor.js';
import { ResidualSwitchLog, type SwitchRecord } from './residualSwitchLog.js';
import { topExpertsHeatmap, topExpertsMarkdown, topExpertsPattern, type TopExpertsPattern } from './topExperts.js';
import { writeFileAtomic } from '../io/atomicWrite.js';

/** What the analyses add to the run report. */
export interface ReportSection {
  /** SVG file names written into `<run>/plots/`. */
  plots: string[];
  markdown: string;
}

export class RemindAnalyses {
  private readonly consistency = new Map<number, GradientConsistencyMonitor>();
  private readonly switches = new Map<number, ResidualSwitchLog>();
  private readonly patterns = new Map<number, TopExpertsPattern>();

  constructor(
    private readonly cfg: RunConfig,
    private readonly spec: DatasetSpec,
    private readonly log: (line: string) => void,
  ) {}

  /** Callbacks for the training of `seed`'s model (the first ensemble member only). */
  callbacks(seed: number, model: FusionModel, train: Sample[], toBatch: (s: Sample[]) => Batch, loss: TaskLossOptions): TrainerCallback[] {
    const out: TrainerCallback[] = [];
    if (model instanceof RemindModel && this.cfg.model.type === 'remind' && this.cfg.model.residualRouting.enabled && !this.switches.has(seed)) {
      const cb = new ResidualSwitchLog(model, this.spec, this.log);
      this.switches.set(seed, cb);
      out.push(cb);
    }
    const gc = this.cfg.analysis.gradientConsistency;
    if (gc.enabled && !this.consistency.has(seed) && !model.variables().some((v) => safeTest(gc.params, paramName(v)))) {
      this.log(`gradient consistency skipped: no variable of this ${model.type} model matches analysis.gradientConsistency.params = ${gc.params}`);
    } else if (gc.enabled && !this.consistency.has(seed)) {
      const cb = new GradientConsistencyMonitor(model, this.spec.task, this.spec, train, toBatch, loss, { ...gc, tailFraction: this.cfg.evaluation.tailThreshold }, seedFor(seed, 'analysis.gradientConsistency'), this.log);
      this.consistency.set(seed, cb);
      out.push(cb);
    }
    return out;
  }

  /** After training: the top-experts pattern of `seed`'s model on `samples` (REMIND models). */
  afterTraining(seed: number, model: FusionModel, samples: Sample[], toBatch: (s: Sample[]) => Batch): void {
    if (model instanceof EnsembleModel) {
      model.withMember(0, (m) => this.afterTraining(seed, m, samples, toBatch));
      return;
    }
    if (!(model instanceof RemindModel)) return;
    const a = this.cfg.analysis.topExperts;
    this.patterns.set(seed, topExpertsPattern(model, this.spec, samples, toBatch, a.k, a.minGroupSize));
  }

  /** Write the JSON files and plots into `outDir`; the report section (null when there is nothing). */
  async write(outDir: string): Promise<ReportSection | null> {
    const plots: string[] = [];
    const md: string[] = [];
    mkdirSync(join(outDir, 'plots'), { recursive: true });
    if (this.consistency.size) {
      const seeds = [...this.consistency.entries()].map(([seed, m]) => ({ seed, records: m.records }));
      writeFileAtomic(
        join(outDir, 'gradient-consistency.json'),
        JSON.stringify({ tailThreshold: this.cfg.evaluation.tailThreshold, params: this.cfg.analysis.gradientConsistency.params, seeds }, null, 2) + '\n',
      );
      const series = seeds.flatMap(({ seed, records }) =>
        (['head', 'tail'] as const).map((kind) => ({ name: `seed ${seed} ${kind}`, x: records.map((r) => r.epoch), y: records.map((r) => (kind === 'head' ? r.headMean : r.tailMean)) })),
      );
      if (seeds.some((s) => s.records.length > 0)) {
        writeFileAtomic(join(outDir, 'plots', 'gradient-consistency.svg'), await lineChart(series, { title: 'gradient consistency GC(g_k) over training (mean over head / tail groups)', xLabel: 'epoch', yLabel: 'GC', mark: 'both' }));
        plots.push('gradient-consistency.svg');
      }
      md.push('## Gradient consistency (REMIND App. 7.1)', '', `Cosine between each group's dominant per-example gradient direction and the whole training set's, for the fusion parameters matching \`${this.cfg.analysis.gradientConsistency.params}\`; tail = groups with < ${(100 * this.cfg.evaluation.tailThreshold).toFixed(0)} % of the training samples (\`evaluation.tailThreshold\`). Values per group: \`gradient-consistency.json\`.`, '');
      md.push(consistencyTable(seeds), '');
    }
    if (this.switches.size) {
      const seeds = [...this.switches.entries()].map(([seed, s]) => ({ seed, records: s.records }));
      writeFileAtomic(join(outDir, 'residual-switch.json'), JSON.stringify({ seeds }, null, 2) + '\n');
      md.push('## Residual routing switch (REMIND eq. 8)', '', 'Share of training samples whose group residual Φ_k was applied, per group (block 0), in the first and the last epoch; every epoch and block: `residual-switch.json`.', '');
      md.push(switchTable(seeds), '');
    }
    if (this.patterns.size) {
      const [seed, pattern] = [...this.patterns.entries()][0]!;
      writeFileAtomic(join(outDir, 'top-experts.json'), JSON.stringify({ seeds: [...this.patterns.entries()].map(([s, p]) => ({ seed: s, ...p })) }, null, 2) + '\n');
      md.push(`## Top experts per modality combination (REMIND Fig. 4; seed ${seed})`, '', `Share of each group's samples whose top-${pattern.k} experts by combine weight include the expert (groups with ≥ ${this.cfg.analysis.topExperts.minGroupSize} samples of the evaluated split).`, '');
      for (let l = 0; l < pattern.blocks.length; l++) {
        if (pattern.blocks[l]!.groups.length === 0) continue;
        const file = `top-experts-block${l}.svg`;
        writeFileAtomic(join(outDir, 'plots', file), await topExpertsHeatmap(pattern, l, `block ${l}: experts in each group's top-${pattern.k}`));
        plots.push(file);
        md.push(`### Block ${l}`, '', topExpertsMarkdown(pattern, l), '');
      }
    }
    return plots.length || md.length ? { plots, markdown: md.join('\n') } : null;
  }
}

/** `pattern` tested on `name`; an invalid pattern counts as matching (the monitor then reports it with the config key). */
function safeTest(pattern: string, name: string): boolean {
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return true;
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : '—';
}

/** epoch × seed table of head / tail means. */
function consistencyTable(seeds: { seed: number; records: ConsistencyRecord[] }[]): string {
  const epochs = [...new Set(seeds.flatMap((s) => s.records.map((r) => r.epoch)))].sort((a, b) => a - b);
  return markdownTable(
    ['epoch', ...seeds.flatMap((s) => [`seed ${s.seed} head`, `seed ${s.seed} tail`])],
    epochs.map((e) => [String(e), ...seeds.flatMap((s) => {
      const r = s.records.find((x) => x.epoch === e);
      return [fmt(r?.headMean ?? NaN), fmt(r?.tailMean ?? NaN)];
    })]),
  );
}

/** group × (first, last epoch) firing rates of the first seed, block 0. */
function switchTable(seeds: { seed: number; records: SwitchRecord[] }[]): string {
  const { seed, records } = seeds[0]!;
  const first = records[0];
  const last = records[records.length - 1];
  if (!first || !last) return '';
  const rate = (r: SwitchRecord, g: string) => {
    const x = r.groups.find((y) => y.block === 0 && y.group === g);
    return x && x.total > 0 ? `${((100 * x.fired) / x.total).toFixed(0)} % of ${x.total}` : '—';
  };
  const groups = last.groups.filter((g) => g.block === 0).sort((a, b) => b.total - a.total).map((g) => g.group);
  return markdownTable(['group', `seed ${seed} epoch ${first.epoch}`, `epoch ${last.epoch}`], groups.map((g) => [g, rate(first, g), rate(last, g)]));
}

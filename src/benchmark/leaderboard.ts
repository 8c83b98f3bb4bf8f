/**
 * The leaderboard: per dataset × protocol, every method's metrics (mean ± std over seeds) overall,
 * per modality-combination group with its n, and head / tail; its rank by the dataset's primary
 * metric; and paired bootstrap intervals (src/benchmark/bootstrap.ts) of its difference to the best
 * method and to the late-fusion baseline, on the same test samples. Built only from the cells' run
 * directories (metrics.json, manifest.json, seeds/<s>/predictions-*.json), so a coordinator that
 * received the run directories from queue workers computes the same leaderboard as a local run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregateSeeds, summarize, validateMetricsJson, type GroupSummary, type MetricsJson, type MetricSummary, type SeedResult } from '../eval/aggregate.js';
import { evaluateByGroup } from '../eval/evaluate.js';
import type { Task } from '../eval/task.js';
import { isCompleteRun } from '../run/runDirectory.js';
import { readPredictionsFile, type PredictionsFile } from '../run/predictionsFile.js';
import { bootstrapReplicates, differenceInterval, metricFn, type DifferenceInterval } from './bootstrap.js';
import { BASELINE_METHOD } from './methods.js';
import { cellDir, type BenchmarkPlan, type CellSpec, type PlanSkip } from './plan.js';

/** Metric name → summary over seeds. */
export type MetricTable = Record<string, MetricSummary>;

/** One method on one dataset × protocol. */
export interface MethodEntry {
  method: string;
  label: string;
  /** Seeds whose cells finished. */
  seeds: number[];
  /** Cells that failed or have not run, with the reason. */
  missing: { cell: string; reason: string }[];
  /** The evaluated part ranked (test split, or the held-out groups' test part) and the external set (PhysioNet set-b). */
  metrics: { test?: MetricTable; external?: MetricTable };
  /** Group → n and metric summaries on the ranked part. */
  groups: Record<string, GroupSummary>;
  /** Head / tail on the ranked part (absent for the unseen-combination protocol). */
  longTail?: { threshold: number; head: MetricTable; tail: MetricTable; tailGroups: string[] };
  /** The primary metric (mean ± std over seeds). */
  primary: MetricSummary | null;
  /** 1 = best by the primary metric's mean; null when the method has no result. */
  rank: number | null;
  /** Paired bootstrap interval of (this − best), null for the best itself or without predictions. */
  vsBest: DifferenceInterval | null;
  /** Paired bootstrap interval of (this − late-fusion baseline). */
  vsBaseline: DifferenceInterval | null;
  /** Mean wall seconds per finished cell (one seed). */
  secondsPerCell: number | null;
}

/** One dataset × protocol table. */
export interface ProtocolBoard {
  dataset: string;
  protocol: string;
  protocolLabel: string;
  /** 'test' or 'heldout-test' (unseen combinations, zero-shot). */
  part: string;
  metric: string;
  /** Samples of the ranked part. */
  n: number | null;
  /** Group → samples of the ranked part (from any finished cell). */
  groupN: Record<string, number>;
  best: string | null;
  /** Why intervals are absent, when they are. */
  intervalNote?: string;
  methods: MethodEntry[];
}

export interface Leaderboard {
  suite: string;
  createdAt: string;
  seeds: number[];
  bootstrap: { reps: number; seed: number; level: number };
  datasets: { id: string; label: string; metric: string }[];
  skipped: PlanSkip[];
  /** Cells: finished / failed / not run. */
  cells: { total: number; finished: number; failed: { cell: string; reason: string }[] };
  /** Sum of the finished cells' wall seconds (from their manifests). */
  cellSeconds: number;
  boards: ProtocolBoard[];
}

export interface LeaderboardOptions {
  reps: number;
  /** Seed of the bootstrap resampling. */
  seed: number;
  level?: number;
  /** Cell id → failure reason recorded by the runner. */
  failures?: Record<string, string>;
  /** Fixed timestamp (tests). */
  createdAt?: string;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A single-seed run's metrics.json as the per-seed input of aggregateSeeds. */
function seedResultOf(m: MetricsJson): SeedResult {
  const value = (s: MetricSummary | number | undefined) => (typeof s === 'number' ? s : s?.mean ?? NaN);
  const splits: SeedResult['splits'] = {};
  const groups: NonNullable<SeedResult['groups']> = {};
  for (const split of ['test', 'external'] as const) {
    const t = m[split];
    if (t) splits[split] = Object.fromEntries(Object.entries(t).map(([k, s]) => [k, value(s)]));
    const g = m.groups[split];
    if (g) groups[split] = Object.fromEntries(Object.entries(g).map(([name, gs]) => [name, Object.fromEntries(Object.entries(gs).filter(([k]) => k !== 'n_seeds').map(([k, s]) => [k, value(s as MetricSummary | number)]))]));
  }
  return { splits, groups };
}

/** Task of a predictions file, for the metrics. */
function taskOf(p: PredictionsFile): Task {
  if (p.task === 'binary') return { kind: 'binary' };
  if (p.task === 'multiclass') return { kind: 'multiclass', numClasses: p.width };
  return { kind: 'multilabel', numLabels: p.width };
}

/** A finished cell: its metrics (the ranked part), predictions of that part, and wall seconds. */
interface FinishedCell {
  cell: CellSpec;
  seed: SeedResult;
  longTail?: MetricsJson['longTail'];
  predictions: PredictionsFile | null;
  seconds: number | null;
}

function readCell(outDir: string, cell: CellSpec): FinishedCell | string {
  const dir = cellDir(outDir, cell.id);
  if (!isCompleteRun(dir)) return existsSync(dir) ? 'interrupted (resume the benchmark)' : 'not run';
  const metrics = validateMetricsJson(readJson(join(dir, 'metrics.json')), join(dir, 'metrics.json'));
  const manifest = readJson(join(dir, 'manifest.json')) as { wallSeconds?: number };
  let predictions: PredictionsFile | null = null;
  try {
    predictions = readPredictionsFile(dir, cell.seed, cell.part);
  } catch {
    predictions = null;
  }
  let seed = seedResultOf(metrics);
  if (cell.part === 'heldout-test') {
    // unseen combinations: the ranked metrics are those of the zero-shot held-out predictions
    if (!predictions) return `no predictions-heldout-test.json in ${dir}`;
    const grouped = evaluateByGroup(taskOf(predictions), Float32Array.from(predictions.probs), Float32Array.from(predictions.labels), predictions.groups);
    seed = { splits: { test: grouped.overall, external: seed.splits.external }, groups: { test: grouped.groups } };
  }
  return { cell, seed, longTail: cell.part === 'test' ? metrics.longTail : undefined, predictions, seconds: typeof manifest.wallSeconds === 'number' ? manifest.wallSeconds : null };
}

/** Summaries over seeds of the head / tail tables of single-seed runs. */
function longTailOf(cells: FinishedCell[]): MethodEntry['longTail'] {
  const lts = cells.map((c) => c.longTail).filter((l): l is NonNullable<MetricsJson['longTail']> => !!l?.test);
  if (!lts.length) return undefined;
  const part = (which: 'head' | 'tail'): MetricTable => {
    const keys = [...new Set(lts.flatMap((l) => Object.keys(l.test![which])))];
    return Object.fromEntries(keys.map((k) => [k, summarize(lts.map((l) => l.test![which][k]?.mean ?? null))]));
  };
  return { threshold: lts[0]!.threshold, head: part('head'), tail: part('tail'), tailGroups: [...new Set(lts.flatMap((l) => l.tailGroups))].sort() };
}

/** Build the leaderboard of `plan` from the cells' run directories under `outDir`. */
export function buildLeaderboard(plan: BenchmarkPlan, outDir: string, opts: LeaderboardOptions): Leaderboard {
  const level = opts.level ?? 0.95;
  const boards: ProtocolBoard[] = [];
  const failed: { cell: string; reason: string }[] = [];
  let finishedCount = 0;
  let cellSeconds = 0;
  for (const d of plan.datasets) {
    for (const p of plan.protocols[d.id] ?? []) {
      const entries: MethodEntry[] = [];
      const finishedByMethod: FinishedCell[][] = [];
      for (const m of plan.methods) {
        const cells = plan.cells.filter((c) => c.dataset === d.id && c.protocol === p.id && c.method === m.id);
        const finished: FinishedCell[] = [];
        const missing: MethodEntry['missing'] = [];
        for (const c of cells) {
          const r = readCell(outDir, c);
          if (typeof r === 'string') {
            const reason = c.invalid ?? opts.failures?.[c.id] ?? r;
            missing.push({ cell: c.id, reason });
            if (c.invalid || opts.failures?.[c.id]) failed.push({ cell: c.id, reason });
          } else finished.push(r);
        }
        finishedCount += finished.length;
        const secs = finished.map((f) => f.seconds).filter((s): s is number => s !== null);
        cellSeconds += secs.reduce((a, b) => a + b, 0);
        let metrics: MethodEntry['metrics'] = {};
        let groups: Record<string, GroupSummary> = {};
        if (finished.length) {
          const agg = aggregateSeeds(finished.map((f) => f.seed));
          metrics = { ...(agg.test ? { test: agg.test } : {}), ...(agg.external ? { external: agg.external } : {}) };
          groups = agg.groups.test ?? {};
        }
        const primary = metrics.test?.[d.primaryMetric] ?? null;
        entries.push({
          method: m.id,
          label: m.label,
          seeds: finished.map((f) => f.cell.seed),
          missing,
          metrics,
          groups,
          ...(finished.length ? { longTail: longTailOf(finished) } : {}),
          primary,
          rank: null,
          vsBest: null,
          vsBaseline: null,
          secondsPerCell: secs.length ? secs.reduce((a, b) => a + b, 0) / secs.length : null,
        });
        finishedByMethod.push(finished);
      }
      // rank by the primary metric's mean (higher is better)
      const ranked = entries.map((e, i) => ({ e, i })).filter((x) => x.e.primary?.mean != null).sort((a, b) => b.e.primary!.mean! - a.e.primary!.mean!);
      ranked.forEach((x, r) => (x.e.rank = r + 1));
      const best = ranked[0]?.e.method ?? null;
      const board: ProtocolBoard = { dataset: d.id, protocol: p.id, protocolLabel: p.label, part: p.part, metric: d.primaryMetric, n: null, groupN: {}, best, methods: entries };
      for (const e of entries) for (const [g, s] of Object.entries(e.groups)) board.groupN[g] ??= s.n;
      const nSummary = entries.find((e) => e.metrics.test?.n)?.metrics.test?.n;
      board.n = nSummary?.mean ?? null;
      attachIntervals(board, finishedByMethod, opts.reps, opts.seed, level);
      boards.push(board);
    }
  }
  return {
    suite: plan.suite,
    createdAt: opts.createdAt ?? new Date().toISOString(),
    seeds: plan.seeds,
    bootstrap: { reps: opts.reps, seed: opts.seed, level },
    datasets: plan.datasets.map((d) => ({ id: d.id, label: d.label, metric: d.primaryMetric })),
    skipped: plan.skipped,
    cells: { total: plan.cells.length, finished: finishedCount, failed },
    cellSeconds,
    boards,
  };
}

/** Paired bootstrap intervals of every ranked method against the best and the baseline. */
function attachIntervals(board: ProtocolBoard, finished: FinishedCell[][], reps: number, seed: number, level: number): void {
  const withPreds = board.methods.map((e, k) => ({ e, k, preds: finished[k]!.map((f) => f.predictions).filter((p): p is PredictionsFile => !!p) })).filter((x) => x.e.rank !== null && x.preds.length > 0);
  if (withPreds.length < 2) {
    board.intervalNote = 'fewer than two methods with per-sample predictions: no intervals';
    return;
  }
  const ref = withPreds[0]!.preds[0]!;
  const order = new Map(ref.ids.map((id, i) => [id, i] as const));
  const aligned: Float32Array[][] = [];
  for (const x of withPreds) {
    const perSeed: Float32Array[] = [];
    for (const p of x.preds) {
      if (p.ids.length !== ref.ids.length || p.width !== ref.width || p.ids.some((id) => !order.has(id))) {
        board.intervalNote = `method ${x.e.method} was evaluated on other test samples than ${withPreds[0]!.e.method}: no intervals`;
        return;
      }
      const out = new Float32Array(p.probs.length);
      p.ids.forEach((id, i) => {
        const j = order.get(id)!;
        for (let c = 0; c < p.width; c++) out[j * p.width + c] = p.probs[i * p.width + c]!;
      });
      perSeed.push(out);
    }
    aligned.push(perSeed);
  }
  const labelWidth = ref.task === 'multilabel' ? ref.width : 1;
  const metric = metricFn(board.metric as 'auroc' | 'accuracy', { kind: ref.task, width: ref.width });
  const r = bootstrapReplicates(aligned, Float32Array.from(ref.labels), { width: ref.width, labelWidth, metric, reps, seed });
  const bestK = withPreds.findIndex((x) => x.e.method === board.best);
  const baseK = withPreds.findIndex((x) => x.e.method === BASELINE_METHOD);
  withPreds.forEach((x, k) => {
    if (bestK >= 0 && k !== bestK) x.e.vsBest = differenceInterval(r, k, bestK, board.best!, level);
    if (baseK >= 0 && k !== baseK) x.e.vsBaseline = differenceInterval(r, k, baseK, BASELINE_METHOD, level);
  });
}

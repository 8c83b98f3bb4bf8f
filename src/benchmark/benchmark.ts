/**
 * The benchmark as a library call: plan the cells of a suite, run them (local child processes or
 * a BullMQ queue), and write DIR/leaderboard.json, leaderboard.md and leaderboard.html.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlexiModalError } from '../errors.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { datasetRegistry, resolveDataDir } from './datasets.js';
import { methodRegistry, selectMethods } from './methods.js';
import { parseProtocolFamilies } from './protocols.js';
import { suiteOf, type SuiteDef } from './suites.js';
import { planBenchmark, selectCells, type BenchmarkPlan } from './plan.js';
import { runCellsLocally, workerPlan } from './localRunner.js';
import type { CellResult } from './cellRun.js';
import { buildLeaderboard, type Leaderboard } from './leaderboard.js';
import { leaderboardMarkdown } from './leaderboardMarkdown.js';
import { leaderboardHtml } from './leaderboardHtml.js';

/** The repository root (for configs/ and the default data directory). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export interface BenchmarkOptions {
  suite?: string;
  datasets?: string[];
  methods?: string[];
  protocols?: string[];
  seeds?: number[];
  out: string;
  /** 'auto' or a number (local runner). */
  workers?: string;
  /** redis://host:port: run the cells on queue workers. */
  queue?: string;
  /** Rerun one cell (or every cell under a prefix). */
  only?: string;
  /** Run nothing: tabulate the cells finished so far (e.g. of a benchmark still running elsewhere). */
  tabulateOnly?: boolean;
  dataDir?: string;
  mimicDir?: string;
  /** Override the suite's epochs (tests, smoke runs). */
  epochs?: number;
  /** Override the suite's synthetic sample count. */
  syntheticN?: number;
  bootstrapReps?: number;
  bootstrapSeed?: number;
  log?: (line: string) => void;
  /** Fixed leaderboard timestamp (tests). */
  createdAt?: string;
}

/** The plan of a benchmark invocation (no training). */
export function benchmarkPlan(o: BenchmarkOptions, threads = 1): { plan: BenchmarkPlan; suite: SuiteDef } {
  const base = suiteOf(o.suite ?? 'quick');
  const suite: SuiteDef = { ...base, ...(o.epochs ? { epochs: o.epochs } : {}), ...(o.syntheticN ? { syntheticN: o.syntheticN } : {}), ...(o.bootstrapReps ? { bootstrapReps: o.bootstrapReps } : {}) };
  const allDatasets = datasetRegistry(resolveDataDir(o.dataDir, REPO_ROOT), { syntheticN: suite.syntheticN }, o.mimicDir);
  const datasetIds = o.datasets ?? suite.datasets;
  for (const id of datasetIds) {
    if (!allDatasets.some((d) => d.id === id)) throw new FlexiModalError(`unknown dataset '${id}'`, { where: '--datasets', hint: `choose from ${allDatasets.map((d) => d.id).join(', ')}` });
  }
  const methods = selectMethods(methodRegistry(join(REPO_ROOT, 'configs')), o.methods ?? (suite.methods === 'all' ? undefined : suite.methods));
  const plan = planBenchmark({
    suite,
    datasets: datasetIds.map((id) => allDatasets.find((d) => d.id === id)!),
    protocolFamilies: (dataset) => parseProtocolFamilies(o.protocols ?? suite.protocolsByDataset?.[dataset] ?? suite.protocols, '--protocols'),
    methods,
    seeds: o.seeds ?? suite.seeds,
    threads,
  });
  return { plan, suite };
}

/** DIR must be empty, absent, or a benchmark directory written before (holding benchmark.json). */
function checkOutDir(outDir: string): void {
  if (!existsSync(outDir)) return;
  const entries = readdirSync(outDir);
  if (entries.length && !entries.includes('benchmark.json')) {
    throw new FlexiModalError(`not a benchmark directory (no benchmark.json; it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''})`, {
      where: `--out ${outDir}`,
      hint: 'choose a new or empty --out directory (an earlier benchmark directory is resumed)',
    });
  }
}

/** Write the three leaderboard files. */
export function writeLeaderboard(outDir: string, lb: Leaderboard): void {
  writeFileAtomic(join(outDir, 'leaderboard.json'), JSON.stringify(lb, null, 2) + '\n');
  writeFileAtomic(join(outDir, 'leaderboard.md'), leaderboardMarkdown(lb));
  writeFileAtomic(join(outDir, 'leaderboard.html'), leaderboardHtml(lb));
}

/** Plan, run and tabulate a benchmark; returns the leaderboard and the cells' results. */
export async function runBenchmark(o: BenchmarkOptions): Promise<{ leaderboard: Leaderboard; results: CellResult[]; wallSeconds: number; workers: number; threads: number }> {
  const started = Date.now();
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const outDir = resolve(o.out);
  checkOutDir(outDir);
  const probe = benchmarkPlan(o).plan;
  const sized = o.queue ? { workers: 0, threads: 1 } : workerPlan(o.workers ?? 'auto', probe.cells.filter((c) => !c.invalid).length);
  const { plan, suite } = benchmarkPlan(o, sized.threads);
  for (const s of plan.skipped) log(`skipped ${s.what}: ${s.reason}`);
  const invalid = plan.cells.filter((c) => c.invalid);
  if (invalid.length) log(`${invalid.length} cell(s) cannot run in this build: ${invalid[0]!.invalid}`);
  mkdirSync(outDir, { recursive: true });
  writeFileAtomic(
    join(outDir, 'benchmark.json'),
    JSON.stringify({ suite: suite.id, seeds: plan.seeds, datasets: plan.datasets.map((d) => d.id), protocols: plan.protocols, methods: plan.methods.map((m) => m.id), epochs: suite.epochs, cells: plan.cells.map((c) => c.id), skipped: plan.skipped }, null, 2) + '\n',
  );
  // seed-major order: every dataset × protocol × method gets its first seed before any gets a second,
  // so an interrupted benchmark already has complete tables (with fewer seeds)
  const bySeed = plan.cells.map((c, i) => ({ c, i })).sort((a, b) => plan.seeds.indexOf(a.c.seed) - plan.seeds.indexOf(b.c.seed) || a.i - b.i).map((x) => x.c);
  const todo = o.tabulateOnly ? [] : o.only ? selectCells(bySeed, o.only) : bySeed;
  const rerun = new Set(o.only ? todo.map((c) => c.id) : []);
  if (o.tabulateOnly) log('--tabulate: running no cell, tabulating the finished ones');
  log(`benchmark ${suite.id}: ${plan.cells.length} cells (${plan.datasets.length} datasets × protocols × ${plan.methods.length} methods × ${plan.seeds.length} seeds)${o.only ? `; rerunning ${todo.length} (--only ${o.only})` : ''}; ${o.queue ? `queue ${o.queue}` : `${sized.workers} worker(s) × ${sized.threads} thread(s)`}`);
  const onResult = (r: CellResult, done: number, total: number) => log(`[${done}/${total}] ${r.id}: ${r.status}${r.status === 'done' ? ` (${r.seconds.toFixed(0)} s)` : ''}${r.error ? ` — ${r.error}` : ''}`);
  let results: CellResult[];
  if (o.queue) {
    const { runCellsOnQueue } = await import('./queue.js');
    results = await runCellsOnQueue(todo, outDir, { url: o.queue, rerun, onResult, log });
  } else {
    results = await runCellsLocally(todo, outDir, { workers: sized.workers, rerun, onResult });
  }
  const failures = Object.fromEntries(results.filter((r) => r.status === 'failed').map((r) => [r.id, r.error ?? 'failed']));
  const leaderboard = buildLeaderboard(plan, outDir, { reps: suite.bootstrapReps, seed: o.bootstrapSeed ?? 0, failures, createdAt: o.createdAt });
  writeLeaderboard(outDir, leaderboard);
  const wallSeconds = (Date.now() - started) / 1000;
  log(`wrote ${join(outDir, 'leaderboard.json')}, leaderboard.md and leaderboard.html (${leaderboard.cells.finished}/${leaderboard.cells.total} cells finished; ${wallSeconds.toFixed(0)} s wall)`);
  return { leaderboard, results, wallSeconds, workers: sized.workers, threads: sized.threads };
}

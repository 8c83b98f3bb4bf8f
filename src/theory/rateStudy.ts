/**
 * Empirical convergence-rate study (seed 002 App. D; FuseMoE §4 analogue): for each sample size n
 * (log-spaced between nMin and nMax) run `reps` independent fits, average the Voronoi loss, and
 * regress log(mean loss) on log n. Units (n, rep) are seeded from the base seed alone, so the
 * result is the same for any number of workers. Each finished size is cached as
 * `<outDir>/cache/size-<n>.json`, so an interrupted study resumes where it stopped.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FlexiModalError } from '../errors.js';
import { olsSlope } from './linalg.js';
import { runUnit, type StudyConfig, type UnitResult } from './rateUnit.js';

/** Per-size summary. */
export interface SizeSummary {
  n: number;
  meanLoss: number;
  /** Median of the units' losses (robust to the few runaway fits that can dominate the mean). */
  medianLoss: number;
  sdLoss: number;
  /** Mean and median E_X total-variation distance fitted vs true law (NaN when the units do not report it). */
  meanTv: number;
  medianTv: number;
  /** Bounded MLE: fits that end with a parameter on the bound (absent for EM). */
  onBoundCount?: number;
  meanIterations: number;
  convergedFraction: number;
  /** Seconds of compute summed over the units of this size. */
  cpuSeconds: number;
  /** Means of the units' extra losses (parts of D_r, gating-only loss, …) when present. */
  meanExtra?: Record<string, number>;
  units: UnitResult[];
}

/** OLS of log(y) on log n. */
export interface LogLogFit {
  slope: number;
  slopeStderr: number;
  intercept: number;
  r2: number;
}

/** Result of a study (`result.json`). */
export interface StudyResult {
  /** Slope of log mean loss on log n (the paper's statistic; = slopes.mean.slope). */
  slope: number;
  slopeStderr: number;
  intercept: number;
  r2: number;
  sizes: number[];
  meanLoss: number[];
  medianLoss: number[];
  meanTv: number[];
  medianTv: number[];
  /** Log-log fits of the mean and median loss and of the mean and median E_X TV distance on n. */
  slopes: { mean: LogLogFit; median: LogLogFit; tvMean: LogLogFit; tvMedian: LogLogFit };
  config: StudyConfig & { sizes: number[]; reps: number };
  perSize: Omit<SizeSummary, 'units'>[];
  wallSeconds: number;
  workers: number;
  /** Sizes taken from the cache instead of being computed. */
  cachedSizes: number[];
}

/** Options of {@link runRateStudy}. */
export interface StudyOptions {
  sizes: number[];
  reps: number;
  /** 0 or 1 runs in this thread; ≥ 2 uses a worker_threads pool. */
  workers: number;
  /** Cache directory root (the study writes `<outDir>/cache/size-<n>.json`). */
  outDir?: string;
  /** Called after every finished unit. */
  onProgress?: (done: number, total: number, last: UnitResult | null) => void;
}

/** `count` sample sizes log-spaced from nMin to nMax (rounded, distinct, increasing). */
export function logSpacedSizes(nMin: number, nMax: number, count: number): number[] {
  if (!(nMin >= 2 && nMax >= nMin && count >= 1)) {
    throw new FlexiModalError(`bad size range n-min=${nMin}, n-max=${nMax}, sizes=${count}`, { where: '--n-min/--n-max/--sizes', hint: 'need 2 ≤ n-min ≤ n-max and sizes ≥ 1' });
  }
  if (count === 1) return [Math.round(nMax)];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.round(Math.exp(Math.log(nMin) + ((Math.log(nMax) - Math.log(nMin)) * i) / (count - 1)));
    if (out.length === 0 || n > out[out.length - 1]!) out.push(n);
  }
  return out;
}

/** `count` sample sizes evenly (linearly) spaced from nMin to nMax, rounded, as `np.linspace` in the authors' code. */
export function linearSpacedSizes(nMin: number, nMax: number, count: number): number[] {
  if (!(nMin >= 2 && nMax >= nMin && count >= 1)) {
    throw new FlexiModalError(`bad size range n-min=${nMin}, n-max=${nMax}, sizes=${count}`, { where: '--n-min/--n-max/--sizes', hint: 'need 2 ≤ n-min ≤ n-max and sizes ≥ 1' });
  }
  if (count === 1) return [Math.round(nMax)];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.round(nMin + ((nMax - nMin) * i) / (count - 1));
    if (out.length === 0 || n > out[out.length - 1]!) out.push(n);
  }
  return out;
}

function configKey(cfg: StudyConfig): string {
  const sorted = Object.fromEntries(Object.entries(cfg).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify(sorted);
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

function summarize(n: number, units: UnitResult[]): SizeSummary {
  const losses = units.map((u) => u.loss);
  const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
  const sd = Math.sqrt(losses.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, losses.length - 1));
  const tvs = units.map((u) => u.tv ?? NaN);
  return {
    n,
    meanLoss: mean,
    medianLoss: median(losses),
    sdLoss: sd,
    meanTv: tvs.reduce((a, b) => a + b, 0) / tvs.length,
    medianTv: median(tvs),
    ...(units.some((u) => u.onBound !== undefined) ? { onBoundCount: units.filter((u) => u.onBound).length } : {}),
    meanIterations: units.reduce((a, u) => a + u.iterations, 0) / units.length,
    convergedFraction: units.filter((u) => u.converged).length / units.length,
    cpuSeconds: units.reduce((a, u) => a + u.ms, 0) / 1000,
    ...(units.every((u) => u.extra) && units.length > 0
      ? { meanExtra: Object.fromEntries(Object.keys(units[0]!.extra!).map((key) => [key, units.reduce((a, u) => a + (u.extra![key] ?? NaN), 0) / units.length])) }
      : {}),
    units,
  };
}

function cachePath(outDir: string, n: number): string {
  return join(outDir, 'cache', `size-${n}.json`);
}

function readCache(outDir: string, n: number, key: string, reps: number): UnitResult[] | null {
  const p = cachePath(outDir, n);
  if (!existsSync(p)) return null;
  try {
    const c = JSON.parse(readFileSync(p, 'utf8')) as { key: string; units: UnitResult[] };
    if (c.key !== key) return null;
    const units = c.units.filter((u) => u.rep < reps).sort((a, b) => a.rep - b.rep);
    return units.length === reps ? units : null;
  } catch {
    return null;
  }
}

function writeCache(outDir: string, n: number, key: string, units: UnitResult[]): void {
  mkdirSync(join(outDir, 'cache'), { recursive: true });
  const p = cachePath(outDir, n);
  writeFileAtomic(p, JSON.stringify({ key, n, units }));
}

/** Run (or resume) a rate study. */
export async function runRateStudy(cfg: StudyConfig, opts: StudyOptions): Promise<StudyResult> {
  const t0 = performance.now();
  const key = configKey(cfg);
  const { sizes, reps } = opts;
  if (!(reps >= 1)) throw new FlexiModalError(`reps = ${reps}`, { where: '--reps', hint: 'use at least 1 replication' });
  const bySize = new Map<number, UnitResult[]>();
  const cachedSizes: number[] = [];
  const tasks: { n: number; rep: number }[] = [];
  for (const n of sizes) {
    const cached = opts.outDir ? readCache(opts.outDir, n, key, reps) : null;
    if (cached) {
      bySize.set(n, cached);
      cachedSizes.push(n);
    } else {
      bySize.set(n, []);
      for (let rep = 0; rep < reps; rep++) tasks.push({ n, rep });
    }
  }
  const total = sizes.length * reps;
  let done = total - tasks.length;
  opts.onProgress?.(done, total, null);
  const onResult = (res: UnitResult): void => {
    const list = bySize.get(res.n)!;
    list.push(res);
    done++;
    if (list.length === reps && opts.outDir) writeCache(opts.outDir, res.n, key, [...list].sort((a, b) => a.rep - b.rep));
    opts.onProgress?.(done, total, res);
  };
  // largest sizes first: better load balance at the end
  tasks.sort((a, b) => b.n - a.n || a.rep - b.rep);
  if (opts.workers <= 1) {
    for (const t of tasks) onResult(runUnit(cfg, t.n, t.rep));
  } else {
    await runPool(cfg, tasks, opts.workers, onResult);
  }
  const summaries = sizes.map((n) => summarize(n, [...bySize.get(n)!].sort((a, b) => a.rep - b.rep)));
  const logN = summaries.map((s) => Math.log(s.n));
  const fitOf = (ys: number[]): LogLogFit => olsSlope(logN, ys.map((y) => Math.log(y)));
  const fit = fitOf(summaries.map((s) => s.meanLoss));
  return {
    slope: fit.slope,
    slopeStderr: fit.slopeStderr,
    intercept: fit.intercept,
    r2: fit.r2,
    sizes: summaries.map((s) => s.n),
    meanLoss: summaries.map((s) => s.meanLoss),
    medianLoss: summaries.map((s) => s.medianLoss),
    meanTv: summaries.map((s) => s.meanTv),
    medianTv: summaries.map((s) => s.medianTv),
    slopes: {
      mean: fit,
      median: fitOf(summaries.map((s) => s.medianLoss)),
      tvMean: fitOf(summaries.map((s) => s.meanTv)),
      tvMedian: fitOf(summaries.map((s) => s.medianTv)),
    },
    config: { ...cfg, sizes, reps },
    perSize: summaries.map(({ units: _u, ...rest }) => rest),
    wallSeconds: (performance.now() - t0) / 1000,
    workers: Math.max(1, opts.workers),
    cachedSizes,
  };
}

function runPool(cfg: StudyConfig, tasks: { n: number; rep: number }[], workers: number, onResult: (r: UnitResult) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const url = new URL('./rateWorker.js', import.meta.url);
    const pool: Worker[] = [];
    let next = 0;
    let active = 0;
    let failed = false;
    const finish = (err?: Error): void => {
      for (const w of pool) void w.terminate();
      if (err) reject(err);
      else resolve();
    };
    const feed = (w: Worker): void => {
      if (failed) return;
      if (next >= tasks.length) {
        if (active === 0) finish();
        return;
      }
      const t = tasks[next]!;
      w.postMessage({ id: next, cfg, n: t.n, rep: t.rep });
      next++;
      active++;
    };
    const count = Math.min(workers, Math.max(1, tasks.length));
    if (tasks.length === 0) {
      resolve();
      return;
    }
    for (let i = 0; i < count; i++) {
      const w = new Worker(url);
      pool.push(w);
      w.on('message', (msg: { ok: boolean; res?: UnitResult; error?: string }) => {
        active--;
        if (!msg.ok) {
          failed = true;
          finish(new FlexiModalError(`a study unit failed: ${msg.error}`, { where: 'rate study worker' }));
          return;
        }
        onResult(msg.res!);
        feed(w);
      });
      w.on('error', (e) => {
        failed = true;
        finish(e);
      });
    }
    for (const w of pool) feed(w);
  });
}

/** A plain-text table of a study result. */
export function formatStudyTable(res: StudyResult, lossName = 'D2'): string {
  const hasTv = res.perSize.some((s) => Number.isFinite(s.meanTv));
  const hasBound = res.perSize.some((s) => s.onBoundCount !== undefined);
  const reps = res.config.reps;
  const head = [
    'n'.padStart(8),
    ('mean ' + lossName).padStart(12),
    ('median ' + lossName).padStart(12),
    'sd'.padStart(10),
    ...(hasTv ? ['mean TV'.padStart(10), 'median TV'.padStart(10)] : []),
    'iters'.padStart(7),
    'conv'.padStart(5),
    ...(hasBound ? ['on bound'.padStart(9)] : []),
    'cpu s'.padStart(7),
  ];
  const lines = [head.join('  ')];
  for (const s of res.perSize) {
    const row = [
      String(s.n).padStart(8),
      s.meanLoss.toPrecision(5).padStart(12),
      s.medianLoss.toPrecision(5).padStart(12),
      s.sdLoss.toPrecision(4).padStart(10),
      ...(hasTv ? [s.meanTv.toPrecision(4).padStart(10), s.medianTv.toPrecision(4).padStart(10)] : []),
      s.meanIterations.toFixed(1).padStart(7),
      s.convergedFraction.toFixed(2).padStart(5),
      ...(hasBound ? [`${s.onBoundCount ?? 0}/${reps}`.padStart(9)] : []),
      s.cpuSeconds.toFixed(1).padStart(7),
    ];
    lines.push(row.join('  '));
  }
  const fmt = (f: LogLogFit): string => `${f.slope.toFixed(4)} ± ${f.slopeStderr.toFixed(4)} (R² ${f.r2.toFixed(3)})`;
  lines.push(`slope of log mean ${lossName} on log n: ${fmt(res.slopes.mean)}; wall ${res.wallSeconds.toFixed(1)} s on ${res.workers} worker(s)`);
  lines.push(`slope of log median ${lossName} on log n: ${fmt(res.slopes.median)}`);
  if (hasTv) lines.push(`slope of log mean E_X TV on log n: ${fmt(res.slopes.tvMean)}; of the median: ${fmt(res.slopes.tvMedian)}`);
  return lines.join('\n');
}

/**
 * Gradient consistency of several runs in one plot (REMIND Fig. 3: e.g. Soft MoE vs REMIND, head
 * vs tail groups): reads each run's `gradient-consistency.json` and draws, per run, the mean over
 * seeds of the head-group and tail-group mean GC at every sampled epoch.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, type Series } from '../eval/plots/lineChart.js';
import type { ConsistencyRecord } from './gradientConsistencyMonitor.js';
import { writeFileAtomic } from '../io/atomicWrite.js';

/** Per epoch, the mean over seeds of head and tail GC (seeds without a finite value are skipped). */
export function meanConsistencyOverSeeds(seeds: { records: ConsistencyRecord[] }[]): { epoch: number; head: number; tail: number }[] {
  const epochs = [...new Set(seeds.flatMap((s) => s.records.map((r) => r.epoch)))].sort((a, b) => a - b);
  const avg = (xs: number[]) => {
    const f = xs.filter(Number.isFinite);
    return f.length ? f.reduce((a, x) => a + x, 0) / f.length : NaN;
  };
  return epochs.map((epoch) => {
    const at = seeds.map((s) => s.records.find((r) => r.epoch === epoch)).filter((r): r is ConsistencyRecord => r !== undefined);
    return { epoch, head: avg(at.map((r) => r.headMean)), tail: avg(at.map((r) => r.tailMean)) };
  });
}

/**
 * Write `<outDir>/compare-gradient-consistency.svg` for the runs that have a
 * `gradient-consistency.json`; returns the file name, or null when none has.
 */
export async function writeConsistencyComparison(outDir: string, runs: { name: string; dir: string }[]): Promise<string | null> {
  const series: Series[] = [];
  for (const r of runs) {
    const path = join(r.dir, 'gradient-consistency.json');
    if (!existsSync(path)) continue;
    const json = JSON.parse(readFileSync(path, 'utf8')) as { seeds: { records: ConsistencyRecord[] }[] };
    const m = meanConsistencyOverSeeds(json.seeds);
    series.push({ name: `${r.name} head`, x: m.map((p) => p.epoch), y: m.map((p) => p.head) });
    series.push({ name: `${r.name} tail`, x: m.map((p) => p.epoch), y: m.map((p) => p.tail) });
  }
  if (!series.length) return null;
  const file = 'compare-gradient-consistency.svg';
  writeFileAtomic(join(outDir, file), await lineChart(series, { title: 'gradient consistency over training (mean over seeds of the head / tail group means)', xLabel: 'epoch', yLabel: 'GC', mark: 'both' }));
  return file;
}

/**
 * The local runner: cells run in N child processes (src/benchmark/cellChild.ts), each taking the
 * next pending cell. `--workers auto` = the free cores (cores − 1-minute load, at least 1), and
 * every cell's engine.threads = ⌊free cores / workers⌋ (at least 1), so workers × threads ≤ cores.
 */
import { join } from 'node:path';
import { coreCount, freeCores } from '../engine/autoThreads.js';
import { FlexiModalError } from '../errors.js';
import { isCompleteRun } from '../run/runDirectory.js';
import { CellChild } from './cellChild.js';
import { onProcessExit } from '../io/exitHooks.js';
import type { CellResult } from './cellRun.js';
import { cellDir, type CellSpec } from './plan.js';

/** Workers and threads per worker for `--workers auto|N` and `cells` cells. */
export function workerPlan(setting: string, cells: number, cores = coreCount(), free = freeCores()): { workers: number; threads: number } {
  let workers: number;
  if (setting === 'auto') workers = free;
  else {
    workers = Number(setting);
    if (!Number.isInteger(workers) || workers < 1) throw new FlexiModalError(`--workers must be 'auto' or a positive integer, got '${setting}'`, { where: '--workers', hint: 'e.g. --workers 2' });
  }
  workers = Math.max(1, Math.min(workers, Math.max(1, cells)));
  // threads only on free cores: wasm threads on busy cores are slower than one (docs/ENGINE.md)
  return { workers, threads: Math.max(1, Math.floor(Math.min(cores, Math.max(free, workers)) / workers)) };
}

/** Log file of a cell. */
export function cellLogFile(outDir: string, cellId: string): string {
  return join(outDir, 'logs', `${cellId.replace(/\//g, '__')}.log`);
}

export interface LocalRunOptions {
  workers: number;
  /** Cells to clear and retrain (`--only`). */
  rerun?: ReadonlySet<string>;
  /** Called after every cell. */
  onResult?: (r: CellResult, done: number, total: number) => void;
}

/** Run every runnable cell; results in the order cells finished. */
export async function runCellsLocally(cells: CellSpec[], outDir: string, opts: LocalRunOptions): Promise<CellResult[]> {
  const queue = cells.slice();
  const results: CellResult[] = [];
  const children = Array.from({ length: Math.max(1, Math.min(opts.workers, cells.length)) }, (_, i) => new CellChild(join(outDir, 'logs', `worker-${i + 1}.log`)));
  const stopAll = () => children.forEach((c) => c.stop());
  const forgetStop = onProcessExit(stopAll);
  try {
    await Promise.all(
      children.map(async (child) => {
        for (let cell = queue.shift(); cell; cell = queue.shift()) {
          const rerun = opts.rerun?.has(cell.id) ?? false;
          const r: CellResult = cell.invalid
            ? { id: cell.id, status: 'failed', error: cell.invalid, seconds: 0 }
            : !rerun && isCompleteRun(cellDir(outDir, cell.id))
              ? { id: cell.id, status: 'cached', seconds: 0 }
              : await child.run(cell, cellDir(outDir, cell.id), rerun, cellLogFile(outDir, cell.id));
          results.push(r);
          opts.onResult?.(r, results.length, cells.length);
        }
      }),
    );
  } finally {
    stopAll();
    forgetStop();
  }
  return results;
}

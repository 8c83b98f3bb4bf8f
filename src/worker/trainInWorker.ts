/**
 * `trainInWorker`: runExperiment in a worker thread, so the host's event loop keeps running while
 * a model trains (a 50 ms interval keeps firing; a server keeps answering). The worker has its
 * own tensor engine and its own model variables, so it never collides with models the host has
 * loaded. An AbortSignal stops training after the current optimizer step; the run directory keeps
 * its INCOMPLETE marker and per-epoch checkpoints and continues with `runDir: 'resume'` (or
 * `fleximodal train --resume`) to the same result as an uninterrupted run.
 *
 *   const ac = new AbortController();
 *   const res = await trainInWorker(parseConfig(raw, 'config'), { outDir: 'runs/a', signal: ac.signal,
 *     onProgress: (e) => e.type === 'epoch' && console.log(e.epoch, e.loss, e.metrics.auroc) });
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunConfig } from '../config/schema.js';
import type { ExperimentResult } from '../run/experiment.js';
import { LOCK_FILE, type RunDirMode } from '../run/runDirectory.js';
import { runWorkerJob } from './runWorkerJob.js';
import { AbortError, type TrainProgress } from './protocol.js';

export interface TrainInWorkerOptions {
  /** Output run directory (as `train --out`). */
  outDir: string;
  /** Directory that relative data paths in the config are resolved against. Default: the current directory. */
  baseDir?: string;
  /** Overrides `config.seeds`. */
  seeds?: number[];
  /** An existing non-empty outDir: refused ('new', default), cleared ('overwrite') or continued ('resume'). */
  runDir?: RunDirMode;
  /** Save the trained models (default true). */
  saveModels?: boolean;
  /** Stops training after the current optimizer step; the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** Per optimizer step and per epoch, in order (see TrainProgress). */
  onProgress?: (event: TrainProgress) => void;
  /** The run log (what `train` prints on stderr). Default: the host's stderr. */
  log?: (line: string) => void;
  /**
   * After an abort or a failure, keep the run directory (INCOMPLETE marker + checkpoints) so that
   * it can be resumed (default true). false: a directory that did not exist (or was empty) before
   * this call is removed.
   */
  keepIncomplete?: boolean;
  /** After an abort, how long to wait for the worker to stop by itself before terminating it (default 30 000 ms). */
  abortTimeoutMs?: number;
}

/** Run the experiment `config` describes in a worker thread; resolves with runExperiment's result. */
export async function trainInWorker(config: RunConfig, opts: TrainInWorkerOptions): Promise<ExperimentResult> {
  const outDir = resolve(opts.outDir);
  const createdHere = !existsSync(outDir) || readdirSync(outDir).length === 0;
  const dropIfCreated = () => {
    if (opts.keepIncomplete === false && createdHere) rmSync(outDir, { recursive: true, force: true });
  };
  let outcome;
  try {
    outcome = await runWorkerJob<TrainProgress>(
      { kind: 'train', config, baseDir: resolve(opts.baseDir ?? '.'), outDir, seeds: opts.seeds, runDir: opts.runDir, saveModels: opts.saveModels },
      { signal: opts.signal, onProgress: opts.onProgress, log: opts.log ?? ((l) => process.stderr.write(l + '\n')), abortTimeoutMs: opts.abortTimeoutMs },
    );
  } catch (e) {
    dropIfCreated();
    throw e;
  }
  if (outcome.kind === 'done') return outcome.result as ExperimentResult;
  if (outcome.forced) releaseOwnLock(outDir);
  dropIfCreated();
  if (outcome.error) throw outcome.error;
  const kept = opts.keepIncomplete !== false || !createdHere;
  throw new AbortError(
    `training aborted ${outcome.at}` + (kept && existsSync(outDir) ? `; ${outDir} can be resumed (runDir: 'resume', or \`fleximodal train --resume --out ${outDir}\` with the same config)` : ''),
    outDir,
    { cause: opts.signal?.reason },
  );
}

/** A terminated worker could not release the run directory's lock: remove it when it is this process's. */
function releaseOwnLock(outDir: string): void {
  const lock = join(outDir, LOCK_FILE);
  try {
    const held = JSON.parse(readFileSync(lock, 'utf8')) as { pid?: number };
    if (held.pid === process.pid) rmSync(lock, { force: true });
  } catch {
    // no lock (the worker stopped before taking it) or unreadable: nothing of ours to remove
  }
}

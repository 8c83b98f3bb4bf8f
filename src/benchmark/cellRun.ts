/**
 * Runs one benchmark cell in this process: an ordinary `runExperiment` into the cell's run
 * directory (resumable, locked, atomic). A finished cell is never retrained; an interrupted one
 * resumes from its checkpoints; `rerun` clears and retrains it (the run directory's --overwrite).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../config/parse.js';
import { runExperiment } from '../run/experiment.js';
import { INCOMPLETE_FILE, isCompleteRun, type RunDirMode } from '../run/runDirectory.js';
import { describeCliError } from '../cli/errorHandler.js';
import type { CellSpec } from './plan.js';
import { FlexiModalError } from '../errors.js';

/** What happened to one cell. */
export interface CellResult {
  id: string;
  /** done: trained now; cached: finished before; failed: error (see `error`). */
  status: 'done' | 'cached' | 'failed';
  error?: string;
  /** Wall seconds of this attempt (0 for cached). */
  seconds: number;
}

/**
 * An interrupted cell resumes with the config it was started with: the engine section (threads,
 * which the number of workers decides) is taken from its checkpoints/run.json, so a resume with
 * another worker count continues instead of refusing a changed config.
 */
function withSavedEngine(dir: string, config: Record<string, unknown>): Record<string, unknown> {
  const identity = join(dir, 'checkpoints', 'run.json');
  if (!existsSync(identity)) return config;
  try {
    const saved = JSON.parse(readFileSync(identity, 'utf8')) as { config?: { engine?: unknown } };
    return saved.config?.engine ? { ...config, engine: saved.config.engine } : config;
  } catch {
    return config;
  }
}

/** Run `cell` into `dir`. Never throws: a failure is returned with its message. */
export async function runCell(
  cell: CellSpec,
  dir: string,
  opts: {
    rerun?: boolean;
    log?: (line: string) => void;
    /** Checked after every epoch: a reason to stop (the cell stays resumable from its checkpoint), or null. */
    abortWhen?: () => string | null;
  } = {},
): Promise<CellResult> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  if (cell.invalid) return { id: cell.id, status: 'failed', error: cell.invalid, seconds: 0 };
  if (!opts.rerun && isCompleteRun(dir)) return { id: cell.id, status: 'cached', seconds: 0 };
  try {
    const interrupted = !opts.rerun && existsSync(join(dir, INCOMPLETE_FILE));
    const mode: RunDirMode = opts.rerun ? 'overwrite' : interrupted ? 'resume' : 'new';
    const raw = interrupted ? withSavedEngine(dir, cell.config) : cell.config;
    const cfg = parseConfig(raw, `benchmark cell ${cell.id}`);
    const abortWhen = opts.abortWhen;
    const callbacks = abortWhen
      ? () => [
          {
            name: 'benchmark-abort',
            onEpochEnd: () => {
              const why = abortWhen();
              if (why) throw new FlexiModalError(`cell ${cell.id} stopped: ${why}`, { hint: 'run the benchmark again: the cell resumes from its checkpoint' });
            },
          },
        ]
      : undefined;
    // keepIncomplete: an interrupted cell keeps its checkpoints for the next invocation (builds whose
    // runExperiment removes a failed run's new directory honour it; older ones keep it anyway)
    const keep = { keepIncomplete: true } as object;
    await runExperiment(cfg, { baseDir: process.cwd(), outDir: dir, progress: false, runDir: mode, log, ...(callbacks ? { callbacks } : {}), ...keep });
    return { id: cell.id, status: 'done', seconds: (Date.now() - started) / 1000 };
  } catch (e) {
    const text = describeCliError(e, false).text.replace(/^error: /, '').trim();
    log(`cell ${cell.id} failed: ${text}`);
    return { id: cell.id, status: 'failed', error: text, seconds: (Date.now() - started) / 1000 };
  }
}

/**
 * `--overwrite` / `--resume`: what a command does with an existing non-empty output directory
 * (see src/run/runDirectory.ts).
 */
import { FlexiModalError } from '../errors.js';
import type { RunDirMode } from '../run/runDirectory.js';

/** The run-directory mode of the flags; both together are an error. */
export function runDirModeOf(o: { overwrite?: boolean; resume?: boolean }): RunDirMode {
  if (o.overwrite && o.resume) {
    throw new FlexiModalError('--overwrite and --resume exclude each other', { hint: 'use --overwrite to start over, --resume to continue an interrupted run' });
  }
  return o.overwrite ? 'overwrite' : o.resume ? 'resume' : 'new';
}

/**
 * `--overwrite` / `--resume`: what a command does with an existing non-empty output directory
 * (see src/run/runDirectory.ts).
 */
import { FlexiModalError } from '../errors.js';
import type { RunDirMode } from '../run/runDirectory.js';

/** Help of `--overwrite` for every command with an output directory. */
export const OVERWRITE_HELP = 'clear an existing non-empty --out directory first (only the files fleximodal wrote there; anything else is refused, see --overwrite-foreign)';
/** Help of `--overwrite-foreign`: the second, explicit consent to delete what fleximodal did not write. */
export const OVERWRITE_FOREIGN_HELP = 'with --overwrite: also delete the files and folders in --out that fleximodal did not write';

/** `--overwrite-foreign` without `--overwrite` is an error (it names what the first flag may delete). */
export function checkOverwriteForeign(o: { overwrite?: boolean; overwriteForeign?: boolean }): void {
  if (o.overwriteForeign && !o.overwrite) {
    throw new FlexiModalError('--overwrite-foreign only widens --overwrite', { where: '--overwrite-foreign', hint: 'pass both --overwrite and --overwrite-foreign, or neither' });
  }
}

/** The run-directory mode of the flags; both together are an error. */
export function runDirModeOf(o: { overwrite?: boolean; resume?: boolean }): RunDirMode {
  if (o.overwrite && o.resume) {
    throw new FlexiModalError('--overwrite and --resume exclude each other', { hint: 'use --overwrite to start over, --resume to continue an interrupted run' });
  }
  return o.overwrite ? 'overwrite' : o.resume ? 'resume' : 'new';
}

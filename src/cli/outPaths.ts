/**
 * Checking `--out` paths before any work is done, so a bad path is a clear error (exit 2) instead
 * of an EISDIR / ENOENT / EEXIST stack trace after training.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FlexiModalError } from '../errors.js';

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function makeDir(dir: string, option: string, given: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FlexiModalError(
      code === 'ENOTDIR' || code === 'EEXIST' ? `cannot create directory ${dir}: a part of the path is a file` : `cannot create directory ${dir} (${code ?? (e as Error).message})`,
      { where: `${option} ${given}`, hint: 'choose a path whose parent directories are directories you can write' },
    );
  }
}

/** An output directory: created when absent; an existing file there is an error. Returns the absolute path. */
export function prepareOutDir(path: string, option = '--out'): string {
  const abs = resolve(path);
  const st = statOrNull(abs);
  if (st && !st.isDirectory()) {
    throw new FlexiModalError(`${path} is a file, not a directory`, { where: `${option} ${path}`, hint: 'give a directory path (it is created when absent)' });
  }
  makeDir(abs, option, path);
  return abs;
}

/**
 * Check that `path` can become an output directory without creating anything (so a command that
 * fails validation later leaves nothing behind): an existing non-directory there, or a file where a
 * parent directory would be, is an error.
 */
export function checkOutDirPath(path: string, option = '--out'): string {
  const abs = resolve(path);
  const st = statOrNull(abs);
  if (st && !st.isDirectory()) {
    throw new FlexiModalError(`${path} is a file, not a directory`, { where: `${option} ${path}`, hint: 'give a directory path (it is created when absent)' });
  }
  let up = dirname(abs);
  while (!statOrNull(up) && dirname(up) !== up) up = dirname(up);
  if (!statOrNull(up)?.isDirectory()) {
    throw new FlexiModalError(`cannot create directory ${abs}: ${up} is a file`, { where: `${option} ${path}`, hint: 'choose a path whose parent directories are directories you can write' });
  }
  return abs;
}

/** An output file: an existing directory there is an error; missing parent directories are created. */
export function prepareOutFile(path: string, option = '--out'): string {
  const abs = resolve(path);
  if (statOrNull(abs)?.isDirectory()) {
    throw new FlexiModalError(`${path} is a directory, not a file`, { where: `${option} ${path}`, hint: 'give a file path, e.g. predictions.jsonl' });
  }
  makeDir(dirname(abs), option, path);
  return abs;
}

/**
 * The one error contract of the command line:
 *  - known errors (FlexiModalError, and file-system errors on a path the user gave) print what /
 *    where / how to fix and exit 2;
 *  - EPIPE on stdout (e.g. `fleximodal predict … | head`) ends quietly with exit 0;
 *  - anything else prints a one-line summary and a hint to re-run with `--verbose` for the stack
 *    trace, and exits 1.
 */
import { CommanderError } from 'commander';
import { FlexiModalError } from '../errors.js';

/** File-system error codes that describe a bad path given by the user. */
const PATH_ERRORS: Record<string, string> = {
  EISDIR: 'is a directory',
  ENOENT: 'does not exist',
  EEXIST: 'already exists',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
};

/** A Node system error (has a string `code`). */
function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** The message and exit code the CLI uses for an error (exit 0 = end quietly). */
export function describeCliError(err: unknown, verbose: boolean): { text: string; exitCode: 0 | 1 | 2 } {
  if (err instanceof CommanderError) {
    // commander has printed its message (and the help): exit 0 after --help / --version, else 2
    return { text: '', exitCode: err.exitCode === 0 ? 0 : 2 };
  }
  if (err instanceof FlexiModalError) return { text: `error: ${err.message}\n${verbose && err.stack ? err.stack + '\n' : ''}`, exitCode: 2 };
  const code = codeOf(err);
  if (code === 'EPIPE') return { text: '', exitCode: 0 };
  if (code && PATH_ERRORS[code]) {
    const e = err as { path?: string; syscall?: string; message?: string };
    const where = e.path ? `${e.path}: ` : '';
    return {
      text: `error: ${where}${PATH_ERRORS[code]} (${e.syscall ?? 'file'} failed, ${code}) — Fix: check the path and its permissions\n${verbose ? String((err as Error).stack) + '\n' : ''}`,
      exitCode: 2,
    };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const first = (e.message || e.name).split('\n')[0]!;
  if (verbose) return { text: `error: unexpected ${e.name}: ${first}\n${e.stack ?? ''}\n`, exitCode: 1 };
  return { text: `error: unexpected ${e.name}: ${first} (re-run with --verbose for the stack trace)\n`, exitCode: 1 };
}

/** Print the error as the contract says and exit. */
export function exitWithError(err: unknown, verbose: boolean): never {
  const { text, exitCode } = describeCliError(err, verbose);
  if (text) process.stderr.write(text);
  process.exit(exitCode);
}

/** A closed stdout (EPIPE: the reader, e.g. `head`, is done) ends the process quietly. */
export function endQuietlyOnEpipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    exitWithError(e, process.argv.includes('--verbose'));
  });
}

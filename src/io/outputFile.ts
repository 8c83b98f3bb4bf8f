/**
 * The one output-file policy of every command that writes a file the user names (`predict --out`,
 * `convert --out`, and later `export`):
 *
 * | what stands at the path            | behaviour                                                         |
 * |------------------------------------|-------------------------------------------------------------------|
 * | nothing                            | written to a temporary file beside it, renamed into place at the end |
 * | a regular file                     | refused unless `overwrite`; then replaced atomically (temp + rename) |
 * | a symlink                          | followed: the policy applies to its final target (the link stays)  |
 * | a dangling symlink                 | refused (its target does not exist)                                |
 * | a FIFO or character device         | written directly as a stream (`/dev/stdout`, `/dev/null`, a pipe), never replaced |
 * | a path under /dev/ or /proc/       | written directly as a stream (e.g. /dev/stdout redirected to a file) |
 * | a directory, block device, socket  | refused                                                           |
 *
 * Temporary files are `.<name>.<pid>.<n>.tmp` beside the target; they are removed on every failure
 * path (an error while writing, {@link OutputFile.abort}, and process exit, e.g. after SIGINT).
 * A write error (ENOSPC, EIO, EFBIG, …) becomes a FlexiModalError naming the path.
 */
import { onProcessExit } from './exitHooks.js';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FlexiModalError } from '../errors.js';
import { tempPathFor } from './atomicWrite.js';
import { recordOwnedWrite } from './ownedOutput.js';
import { onInterrupt } from './interrupt.js';

/** How an output path is written. */
export type OutputTarget =
  /** temp file + rename onto `path` (the symlink's target when the user's path was a link) */
  | { kind: 'file'; path: string; exists: boolean }
  /** opened and written in place (FIFO, character device, /dev/stdout) */
  | { kind: 'stream'; path: string };

export interface OutputFileOptions {
  /** Replace an existing regular file (the CLI's `--overwrite`). */
  overwrite?: boolean;
  /** The option that named the path, for messages (default `--out`). */
  flag?: string;
}

/** Describe a file-type for messages. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  return 'a regular file';
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/**
 * Decide how `pathArg` is written (see the module comment), or throw a FlexiModalError naming it.
 * Creates nothing: call it before any work so a bad path fails fast.
 */
export function checkOutputFile(pathArg: string, opts: OutputFileOptions = {}): OutputTarget {
  const flag = opts.flag ?? '--out';
  const where = `${flag} ${pathArg}`;
  let path = resolve(pathArg);
  const special = /^\/(dev|proc)\//.test(path);
  let st = lstatOrNull(path);
  if (st?.isSymbolicLink()) {
    let target: string;
    try {
      target = realpathSync(path);
    } catch {
      throw new FlexiModalError('is a symlink whose target does not exist', { where, hint: `create the target first or give ${flag} another path` });
    }
    path = target;
    st = statSync(target);
  }
  if (!st) {
    // a new file: its parent must be (or become) a directory
    let up = dirname(path);
    while (!lstatOrNull(up) && dirname(up) !== up) up = dirname(up);
    const parent = statSync(up, { throwIfNoEntry: false });
    if (parent && !parent.isDirectory()) {
      throw new FlexiModalError(`cannot create ${pathArg}: ${up} is a file, not a directory`, { where, hint: 'choose a path whose parent directories are directories you can write' });
    }
    return { kind: 'file', path, exists: false };
  }
  if (st.isDirectory()) {
    throw new FlexiModalError(`${pathArg} is a directory, not a file`, { where, hint: 'give a file path, e.g. predictions.jsonl' });
  }
  if (st.isFIFO() || st.isCharacterDevice() || (special && st.isFile())) return { kind: 'stream', path };
  if (!st.isFile()) {
    throw new FlexiModalError(`${pathArg} is ${kindOf(st)}: refusing to write to it`, { where, hint: `give ${flag} a regular file path, a FIFO or a character device such as /dev/stdout` });
  }
  if (!opts.overwrite) {
    throw new FlexiModalError('exists', { where, hint: `pass --overwrite to replace it, or choose another ${flag}` });
  }
  return { kind: 'file', path, exists: true };
}

/** Temporary files of OutputFiles still open: removed when the process exits (e.g. after SIGINT). */
const openTemps = new Set<string>();
let exitHookInstalled = false;
function trackTemp(p: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    onProcessExit(() => {
      for (const t of openTemps) rmSync(t, { force: true });
    });
  }
  openTemps.add(p);
}

/** A write error as a FlexiModalError naming the path (ENOSPC: the disk is full). */
function writeError(e: unknown, pathArg: string, flag: string): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (e instanceof FlexiModalError) return e;
  const what =
    code === 'ENOSPC' ? 'no space left on the device' : code === 'EDQUOT' ? 'disk quota exceeded' : code === 'EFBIG' ? 'file too large' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `write failed (${code ?? (e as Error).message})`;
  return new FlexiModalError(`${what} while writing ${pathArg}; nothing was left behind`, {
    where: `${flag} ${pathArg}`,
    hint: code === 'ENOSPC' || code === 'EDQUOT' ? 'free space on that file system or write elsewhere' : 'check the path and its permissions',
  });
}

/**
 * An output file written incrementally (synchronously) under the policy above. Call {@link commit}
 * at the end (renames the temporary file into place) or {@link abort} on failure.
 */
export class OutputFile {
  private fd: number | null;
  private done = false;
  private forgetNote: () => void = () => {};

  private constructor(
    readonly target: OutputTarget,
    private readonly pathArg: string,
    private readonly flag: string,
    private readonly temp: string | null,
    fd: number,
  ) {
    this.fd = fd;
    if (temp) this.forgetNote = onInterrupt(() => `${pathArg}: not written (the partial output was removed${target.kind === 'file' && target.exists ? '; the earlier file is unchanged' : ''})`);
  }

  /** Check the path (see {@link checkOutputFile}) and open it for writing. */
  static open(pathArg: string, opts: OutputFileOptions = {}): OutputFile {
    const flag = opts.flag ?? '--out';
    const target = checkOutputFile(pathArg, opts);
    try {
      if (target.kind === 'stream') return new OutputFile(target, pathArg, flag, null, openSync(target.path, 'a'));
      mkdirSync(dirname(target.path), { recursive: true });
      const temp = tempPathFor(target.path);
      trackTemp(temp);
      try {
        return new OutputFile(target, pathArg, flag, temp, openSync(temp, 'wx'));
      } catch (e) {
        openTemps.delete(temp);
        throw e;
      }
    } catch (e) {
      throw writeError(e, pathArg, flag);
    }
  }

  /** Whether the output is written in place (a FIFO, a device) rather than a file renamed into place. */
  get isStream(): boolean {
    return this.target.kind === 'stream';
  }

  /** Append `data`; on an error the temporary file is removed and a FlexiModalError names the path. */
  write(data: string | Uint8Array): void {
    if (this.fd === null) throw new Error('OutputFile.write after commit/abort');
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    try {
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(this.fd, bytes, off, bytes.byteLength - off);
    } catch (e) {
      this.abort();
      throw writeError(e, this.pathArg, this.flag);
    }
  }

  /** Finish: fsync and rename the temporary file onto the target (a stream is just closed). */
  commit(): void {
    if (this.done) return;
    try {
      if (this.temp) fsyncSync(this.fd!);
      closeSync(this.fd!);
      this.fd = null;
      if (this.temp) {
        renameSync(this.temp, this.target.path);
        openTemps.delete(this.temp);
        recordOwnedWrite(this.target.path);
      }
      this.forgetNote();
      this.done = true;
    } catch (e) {
      this.abort();
      throw writeError(e, this.pathArg, this.flag);
    }
  }

  /** Give up: close, and remove the temporary file (the target is untouched). Safe to call twice. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.forgetNote();
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = null;
    }
    if (this.temp) {
      rmSync(this.temp, { force: true });
      openTemps.delete(this.temp);
    }
  }
}

/** Write a whole file under the policy (see the module comment). */
export function writeOutputFile(pathArg: string, data: string | Uint8Array, opts: OutputFileOptions = {}): OutputTarget {
  const out = OutputFile.open(pathArg, opts);
  out.write(data);
  out.commit();
  return out.target;
}

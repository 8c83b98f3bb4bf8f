/**
 * Atomic file writes: every file a run writes goes to a temporary name beside its target and is
 * renamed into place, so a reader (or a killed writer) never sees a half-written file. Renames
 * within one directory are atomic on POSIX file systems.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkOwnedWrite, recordOwnedWrite } from './ownedOutput.js';
import { FlexiModalError } from '../errors.js';

/** Temporary names look like `.<target>.<pid>.<counter>.tmp`. */
const TEMP_RE = /^\..+\.\d+\.\d+\.tmp$/;
let counter = 0;

/** The temporary name used for writing `path` (same directory, so the rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter++}.tmp`);
}

/**
 * Write `data` to `path` atomically: write and fsync a temporary file in the same directory, then
 * rename it over `path`. Creates the parent directory. On failure the temporary file is removed.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  checkOwnedWrite(path); // never replaces (or writes through) what fleximodal did not write in an open output directory
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // the ledger of an open owned output directory (src/io/ownedOutput.ts) lists the file BEFORE it
    // appears, so a kill -9 between the two never leaves a file of ours that the ledger does not name
    recordOwnedWrite(path);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      // the error's own path would name the temporary file: name the file being written
      throw new FlexiModalError(`${code === 'ENOSPC' ? 'no space left on the device' : 'disk quota exceeded'} while writing ${path}; its temporary file was removed`, {
        where: path,
        hint: 'free space on that file system or write elsewhere',
      });
    }
    throw e;
  }
}

/** Remove temporary files left by killed writers under `dir` (recursively); returns how many. */
export function removeStaleTempFiles(dir: string): number {
  let removed = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) removed += removeStaleTempFiles(p);
    else if (TEMP_RE.test(e.name)) {
      rmSync(p, { force: true });
      removed++;
    }
  }
  return removed;
}

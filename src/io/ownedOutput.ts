/**
 * Output directories that fleximodal owns: the one rule every command that clears an output
 * directory follows (train, compare, demo, finetune, evaluate --out, simulate, and the commands
 * added later such as benchmark and export).
 *
 * A directory is ours when it holds the ledger `.fleximodal-owned.jsonl`: its first line is a
 * header `{"format":"fleximodal-owned/1","runId":…,"command":…,"createdAt":…}` (the marker only
 * fleximodal writes), each further line the JSON string of one file path (relative, `/`-separated)
 * that a fleximodal command wrote there. The ledger is appended to as files are written (every
 * {@link writeFileAtomic} under an open directory records itself), so it is right after a kill -9.
 *
 * `--overwrite` removes only the files the ledger lists (and the directories left empty by that);
 * anything else found there — a user's file, a file a user put in `model/`, a symlink, a FIFO —
 * is *foreign*: the clear is refused, naming them, unless the caller passes
 * `overwriteForeign` (the CLI's `--overwrite-foreign`). A directory without a ledger (not written
 * by fleximodal, or by a version before the ledger) is entirely foreign. Symlinks are never
 * followed when listing or removing: a symlinked directory is one foreign entry. Empty directories
 * (fleximodal creates some, e.g. `plots/`) hold nothing to lose: they are removed when left empty.
 *
 * Names reserved inside an owned directory (treated as ours at any depth): the ledger, the run
 * lock `.fleximodal.lock`, and temporary files `.<name>.<pid>.<n>.tmp` of {@link writeFileAtomic}.
 */
import { appendFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { FlexiModalError } from '../errors.js';

export const OWNED_LEDGER = '.fleximodal-owned.jsonl';
export const OWNED_FORMAT = 'fleximodal-owned/1';
/** The run-directory lock (src/run/runDirectory.ts); reserved here so a ledger walk treats it as ours. */
const RESERVED_LOCK = '.fleximodal.lock';
/** Temporary names of writeFileAtomic / OutputFile: `.<target>.<pid>.<counter>.tmp`. */
const TEMP_RE = /^\..+\.\d+\.\d+\.tmp$/;

/** How a command treats an existing non-empty output directory. */
export type OwnedDirMode = 'new' | 'overwrite' | 'resume';

/** The ledger's first line. */
export interface OwnedHeader {
  format: typeof OWNED_FORMAT;
  /** A random id of the run that created the directory (kept by --resume). */
  runId: string;
  /** The command that created it, e.g. 'train', 'compare', 'evaluate'. */
  command: string;
  createdAt: string;
}

/** What an existing directory holds, split into what fleximodal wrote and what it did not. */
export interface OwnedInspection {
  /** The ledger header, or null when the directory has no (valid) ledger. */
  header: OwnedHeader | null;
  /** Relative paths of files the ledger lists that exist (regular files or links at those paths). */
  owned: string[];
  /** Relative paths of entries the ledger does not account for (never removed without overwriteForeign). */
  foreign: string[];
}

export interface OpenOwnedOptions {
  /** The command writing the directory (recorded in a new ledger). */
  command: string;
  mode: OwnedDirMode;
  /** With mode 'overwrite': also delete entries fleximodal did not write (CLI `--overwrite-foreign`). */
  overwriteForeign?: boolean;
  /** The command-line flag naming the directory, for messages (default `--out`). */
  flag?: string;
  log?: (line: string) => void;
}

/** Read the ledger of `dir`: header and recorded paths (null when absent or not ours). */
export function readLedger(dir: string): { header: OwnedHeader; paths: Set<string> } | null {
  const p = join(dir, OWNED_LEDGER);
  let text: string;
  try {
    if (!lstatSync(p).isFile()) return null;
    text = readFileSync(p, 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  let header: OwnedHeader;
  try {
    header = JSON.parse(lines[0]!) as OwnedHeader;
  } catch {
    return null;
  }
  if (!header || header.format !== OWNED_FORMAT || typeof header.runId !== 'string') return null;
  const paths = new Set<string>();
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    try {
      const rel = JSON.parse(line) as unknown;
      // a partial last line (killed mid-append) or a forged path outside the directory is ignored
      if (typeof rel === 'string' && isSafeRelative(rel)) paths.add(rel);
    } catch {
      // ignored: see above
    }
  }
  return { header, paths };
}

/** A relative, normalised path that stays inside its directory. */
function isSafeRelative(rel: string): boolean {
  if (!rel || isAbsolute(rel) || rel.includes('\\') || rel.includes('\0')) return false;
  return rel.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Whether a name is one of the reserved names fleximodal writes in an owned directory. */
function isReservedName(name: string): boolean {
  return name === OWNED_LEDGER || name === RESERVED_LOCK || TEMP_RE.test(name);
}

/**
 * Split the files `dir` holds into owned and foreign ones (nothing is changed). Real directories
 * are walked; symlinks (to files or directories), FIFOs and devices are entries, never followed.
 */
export function inspectOwned(dirArg: string): OwnedInspection {
  const dir = resolve(dirArg);
  const ledger = readLedger(dir);
  const paths = new Set(ledger?.paths ?? []);
  let nestedOwned = false;
  const owned: string[] = [];
  const foreign: string[] = [];
  const walk = (rel: string) => {
    let entries;
    try {
      entries = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    if (rel) {
      // a directory another fleximodal command owns (e.g. <run>/finetune): its ledger's files are ours too
      const nested = readLedger(join(dir, rel));
      for (const p of nested?.paths ?? []) paths.add(`${rel}/${p}`);
      if (nested) nestedOwned = true;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name === RESERVED_LOCK || ((ledger || nestedOwned) && isReservedName(e.name) && !e.isDirectory())) continue;
      // real directories are walked (an empty one holds nothing to lose); a symlink is never followed
      if (e.isDirectory()) walk(r);
      else if (paths.has(r)) owned.push(r);
      else foreign.push(r);
    }
  };
  walk('');
  return { header: ledger?.header ?? null, owned: owned.sort(), foreign: foreign.sort() };
}

/** A short list of paths for a message: the first few and how many more. */
export function samplePaths(paths: string[], n = 5): string {
  return paths.slice(0, n).join(', ') + (paths.length > n ? `, … (${paths.length - n} more)` : '');
}

/**
 * Remove what fleximodal wrote in `dir` (see the module comment); throws, removing nothing, when
 * `dir` holds anything else and `overwriteForeign` is not set. The lock file is kept.
 */
export function clearOwned(dirArg: string, opts: { overwriteForeign?: boolean; flag?: string; log?: (l: string) => void } = {}): { removed: number; foreignRemoved: number } {
  const flag = opts.flag ?? '--out';
  const dir = resolve(dirArg);
  const found = inspectOwned(dir);
  const refusal = clearRefusal(dirArg, found, flag, opts.overwriteForeign);
  if (refusal) throw refusal;
  let removed = 0;
  for (const rel of found.owned) {
    rmSync(join(dir, rel), { force: true }); // a file or a link at our path: never recursive, never followed
    removed++;
  }
  let foreignRemoved = 0;
  if (opts.overwriteForeign) {
    for (const rel of found.foreign) {
      rmSync(join(dir, rel), { recursive: true, force: true });
      foreignRemoved++;
    }
  }
  // reserved files (ledger, temp files) except the lock, then directories left empty, deepest first
  removeReservedAndEmptyDirs(dir, '');
  opts.log?.(`output directory: cleared ${dir} (--overwrite: ${removed} file(s) fleximodal wrote${foreignRemoved ? `, ${foreignRemoved} other entr${foreignRemoved === 1 ? 'y' : 'ies'} (--overwrite-foreign)` : ''})`);
  return { removed, foreignRemoved };
}

function removeReservedAndEmptyDirs(root: string, rel: string): void {
  const abs = join(root, rel);
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      removeReservedAndEmptyDirs(root, r);
      try {
        rmdirSync(join(root, r)); // only when empty
      } catch {
        // not empty: something that is not ours (kept)
      }
    } else if (e.name !== RESERVED_LOCK && isReservedName(e.name)) {
      rmSync(join(abs, e.name), { force: true });
    }
  }
}

/** Why clearing a directory holding `found` is refused (null: it may be cleared). */
function clearRefusal(dirArg: string, found: OwnedInspection, flag: string, overwriteForeign?: boolean): FlexiModalError | null {
  if (overwriteForeign) return null;
  if (!found.header && (found.owned.length || found.foreign.length)) {
    return new FlexiModalError(`not a directory fleximodal wrote (it has no ${OWNED_LEDGER}; it holds ${samplePaths(found.foreign)}); refusing to delete it`, {
      where: `${flag} ${dirArg}`,
      hint: `choose another ${flag}; or, if everything in it may be deleted (e.g. a run written by an older fleximodal), add --overwrite-foreign`,
    });
  }
  if (found.foreign.length) {
    return new FlexiModalError(`refusing to clear: ${found.foreign.length} entr${found.foreign.length === 1 ? 'y was' : 'ies were'} not written by fleximodal: ${samplePaths(found.foreign)}`, {
      where: `${flag} ${dirArg}`,
      hint: `move them out of the directory, choose another ${flag}, or add --overwrite-foreign to delete them too`,
    });
  }
  return null;
}

/**
 * Check, changing nothing, that {@link OwnedOutputDir.open} with these options would accept `dirArg`
 * (call it before long work so a refusal comes first). Throws the same errors.
 */
export function checkOwnedOpen(dirArg: string, opts: OpenOwnedOptions): void {
  const flag = opts.flag ?? '--out';
  const dir = resolve(dirArg);
  let st;
  try {
    st = statSync(dir);
  } catch {
    return; // absent (or a dangling link: open names it)
  }
  if (!st.isDirectory()) throw new FlexiModalError('exists and is not a directory', { where: `${flag} ${dirArg}`, hint: `choose a directory path for ${flag}` });
  const entries = readdirSync(dir).filter((e) => e !== RESERVED_LOCK);
  if (!entries.length || opts.mode === 'resume') return;
  if (opts.mode === 'new') throw notEmpty(dirArg, entries, flag, opts.command);
  const refusal = clearRefusal(dirArg, inspectOwned(dir), flag, opts.overwriteForeign);
  if (refusal) throw refusal;
}

function notEmpty(dirArg: string, entries: string[], flag: string, command: string): FlexiModalError {
  return new FlexiModalError(`the output directory is not empty (${entries.length} entries: ${samplePaths(entries, 3)})`, {
    where: `${flag} ${dirArg}`,
    hint: `pass --overwrite to clear it and start over${command === 'train' || command === 'compare' ? ', --resume to continue an interrupted run' : ''}, or choose another ${flag}`,
  });
}

/** Open owned directories of this process: absolute root → its handle (writes under it record themselves). */
const active = new Map<string, OwnedOutputDir>();

/**
 * Record that the file `absPath` was written: every open owned directory containing it appends it
 * to its ledger. Called by writeFileAtomic and OutputFile; commands writing files another way call it.
 */
export function recordOwnedWrite(absPath: string): void {
  const p = resolve(absPath);
  for (const [root, owned] of active) {
    if (p.startsWith(root + sep)) owned.record(p);
  }
}

/**
 * Throw when writing `absPath` would replace or write through something fleximodal did not write
 * inside an open owned directory: an existing entry its ledger does not list (a user's file,
 * symlink or FIFO put there), or a symlink on the way (which would lead the write outside).
 * Called by writeFileAtomic before it writes.
 */
export function checkOwnedWrite(absPath: string): void {
  const p = resolve(absPath);
  for (const [root, owned] of active) {
    if (!p.startsWith(root + sep)) continue;
    const parts = relative(root, p).split(sep);
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      let st;
      try {
        st = lstatSync(join(root, ...parts.slice(0, i)));
      } catch {
        break; // absent from here on: created by the write
      }
      const last = i === parts.length;
      if (last ? !owned.has(rel) : st.isSymbolicLink() || !st.isDirectory()) {
        throw new FlexiModalError(`refusing to ${last ? 'replace' : 'write through'} ${join(root, rel)}: fleximodal did not write it`, {
          where: p,
          hint: `move it out of ${root}, or choose another output directory`,
        });
      }
    }
  }
}

/** An output directory opened for writing by one command (see the module comment). */
export class OwnedOutputDir {
  private readonly recorded: Set<string>;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly header: OwnedHeader,
    recorded: Set<string>,
  ) {
    this.recorded = recorded;
  }

  /**
   * Open `dirArg` for writing: create it when absent; a non-empty directory is refused ('new'),
   * cleared of what fleximodal wrote ('overwrite', refusing foreign entries unless overwriteForeign)
   * or kept ('resume': its ledger is continued). Files written under it until {@link close} are
   * recorded in its ledger. Entries listed in `keep` (e.g. a lock just taken) are left alone.
   */
  static open(dirArg: string, opts: OpenOwnedOptions): OwnedOutputDir {
    const flag = opts.flag ?? '--out';
    const dir = resolve(dirArg);
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      st = null;
    }
    if (st?.isSymbolicLink()) {
      // an --out that is a symlink to a directory is written through (documented); check the target
      try {
        st = lstatSync(realpathSync(dir));
      } catch {
        throw new FlexiModalError('is a symlink to a path that does not exist', { where: `${flag} ${dirArg}`, hint: `create its target or choose another ${flag}` });
      }
    }
    if (st && !st.isDirectory()) {
      throw new FlexiModalError('exists and is not a directory', { where: `${flag} ${dirArg}`, hint: `choose a directory path for ${flag}` });
    }
    mkdirSync(dir, { recursive: true });
    const entries = readdirSync(dir).filter((e) => e !== RESERVED_LOCK);
    let ledger = readLedger(dir);
    if (entries.length > 0) {
      if (opts.mode === 'new') throw notEmpty(dirArg, entries, flag, opts.command);
      if (opts.mode === 'overwrite') {
        clearOwned(dir, { overwriteForeign: opts.overwriteForeign, flag, log: opts.log });
        ledger = null;
      }
    }
    const header: OwnedHeader =
      opts.mode === 'resume' && ledger ? ledger.header : { format: OWNED_FORMAT, runId: randomUUID(), command: opts.command, createdAt: new Date().toISOString() };
    const recorded = opts.mode === 'resume' && ledger ? ledger.paths : new Set<string>();
    if (!(opts.mode === 'resume' && ledger)) {
      // resume of a directory without a ledger (older version): what is there was ours by the resume check
      const lines = [JSON.stringify(header)];
      if (opts.mode === 'resume') for (const f of listFiles(dir)) if (!isReservedName(f.split('/').pop()!)) (recorded.add(f), lines.push(JSON.stringify(f)));
      writeFileSync(join(dir, OWNED_LEDGER), lines.join('\n') + '\n');
    }
    const owned = new OwnedOutputDir(dir, header, recorded);
    recordOwnedWrite(join(dir, OWNED_LEDGER)); // an enclosing owned directory (compare, demo) owns this ledger too
    active.set(dir, owned);
    return owned;
  }

  /**
   * Open a directory a command adds to across invocations (e.g. `simulate --out`, whose per-size
   * cache makes a rerun resume): its ledger is continued when fleximodal wrote it; a non-empty
   * directory fleximodal did not write is refused.
   */
  static openReusable(dirArg: string, command: string, flag = '--out'): OwnedOutputDir {
    return OwnedOutputDir.open(dirArg, { command, mode: readLedger(resolve(dirArg)) ? 'resume' : 'new', flag });
  }

  /** The run id recorded in the ledger. */
  get runId(): string {
    return this.header.runId;
  }

  /** Record a file written under this directory (absolute, or relative to it). */
  record(path: string): void {
    const rel = relative(this.dir, resolve(this.dir, path)).split(sep).join('/');
    if (!isSafeRelative(rel) || this.recorded.has(rel) || isReservedName(rel.split('/').pop()!)) return;
    this.recorded.add(rel);
    if (this.closed) return;
    appendFileSync(join(this.dir, OWNED_LEDGER), JSON.stringify(rel) + '\n');
  }

  /** Whether the ledger lists `rel` (a `/`-separated path relative to the directory). */
  has(rel: string): boolean {
    return this.recorded.has(rel) || isReservedName(rel.split('/').pop()!);
  }

  /** Stop recording writes (the ledger stays: it marks the directory as ours). */
  close(): void {
    this.closed = true;
    if (active.get(this.dir) === this) active.delete(this.dir);
  }
}

/** Every regular file or link under `dir` (relative paths), not following symlinks. */
function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return out;
}

/** Whether `dir` is a directory fleximodal wrote (has a valid ledger). */
export function isOwnedDir(dir: string): boolean {
  return existsSync(join(dir, OWNED_LEDGER)) && readLedger(resolve(dir)) !== null;
}

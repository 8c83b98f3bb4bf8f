/**
 * A run directory (`train --out`, `compare --out`) that is safe against re-runs, concurrent
 * writers and kills:
 *   - an existing non-empty directory is refused unless the run starts over (`--overwrite`,
 *     which removes only what fleximodal wrote there: src/io/ownedOutput.ts) or continues
 *     (`--resume`, which also refuses data files whose sha256 changed: {@link checkDataHashes});
 *   - a lock file (`.fleximodal.lock`, holding pid and host) refuses a second writer; a lock left
 *     by a dead process on this host is detected and replaced;
 *   - an `INCOMPLETE` marker exists from the start until every output is written; `evaluate`,
 *     `predict` and `compare --run` refuse a directory that has it (see {@link assertRunComplete});
 *   - training checkpoints live in `checkpoints/` (removed when the run completes), beside
 *     `checkpoints/run.json` (the config and seeds the run was started with: a resume must match).
 */
import { onProcessExit } from '../io/exitHooks.js';
import { existsSync, linkSync, readFileSync, readdirSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FlexiModalError } from '../errors.js';
import { removeStaleTempFiles, tempPathFor, writeFileAtomic } from '../io/atomicWrite.js';
import { onInterrupt } from '../io/interrupt.js';
import { OWNED_LEDGER, OwnedOutputDir, clearOwned, readLedger, samplePaths } from '../io/ownedOutput.js';

export const LOCK_FILE = '.fleximodal.lock';
export const INCOMPLETE_FILE = 'INCOMPLETE';
const CHECKPOINTS = 'checkpoints';
const IDENTITY_FILE = 'run.json';
const PROGRESS_FILE = 'progress.json';
const DATA_HASHES_FILE = 'data-hashes.json';

/** How to treat an existing output directory. */
export type RunDirMode = 'new' | 'overwrite' | 'resume';

export interface OpenRunOptions {
  mode: RunDirMode;
  /** What defines the run (e.g. its config and seeds): a resume must be started with the same. */
  identity: unknown;
  /** The command-line flag that names the directory, for messages (default `--out`). */
  flag?: string;
  log?: (line: string) => void;
  /** The command writing the run (recorded in the ownership ledger; default 'train'). */
  command?: string;
  /** With 'overwrite': also delete entries fleximodal did not write (`--overwrite-foreign`). */
  overwriteForeign?: boolean;
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/** Whether the process `pid` on this host is alive (EPERM: it exists but belongs to someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the directory's lock, replacing a stale one; throws when a live process holds it. */
function acquireLock(dir: string, flag: string, log: (l: string) => void): string {
  const lock = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const tmp = tempPathFor(lock);
  writeFileAtomic(tmp, JSON.stringify(info) + '\n');
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, lock); // atomic: fails with EEXIST when another process holds the lock
        return lock;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let held: Partial<LockInfo> = {};
      try {
        held = JSON.parse(readFileSync(lock, 'utf8')) as LockInfo;
      } catch {
        // unreadable lock: treated as stale below
      }
      const sameHost = held.host === hostname();
      const alive = typeof held.pid === 'number' && (held.pid === process.pid || (sameHost ? processAlive(held.pid) : true));
      if (alive) {
        throw new FlexiModalError(`another fleximodal process (pid ${held.pid} on ${held.host}, started ${held.startedAt}) is writing this run directory`, {
          where: `${flag} ${dir}`,
          hint: `wait for it to finish or choose another ${flag}; if that process no longer exists, delete ${lock}`,
        });
      }
      log(`run directory: removing the stale lock of process ${held.pid ?? '?'} (no longer running)`);
      rmSync(lock, { force: true });
    }
    throw new FlexiModalError('could not take the run-directory lock (another process raced for it)', { where: `${flag} ${dir}`, hint: 'retry' });
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** An interrupted run written before the ownership ledger (marker and identity file): --resume may continue it. */
function looksLikeLegacyRun(dir: string): boolean {
  return existsSync(join(dir, INCOMPLETE_FILE)) && existsSync(join(dir, CHECKPOINTS, IDENTITY_FILE));
}

/** The first key path where two JSON values differ (e.g. `config.train.lr`), or null. */
function firstDifference(a: unknown, b: unknown, path: string): string | null {
  if (a === b) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return path || '(root)';
}

/** An open, locked run directory. Call {@link complete} after the last output, {@link release} on failure. */
export class RunDirectory {
  private released = false;

  private constructor(
    readonly dir: string,
    /** True when an interrupted run is being continued. */
    readonly resumed: boolean,
    private readonly lock: string,
    /** The ownership ledger of the directory (src/io/ownedOutput.ts). */
    readonly owned: OwnedOutputDir,
    private readonly forgetInterruptNote: () => void = () => {},
  ) {}

  /** Open `dir` for writing a run in `opts.mode` (see the module comment). */
  static open(dirArg: string, opts: OpenRunOptions): RunDirectory {
    const flag = opts.flag ?? '--out';
    const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
    const dir = resolve(dirArg);
    if (existsSync(dir) && !statSync(dir).isDirectory()) {
      throw new FlexiModalError('exists and is not a directory', { where: `${flag} ${dirArg}`, hint: `choose a directory path for ${flag}` });
    }
    mkdirSync(dir, { recursive: true });
    const lock = acquireLock(dir, flag, log);
    let owned: OwnedOutputDir | undefined;
    try {
      const entries = readdirSync(dir).filter((e) => e !== LOCK_FILE);
      let resumed = false;
      let ownedMode: RunDirMode = opts.mode;
      if (entries.length > 0 && opts.mode === 'resume') {
        if (!readLedger(dir) && !looksLikeLegacyRun(dir)) {
          throw new FlexiModalError(`not a fleximodal run directory (no ${OWNED_LEDGER} and no ${INCOMPLETE_FILE}; it holds ${samplePaths(entries, 3)}); refusing to resume into it`, {
            where: `${flag} ${dirArg}`,
            hint: `choose another ${flag}`,
          });
        }
        resumed = RunDirectory.checkResumable(dir, dirArg, flag, opts.identity, log, opts.overwriteForeign);
        if (!resumed) ownedMode = 'new'; // cleared: the interrupted run had not started training
      } else if (opts.mode === 'resume') {
        log(`run directory: ${dir} is empty, nothing to resume; starting a new run`);
        ownedMode = 'new';
      }
      // 'new' refuses a non-empty directory; 'overwrite' removes only what fleximodal wrote (src/io/ownedOutput.ts)
      owned = OwnedOutputDir.open(dir, { command: opts.command ?? 'train', mode: ownedMode, overwriteForeign: opts.overwriteForeign, flag, log });
      writeFileAtomic(
        join(dir, INCOMPLETE_FILE),
        `This run directory is incomplete: a fleximodal run (pid ${process.pid}, ${new Date().toISOString()}) is writing it, or was interrupted.\n` +
          'Its files may describe an unfinished run; evaluate, predict and compare --run refuse it.\n' +
          'Continue it with `fleximodal train --resume --out <this directory>` (same config), or start over with --overwrite.\n',
      );
      if (!resumed) writeFileAtomic(join(dir, CHECKPOINTS, IDENTITY_FILE), JSON.stringify(opts.identity, null, 2) + '\n');
      const command = opts.command ?? 'train';
      log(`run directory: ${dir}${resumed ? ' (resumed)' : ''}; if interrupted, continue with \`fleximodal ${command} --resume ${flag} ${dirArg}\` (same config, --set and --seeds)`);
      const dropLock = () => rmSync(lock, { force: true }); // process.exit (an interrupt) skips release()
      const forgetLock = onProcessExit(dropLock);
      const forgetNote = onInterrupt(
        () => `${dir}: kept as an interrupted run (${INCOMPLETE_FILE} marker; finished seeds and checkpoints in ${CHECKPOINTS}/). Continue it with \`fleximodal ${command} --resume ${flag} ${dirArg}\` and the same config, --set and --seeds, or start over with --overwrite.`,
      );
      const forget = () => {
        forgetNote();
        forgetLock();
      };
      return new RunDirectory(dir, resumed, lock, owned, forget);
    } catch (e) {
      owned?.close();
      rmSync(lock, { force: true });
      throw e;
    }
  }

  /** --resume on a non-empty run directory: true when it can be continued; throws when it cannot. */
  private static checkResumable(dir: string, dirArg: string, flag: string, identity: unknown, log: (l: string) => void, overwriteForeign?: boolean): boolean {
    if (!existsSync(join(dir, INCOMPLETE_FILE))) {
      throw new FlexiModalError('the run in this directory is complete: there is nothing to resume', {
        where: `${flag} ${dirArg}`,
        hint: `use --overwrite to train again into it, or choose another ${flag}`,
      });
    }
    const identityPath = join(dir, CHECKPOINTS, IDENTITY_FILE);
    if (!existsSync(identityPath)) {
      log(`run directory: the interrupted run had not started training (no ${CHECKPOINTS}/${IDENTITY_FILE}); starting over`);
      clearOwned(dir, { overwriteForeign, flag, log });
      return false;
    }
    const saved = JSON.parse(readFileSync(identityPath, 'utf8')) as unknown;
    const diff = firstDifference(saved, JSON.parse(JSON.stringify(identity)), '');
    if (diff) {
      throw new FlexiModalError(`the interrupted run was started with a different ${diff.startsWith('config') ? 'config' : 'setting'}: ${diff} differs`, {
        where: `${flag} ${dirArg} (${identityPath})`,
        hint: 'resume with the same config, --set overrides and --seeds, or start over with --overwrite',
      });
    }
    const removed = removeStaleTempFiles(dir);
    const finished = new RunDirectoryProgress(dir).finishedSeeds();
    log(`run directory: resuming the interrupted run in ${dir}${finished.length ? ` (seeds finished: ${finished.join(', ')})` : ''}${removed ? `; removed ${removed} partial file(s)` : ''}`);
    return true;
  }

  /**
   * The data files (path → sha256) this run reads: recorded at the start of a new run; on a resume
   * compared with the recorded ones, refusing (naming the file) when one changed, is missing or is new,
   * so a resumed model is never trained on two datasets.
   */
  checkDataHashes(hashes: Record<string, string>): void {
    const path = join(this.dir, CHECKPOINTS, DATA_HASHES_FILE);
    if (!this.resumed || !existsSync(path)) {
      writeFileAtomic(path, JSON.stringify(hashes, null, 2) + '\n');
      return;
    }
    const saved = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    for (const [file, sha] of Object.entries(saved)) {
      const now = hashes[file];
      if (now === sha) continue;
      throw new FlexiModalError(
        now === undefined
          ? `the interrupted run read ${file}, which this run does not read`
          : `${file} changed since the interrupted run started (sha256 ${sha.slice(0, 12)}… then, ${now.slice(0, 12)}… now): resuming would train one model on two datasets`,
        { where: `${file} (recorded in ${path})`, hint: 'restore the original data and resume, or start over with --overwrite' },
      );
    }
    const added = Object.keys(hashes).filter((f) => !(f in saved));
    if (added.length) {
      throw new FlexiModalError(`this run reads ${added.join(', ')}, which the interrupted run did not read`, {
        where: `${added[0]} (recorded data in ${path})`,
        hint: 'resume with the same data, or start over with --overwrite',
      });
    }
  }

  /** The checkpoint file of one trained model (a seed's model or one ensemble member). */
  checkpointPath(seed: number, memberSeed: number): string {
    return join(this.dir, CHECKPOINTS, `seed-${seed}`, `member-seed-${memberSeed}.safetensors`);
  }

  /** Record that every output of `seed` is written. */
  markSeedFinished(seed: number): void {
    new RunDirectoryProgress(this.dir).add(seed);
  }

  /** Seeds whose outputs were written (by this or an interrupted earlier process). */
  finishedSeeds(): number[] {
    return new RunDirectoryProgress(this.dir).finishedSeeds();
  }

  /** Every output is written: remove the marker and the checkpoints, release the lock. */
  complete(): void {
    rmSync(join(this.dir, INCOMPLETE_FILE), { force: true });
    rmSync(join(this.dir, CHECKPOINTS), { recursive: true, force: true });
    this.release();
  }

  /** Release the lock (after a failure the marker and checkpoints stay for --resume). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.owned.close();
    this.forgetInterruptNote();
    rmSync(this.lock, { force: true });
  }
}

/** `checkpoints/progress.json`: which seeds are finished. */
class RunDirectoryProgress {
  private readonly path: string;
  constructor(dir: string) {
    this.path = join(dir, CHECKPOINTS, PROGRESS_FILE);
  }
  finishedSeeds(): number[] {
    if (!existsSync(this.path)) return [];
    return (JSON.parse(readFileSync(this.path, 'utf8')) as { finishedSeeds: number[] }).finishedSeeds;
  }
  add(seed: number): void {
    const seeds = [...new Set([...this.finishedSeeds(), seed])];
    writeFileAtomic(this.path, JSON.stringify({ finishedSeeds: seeds }) + '\n');
  }
}

/**
 * Throw when `dir` (a run directory, or a model directory inside one: `model/`, `seeds/<s>/model`)
 * belongs to a run that is still being written or was interrupted (it or an ancestor up to three
 * levels has an `INCOMPLETE` marker).
 */
export function assertRunComplete(dirArg: string): void {
  let dir = resolve(dirArg);
  for (let level = 0; level < 4; level++) {
    const marker = join(dir, INCOMPLETE_FILE);
    if (existsSync(marker)) {
      throw new FlexiModalError('belongs to an incomplete run (training is still running or was interrupted), so its files may not match one another', {
        where: `${dirArg} (marker ${marker})`,
        hint: `wait for the run to finish, or continue it with \`fleximodal train --resume --out ${dir}\` (same config)`,
      });
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
}

/** Open `dir` as a run directory, run `fn` in it, mark it complete on success; the lock is released either way. */
export async function withRunDirectory<T>(dir: string, opts: OpenRunOptions, fn: (run: RunDirectory) => Promise<T>): Promise<T> {
  const run = RunDirectory.open(dir, opts);
  try {
    const result = await fn(run);
    run.complete();
    return result;
  } finally {
    run.release();
  }
}

/** Whether `dir` holds a finished run (metrics.json written, no INCOMPLETE marker). */
export function isCompleteRun(dir: string): boolean {
  return existsSync(join(dir, 'metrics.json')) && !existsSync(join(dir, INCOMPLETE_FILE));
}

/**
 * A run directory (`train --out`, `compare --out`) that is safe against re-runs, concurrent
 * writers and kills:
 *   - an existing non-empty directory is refused unless the run starts over (`--overwrite`,
 *     which clears it first) or continues (`--resume`);
 *   - a lock file (`.fleximodal.lock`, holding pid and host) refuses a second writer; a lock left
 *     by a dead process on this host is detected and replaced;
 *   - an `INCOMPLETE` marker exists from the start until every output is written; `evaluate`,
 *     `predict` and `compare --run` refuse a directory that has it (see {@link assertRunComplete});
 *   - training checkpoints live in `checkpoints/` (removed when the run completes), beside
 *     `checkpoints/run.json` (the config and seeds the run was started with: a resume must match).
 */
import { existsSync, linkSync, readFileSync, readdirSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FlexiModalError } from '../errors.js';
import { removeStaleTempFiles, tempPathFor, writeFileAtomic } from '../io/atomicWrite.js';

export const LOCK_FILE = '.fleximodal.lock';
export const INCOMPLETE_FILE = 'INCOMPLETE';
const CHECKPOINTS = 'checkpoints';
const IDENTITY_FILE = 'run.json';
const PROGRESS_FILE = 'progress.json';

/** How to treat an existing output directory. */
export type RunDirMode = 'new' | 'overwrite' | 'resume';

export interface OpenRunOptions {
  mode: RunDirMode;
  /** What defines the run (e.g. its config and seeds): a resume must be started with the same. */
  identity: unknown;
  /** The command-line flag that names the directory, for messages (default `--out`). */
  flag?: string;
  log?: (line: string) => void;
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

/** Whether `dir` holds what a fleximodal run writes (so that --overwrite may clear it). */
function looksLikeRun(dir: string): boolean {
  return ['manifest.json', 'compare.json', INCOMPLETE_FILE, join(CHECKPOINTS, IDENTITY_FILE), 'metrics.json'].some((f) => existsSync(join(dir, f)));
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
    try {
      const entries = readdirSync(dir).filter((e) => e !== LOCK_FILE);
      let resumed = false;
      if (entries.length > 0) {
        const sample = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '');
        if (opts.mode === 'new') {
          throw new FlexiModalError(`the output directory is not empty (${entries.length} entries: ${sample})`, {
            where: `${flag} ${dirArg}`,
            hint: `pass --overwrite to clear it and start over, --resume to continue an interrupted run, or choose another ${flag}`,
          });
        }
        if (!looksLikeRun(dir)) {
          throw new FlexiModalError(`not a fleximodal run directory (no manifest.json, metrics.json or ${INCOMPLETE_FILE}; it holds ${sample}); refusing to ${opts.mode === 'overwrite' ? 'delete' : 'resume into'} it`, {
            where: `${flag} ${dirArg}`,
            hint: `choose another ${flag}, or empty the directory yourself`,
          });
        }
        if (opts.mode === 'overwrite') {
          for (const e of entries) rmSync(join(dir, e), { recursive: true, force: true });
          log(`run directory: cleared ${dir} (--overwrite)`);
        } else {
          resumed = RunDirectory.checkResumable(dir, dirArg, flag, opts.identity, log);
        }
      } else if (opts.mode === 'resume') {
        log(`run directory: ${dir} is empty, nothing to resume; starting a new run`);
      }
      writeFileAtomic(
        join(dir, INCOMPLETE_FILE),
        `This run directory is incomplete: a fleximodal run (pid ${process.pid}, ${new Date().toISOString()}) is writing it, or was interrupted.\n` +
          'Its files may describe an unfinished run; evaluate, predict and compare --run refuse it.\n' +
          'Continue it with `fleximodal train --resume --out <this directory>` (same config), or start over with --overwrite.\n',
      );
      if (!resumed) writeFileAtomic(join(dir, CHECKPOINTS, IDENTITY_FILE), JSON.stringify(opts.identity, null, 2) + '\n');
      return new RunDirectory(dir, resumed, lock);
    } catch (e) {
      rmSync(lock, { force: true });
      throw e;
    }
  }

  /** --resume on a non-empty run directory: true when it can be continued; throws when it cannot. */
  private static checkResumable(dir: string, dirArg: string, flag: string, identity: unknown, log: (l: string) => void): boolean {
    if (!existsSync(join(dir, INCOMPLETE_FILE))) {
      throw new FlexiModalError('the run in this directory is complete: there is nothing to resume', {
        where: `${flag} ${dirArg}`,
        hint: `use --overwrite to train again into it, or choose another ${flag}`,
      });
    }
    const identityPath = join(dir, CHECKPOINTS, IDENTITY_FILE);
    if (!existsSync(identityPath)) {
      log(`run directory: the interrupted run had not started training (no ${CHECKPOINTS}/${IDENTITY_FILE}); starting over`);
      for (const e of readdirSync(dir).filter((x) => x !== LOCK_FILE)) rmSync(join(dir, e), { recursive: true, force: true });
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

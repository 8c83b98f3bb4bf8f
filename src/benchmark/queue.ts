/**
 * Benchmark cells on a BullMQ (Redis) queue.
 *
 * Coordinator (`fleximodal benchmark --queue redis://…`): enqueues every cell that is not finished
 * in DIR as a job whose id is derived from the cell id (so re-enqueueing is a no-op), waits for the
 * jobs, and writes each returned run directory into DIR/cells/… — once: a cell whose directory is
 * already complete is never written again (idempotent completion by cell id), however many times
 * its job completed.
 *
 * Worker (`fleximodal worker --queue redis://…`): takes jobs, runs each cell in a child process
 * (its event loop stays free to renew the job lock) into a temporary directory, and returns the
 * run directory as a tar payload. A worker killed mid-cell stops renewing its lock; BullMQ's
 * stalled-job check moves the job back to the queue and another worker runs it from the start.
 * Data paths in the cells are absolute: workers need the data at the same paths.
 */
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { FlexiModalError } from '../errors.js';
import { isCompleteRun } from '../run/runDirectory.js';
import { CellChild } from './cellChild.js';
import type { CellResult } from './cellRun.js';
import { cellDir, type CellSpec } from './plan.js';
import { packDirectory, unpackDirectory } from './runDirPayload.js';

/** Default queue name. */
export const QUEUE_NAME = 'fleximodal-benchmark';

/** A job's data. */
interface CellJobData {
  cell: CellSpec;
}

/** A job's return value: the cell's result and its run directory (base64 tar). */
interface CellJobResult extends CellResult {
  archive: string;
  worker: string;
}

/** BullMQ job id of a cell (no ':' allowed in custom ids). */
export function jobIdOf(cellId: string): string {
  return `cell__${cellId.replace(/[:/]/g, '__')}`;
}

/** A Redis connection for BullMQ from `redis://host:port[/db]`; errors name the option. */
export function redisConnection(url: string): Redis {
  if (!/^rediss?:\/\//.test(url)) throw new FlexiModalError(`'${url}' is not a redis:// URL`, { where: '--queue', hint: 'e.g. --queue redis://127.0.0.1:6379' });
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

export interface QueueRunOptions {
  url: string;
  queueName?: string;
  rerun?: ReadonlySet<string>;
  onResult?: (r: CellResult, done: number, total: number) => void;
  log?: (line: string) => void;
  /** Poll interval (ms) of job states. */
  pollMs?: number;
}

/** Write a returned run directory into DIR/cells/… unless that cell is already complete there (then: false). */
export async function acceptCellPayload(outDir: string, cellId: string, archive: Buffer, replace: boolean): Promise<boolean> {
  const dir = cellDir(outDir, cellId);
  if (!replace && isCompleteRun(dir)) return false;
  const incoming = `${dir}.incoming-${process.pid}`;
  rmSync(incoming, { recursive: true, force: true });
  await unpackDirectory(archive, incoming);
  if (!isCompleteRun(incoming)) {
    rmSync(incoming, { recursive: true, force: true });
    throw new FlexiModalError(`the payload of cell ${cellId} is not a complete run directory`, { where: `job ${jobIdOf(cellId)}`, hint: 'the worker returned an unfinished run; rerun the cell' });
  }
  // the one clearing call: this cell's own directory, replaced by the returned one
  rmSync(dir, { recursive: true, force: true });
  renameSync(incoming, dir);
  return true;
}

/** Coordinator: run `cells` on queue workers, writing their run directories under `outDir`. */
export async function runCellsOnQueue(cells: CellSpec[], outDir: string, o: QueueRunOptions): Promise<CellResult[]> {
  const log = o.log ?? (() => {});
  const connection = redisConnection(o.url);
  const queue = new Queue<CellJobData, CellJobResult>(o.queueName ?? QUEUE_NAME, { connection });
  const results = new Map<string, CellResult>();
  const record = (r: CellResult) => {
    if (results.has(r.id)) return; // a cell is counted once
    results.set(r.id, r);
    o.onResult?.(r, results.size, cells.length);
  };
  try {
    const pending = new Map<string, CellSpec>();
    for (const cell of cells) {
      const replace = o.rerun?.has(cell.id) ?? false;
      if (cell.invalid) record({ id: cell.id, status: 'failed', error: cell.invalid, seconds: 0 });
      else if (!replace && isCompleteRun(cellDir(outDir, cell.id))) record({ id: cell.id, status: 'cached', seconds: 0 });
      else {
        const jobId = jobIdOf(cell.id);
        const old = await queue.getJob(jobId);
        // a job of another benchmark with the same cell id (other config), a failed one, or --only: start afresh
        if (old && (replace || JSON.stringify(old.data.cell.config) !== JSON.stringify(cell.config) || (await old.isFailed()))) await old.remove();
        await queue.add('cell', { cell }, { jobId, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnFail: false, removeOnComplete: false });
        pending.set(cell.id, cell);
      }
    }
    log(`queue ${o.queueName ?? QUEUE_NAME} at ${o.url}: ${pending.size} cell job(s) enqueued; start workers with \`fleximodal worker --queue ${o.url}\``);
    while (pending.size) {
      for (const [id, cell] of [...pending]) {
        const job = await queue.getJob(jobIdOf(id));
        if (!job) {
          record({ id, status: 'failed', error: `job ${jobIdOf(id)} disappeared from the queue`, seconds: 0 });
          pending.delete(id);
          continue;
        }
        const state = await job.getState();
        if (state === 'completed') {
          const rv = job.returnvalue as CellJobResult;
          const written = await acceptCellPayload(outDir, id, Buffer.from(rv.archive, 'base64'), o.rerun?.has(id) ?? false);
          if (!written) log(`cell ${id}: already complete in ${outDir}; the returned copy was not written again`);
          record({ id, status: rv.status === 'cached' ? 'cached' : 'done', seconds: rv.seconds, ...(rv.error ? { error: rv.error } : {}) });
          pending.delete(id);
        } else if (state === 'failed') {
          record({ id, status: 'failed', error: job.failedReason || 'failed on the worker', seconds: 0 });
          pending.delete(id);
        }
        void cell;
      }
      if (pending.size) await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
  return cells.map((c) => results.get(c.id)!).filter(Boolean);
}

export interface WorkerOptions {
  url: string;
  queueName?: string;
  /** Cells run at the same time (one child process each). */
  concurrency?: number;
  /** Temporary run directories (default: the OS temp dir). */
  workDir?: string;
  /** Job lock duration (ms): a worker silent for this long is considered dead. */
  lockMs?: number;
  /** How often stalled jobs are looked for (ms). */
  stalledMs?: number;
  log?: (line: string) => void;
}

/** Start a queue worker; resolves with a handle whose `close()` stops it. */
export async function startWorker(o: WorkerOptions): Promise<{ close: () => Promise<void>; worker: Worker }> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const connection = redisConnection(o.url);
  const idle: CellChild[] = [];
  const all: CellChild[] = [];
  const base = mkdtempSync(join(o.workDir ?? tmpdir(), 'fleximodal-worker-'));
  const name = `pid ${process.pid}`;
  const processor = async (job: Job<CellJobData, CellJobResult>): Promise<CellJobResult> => {
    const child = idle.pop() ?? (all.push(new CellChild(join(base, `child-${all.length + 1}.log`))), all[all.length - 1]!);
    const work = mkdtempSync(join(base, 'cell-'));
    try {
      const cell = job.data.cell;
      log(`${name}: cell ${cell.id} (attempt ${job.attemptsMade + 1})`);
      const r = await child.run(cell, join(work, 'run'), false, join(work, 'cell.log'));
      if (r.status === 'failed') throw new Error(r.error ?? 'the cell failed');
      const archive = await packDirectory(join(work, 'run'));
      log(`${name}: cell ${cell.id} ${r.status} (${r.seconds.toFixed(1)} s, ${archive.length} bytes returned)`);
      return { ...r, archive: archive.toString('base64'), worker: name };
    } finally {
      idle.push(child);
      rmSync(work, { recursive: true, force: true });
    }
  };
  const worker = new Worker<CellJobData, CellJobResult>(o.queueName ?? QUEUE_NAME, processor, {
    connection,
    concurrency: o.concurrency ?? 1,
    lockDuration: o.lockMs ?? 30_000,
    stalledInterval: o.stalledMs ?? 15_000,
    maxStalledCount: 3,
  });
  worker.on('error', (e) => log(`${name}: queue error: ${e.message}`));
  await worker.waitUntilReady();
  log(`${name}: waiting for benchmark cells on ${o.url} (queue ${o.queueName ?? QUEUE_NAME}, concurrency ${o.concurrency ?? 1})`);
  return {
    worker,
    close: async () => {
      await worker.close();
      all.forEach((c) => c.stop());
      connection.disconnect();
      if (existsSync(base)) rmSync(base, { recursive: true, force: true });
    },
  };
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { runBenchmark, type BenchmarkOptions } from '../../src/benchmark/benchmark.js';
import { acceptCellPayload } from '../../src/benchmark/queue.js';
import { packDirectory } from '../../src/benchmark/runDirPayload.js';
import { cellDir } from '../../src/benchmark/plan.js';
import type { Leaderboard } from '../../src/benchmark/leaderboard.js';

const REDIS = '/usr/bin/redis-server';
const cli = resolve('dist/src/cli/main.js');

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The same tiny suite for the local and the queued run (1 thread per cell in both). */
function tiny(out: string, extra: Partial<BenchmarkOptions> = {}): BenchmarkOptions {
  return { suite: 'quick', datasets: ['synthetic'], methods: ['late-fusion', 'fusemoe-softmax'], protocols: ['natural'], seeds: [1], epochs: 1, syntheticN: 240, bootstrapReps: 200, workers: '2', out, log: () => {}, createdAt: 'fixed', ...extra };
}

const boardsOf = (dir: string) => {
  const lb = JSON.parse(readFileSync(join(dir, 'leaderboard.json'), 'utf8')) as Leaderboard;
  return { cells: { ...lb.cells }, boards: lb.boards.map((b) => ({ ...b, methods: b.methods.map((m) => ({ ...m, secondsPerCell: null })) })) };
};

test('queue: two workers, one killed with kill -9 mid-cell; the leaderboard equals the local one', { timeout: 240_000 }, async (t) => {
  if (!existsSync(REDIS)) {
    console.log(`# skipped: ${REDIS} is not installed (Debian package redis-server)`);
    t.skip(`${REDIS} is not installed`);
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'fm-queue-'));
  const procs: ChildProcess[] = [];
  t.after(() => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });
  const port = await freePort();
  const redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  procs.push(redis);
  const url = `redis://127.0.0.1:${port}`;
  const ping = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  ping.on('error', () => {}); // refused until redis-server listens: retried below
  await waitFor(async () => {
    try {
      if (ping.status !== 'ready') await ping.connect();
      return (await ping.ping()) === 'PONG';
    } catch {
      ping.disconnect();
      return false;
    }
  }, 10_000, 'redis-server');
  ping.disconnect();

  // reference: the same cells run locally
  const local = join(tmp, 'local');
  await runBenchmark(tiny(local));

  // two workers with short locks, so a killed worker's job is taken for stalled within seconds
  const logs: string[] = ['', ''];
  const workers = [0, 1].map((i) => {
    const w = spawn(process.execPath, [cli, 'worker', '--queue', url, '--lock-ms', '2000', '--stalled-ms', '1000', '--work-dir', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
    w.stderr!.on('data', (c: Buffer) => (logs[i] += c.toString()));
    procs.push(w);
    return w;
  });
  await waitFor(() => logs.every((l) => /waiting for benchmark cells/.test(l)), 30_000, 'both workers');

  const queued = join(tmp, 'queued');
  const coordinator = runBenchmark(tiny(queued, { queue: url }));
  // kill worker 1 with SIGKILL as soon as it is in the middle of a cell
  await waitFor(() => /: cell \S+ \(attempt 1\)/.test(logs[0]!), 60_000, 'worker 1 to take a cell');
  const killedCell = /: cell (\S+) \(attempt 1\)/.exec(logs[0]!)![1]!;
  await new Promise((r) => setTimeout(r, 1500));
  assert.doesNotMatch(logs[0]!, new RegExp(`cell ${killedCell.replace(/[/]/g, '\\/')} done`), 'worker 1 was still inside the cell');
  workers[0]!.kill('SIGKILL');
  const result = await coordinator;

  // the killed worker's cell was run again by the other worker, and every cell counted once
  assert.match(logs[1]!, new RegExp(`cell ${killedCell.replace(/[/]/g, '\\/')} \\(attempt`));
  assert.deepEqual(result.results.map((r) => r.id).sort(), ['synthetic/natural/fusemoe-softmax/seed-1', 'synthetic/natural/late-fusion/seed-1']);
  assert.ok(result.results.every((r) => r.status === 'done'));
  assert.deepEqual(boardsOf(queued), boardsOf(local));

  // a second completion of a finished cell is not written again (idempotent by cell id)
  const dir = cellDir(queued, killedCell);
  const before = statSync(join(dir, 'metrics.json')).mtimeMs;
  assert.equal(await acceptCellPayload(queued, killedCell, await packDirectory(cellDir(local, killedCell)), false), false);
  assert.equal(statSync(join(dir, 'metrics.json')).mtimeMs, before);

  workers[1]!.kill('SIGTERM');
  await waitFor(() => workers[1]!.exitCode !== null || workers[1]!.signalCode !== null, 10_000, 'worker 2 to stop');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runBenchmark } from '../../src/benchmark/benchmark.js';
import { cellDir } from '../../src/benchmark/plan.js';

const cli = resolve('dist/src/cli/main.js');

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a benchmark killed with kill -9 mid-cell resumes: the cell continues from its checkpoint, finished cells are kept', { timeout: 240_000 }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'fm-bench-resume-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const args = ['benchmark', '--datasets', 'synthetic', '--methods', 'late-fusion', '--protocols', 'natural', '--seeds', '1', '--epochs', '3', '--workers', '1', '--bootstrap-reps', '50', '--out', out];
  const bench = spawn(process.execPath, [cli, ...args], { stdio: 'ignore', env: { ...process.env } });
  const log = join(out, 'logs', 'synthetic__natural__late-fusion__seed-1.log');
  await waitFor(() => existsSync(log) && /seed 1 epoch 1:/.test(readFileSync(log, 'utf8')), 120_000, 'the cell’s first epoch');
  const childPid = Number(/\(pid (\d+),/.exec(readFileSync(log, 'utf8'))![1]);
  bench.kill('SIGKILL');
  // the orphaned cell process notices at its next epoch end and stops, leaving the cell resumable
  await waitFor(() => !alive(childPid), 120_000, 'the orphaned cell process to stop');
  const dir = cellDir(out, 'synthetic/natural/late-fusion/seed-1');
  assert.ok(existsSync(join(dir, 'INCOMPLETE')), 'the interrupted cell is marked incomplete');
  assert.ok(readdirSync(join(dir, 'checkpoints')).includes('seed-1'), 'with its checkpoint');
  assert.match(readFileSync(log, 'utf8'), /stopped: its parent process \d+ is gone/);

  const r = await runBenchmark({ datasets: ['synthetic'], methods: ['late-fusion'], protocols: ['natural'], seeds: [1], epochs: 3, workers: '1', bootstrapReps: 50, out, log: () => {} });
  assert.deepEqual(r.results.map((x) => x.status), ['done']);
  assert.match(readFileSync(log, 'utf8'), /resuming the interrupted run/);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  assert.equal(manifest.resumed, true);
  assert.equal(r.leaderboard.cells.finished, 1);
});

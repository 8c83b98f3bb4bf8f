/**
 * wasm threads under Node: a child process with threads=2 runs the reference MoE step and must
 * give bitwise the same losses as threads=1 (or fall back to 1 thread with a warning), and exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, 'threadsChild.js');

function run(threads: number, env: Record<string, string> = {}): { threadsUsed: number; losses: number[]; stderr: string } {
  const r = spawnSync(process.execPath, [script, String(threads)], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  assert.equal(r.status, 0, `child (threads=${threads}) exited with ${r.status}, signal ${r.signal}: ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no result from child: ${r.stdout} ${r.stderr}`);
  return { ...(JSON.parse(line.slice(7)) as { threadsUsed: number; losses: number[] }), stderr: r.stderr };
}

test('threads=2 gives bitwise-identical results to threads=1 and the process exits', () => {
  const one = run(1);
  const two = run(2);
  assert.equal(one.threadsUsed, 1);
  if (two.threadsUsed !== 2) {
    console.log(`# wasm threads unavailable here (ran with ${two.threadsUsed}); fallback checked`);
  }
  assert.deepEqual(two.losses, one.losses);
});

test('if threads cannot start, the engine warns and runs with 1 thread', () => {
  const one = run(1);
  const failed = run(2, { FLEXIMODAL_WASM_THREADS_FAIL: '1' });
  assert.equal(failed.threadsUsed, 1);
  assert.match(failed.stderr, /falling back to 1 thread/);
  assert.deepEqual(failed.losses, one.losses);
});

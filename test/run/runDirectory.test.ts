import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunDirectory, assertRunComplete, withRunDirectory, LOCK_FILE, INCOMPLETE_FILE, isCompleteRun } from '../../src/run/runDirectory.js';
import { writeFileAtomic, removeStaleTempFiles, tempPathFor } from '../../src/io/atomicWrite.js';
import { FlexiModalError } from '../../src/errors.js';
import { OWNED_LEDGER } from '../../src/io/ownedOutput.js';
import { tempDirs } from '../helpers/tempDir.js';

const quiet = () => {};
const tmp = tempDirs('fm-rundir-');

function throwsWith(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FlexiModalError, String(e));
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" lacks "${f}"`);
    return true;
  });
}

test('a new run: INCOMPLETE and lock while open; complete() removes marker, checkpoints and lock', () => {
  const dir = join(tmp(), 'run');
  const run = RunDirectory.open(dir, { mode: 'new', identity: { a: 1 }, log: quiet });
  assert.ok(existsSync(join(dir, INCOMPLETE_FILE)));
  assert.ok(existsSync(join(dir, LOCK_FILE)));
  assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  throwsWith(() => assertRunComplete(join(dir, 'seeds', '1', 'model')), 'incomplete run', '--resume');
  writeFileAtomic(join(dir, 'metrics.json'), '{}');
  run.complete();
  assert.deepEqual(readdirSync(dir).sort(), [OWNED_LEDGER, 'metrics.json'].sort());
  assertRunComplete(dir);
  assert.ok(isCompleteRun(dir));
});

test('a non-empty --out is refused without --overwrite / --resume; --overwrite clears what the run wrote', () => {
  const dir = tmp();
  const first = RunDirectory.open(dir, { mode: 'new', identity: {}, log: quiet });
  writeFileAtomic(join(dir, 'metrics.json'), '{"old":1}');
  writeFileAtomic(join(dir, 'seeds', '7', 'split.json'), '{}');
  first.complete();
  throwsWith(() => RunDirectory.open(dir, { mode: 'new', identity: {}, log: quiet }), 'not empty', '--overwrite', '--resume');
  assert.ok(!existsSync(join(dir, LOCK_FILE)), 'a refused open releases the lock');
  const run = RunDirectory.open(dir, { mode: 'overwrite', identity: {}, log: quiet });
  assert.deepEqual(readdirSync(dir).sort(), [LOCK_FILE, INCOMPLETE_FILE, 'checkpoints', OWNED_LEDGER].sort());
  run.release();
});

test('--overwrite refuses to delete a directory that is not a run directory', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'thesis.tex'), 'precious');
  throwsWith(() => RunDirectory.open(dir, { mode: 'overwrite', identity: {}, log: quiet }), 'not a directory fleximodal wrote', 'thesis.tex', '--overwrite-foreign');
  assert.equal(readFileSync(join(dir, 'thesis.tex'), 'utf8'), 'precious');
});

test('a live lock refuses a second writer; a stale lock of a dead process is replaced', () => {
  const dir = tmp();
  const first = RunDirectory.open(dir, { mode: 'new', identity: {}, log: quiet });
  throwsWith(() => RunDirectory.open(dir, { mode: 'resume', identity: {}, log: quiet }), 'another fleximodal process', `pid ${process.pid}`);
  first.release();
  // a process that has exited: its pid is free
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid, host: hostname(), startedAt: 'earlier' }));
  const lines: string[] = [];
  const second = RunDirectory.open(dir, { mode: 'resume', identity: {}, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => l.includes(`stale lock of process ${deadPid}`)), lines.join('\n'));
  assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  second.release();
});

test('--resume: refuses another config (naming the key) and a complete run; removes partial temp files', async () => {
  const dir = tmp();
  const identity = { config: { train: { lr: 0.001 } }, seeds: [1] };
  const run = RunDirectory.open(dir, { mode: 'new', identity, log: quiet });
  run.markSeedFinished(1);
  writeFileSync(tempPathFor(join(dir, 'metrics.json')), 'half a file');
  run.release(); // "killed": marker and checkpoints stay
  throwsWith(() => RunDirectory.open(dir, { mode: 'resume', identity: { config: { train: { lr: 0.01 } }, seeds: [1] }, log: quiet }), 'config.train.lr differs');
  const lines: string[] = [];
  const resumed = RunDirectory.open(dir, { mode: 'resume', identity, log: (l) => lines.push(l) });
  assert.equal(resumed.resumed, true);
  assert.deepEqual(resumed.finishedSeeds(), [1]);
  assert.match(lines.join('\n'), /seeds finished: 1\); removed 1 partial file/);
  assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')));
  writeFileAtomic(join(dir, 'metrics.json'), '{}');
  resumed.complete();
  throwsWith(() => RunDirectory.open(dir, { mode: 'resume', identity, log: quiet }), 'complete', 'nothing to resume');
  // a failing run keeps its marker and releases its lock
  const dir2 = tmp();
  await assert.rejects(withRunDirectory(dir2, { mode: 'new', identity, log: quiet }, async () => { throw new Error('boom'); }), /boom/);
  assert.ok(existsSync(join(dir2, INCOMPLETE_FILE)) && !existsSync(join(dir2, LOCK_FILE)));
});

test('an --out that is a file is a clear error', () => {
  const f = join(tmp(), 'file');
  writeFileSync(f, 'x');
  throwsWith(() => RunDirectory.open(f, { mode: 'new', identity: {}, log: quiet }), 'not a directory');
});

test('writeFileAtomic replaces the file whole and leaves no temporary file', () => {
  const dir = tmp();
  const p = join(dir, 'sub', 'a.json');
  writeFileAtomic(p, 'one');
  writeFileAtomic(p, new Uint8Array([116, 119, 111]));
  assert.equal(readFileSync(p, 'utf8'), 'two');
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['a.json']);
  writeFileSync(tempPathFor(p), 'partial');
  assert.equal(removeStaleTempFiles(dir), 1);
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['a.json']);
});

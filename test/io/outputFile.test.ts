/**
 * Issue 19 §2: one output-file policy (src/io/outputFile.ts): regular files replaced atomically only
 * with overwrite; symlinks followed; FIFOs and character devices written as streams, never
 * replaced; block devices and directories refused; temp files removed on every failure path; the
 * ENOSPC message names the path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputFile, checkOutputFile, writeOutputFile } from '../../src/io/outputFile.js';
import { tempPathFor, writeFileAtomic } from '../../src/io/atomicWrite.js';
import { FlexiModalError } from '../../src/errors.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'fm-outfile-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function throwsWith(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FlexiModalError, String(e));
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" lacks "${f}"`);
    return true;
  });
}

test('a regular file: new → written; existing → refused without overwrite, replaced atomically with it', (t) => {
  const dir = tmp(t);
  const p = join(dir, 'sub', 'p.jsonl');
  writeOutputFile(p, 'one\n');
  assert.equal(readFileSync(p, 'utf8'), 'one\n');
  throwsWith(() => writeOutputFile(p, 'two\n'), 'exists', '--overwrite');
  const ino = statSync(p).ino;
  writeOutputFile(p, 'two\n', { overwrite: true });
  assert.equal(readFileSync(p, 'utf8'), 'two\n');
  assert.notEqual(statSync(p).ino, ino, 'replaced by rename, not rewritten in place');
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['p.jsonl']);
  throwsWith(() => checkOutputFile(dir), 'is a directory');
});

test('Seen §2: a symlink is followed — the link stays and its target gets the new content', (t) => {
  const dir = tmp(t);
  const target = join(dir, 'target.jsonl');
  writeFileSync(target, 'old\n');
  const link = join(dir, 'link.jsonl');
  symlinkSync(target, link);
  throwsWith(() => writeOutputFile(link, 'new\n'), 'exists');
  writeOutputFile(link, 'new\n', { overwrite: true });
  assert.ok(lstatSync(link).isSymbolicLink(), 'the symlink is not replaced');
  assert.equal(readFileSync(target, 'utf8'), 'new\n');
  symlinkSync(join(dir, 'nowhere', 'x'), join(dir, 'dangling'));
  throwsWith(() => checkOutputFile(join(dir, 'dangling')), 'symlink whose target does not exist');
});

test('Seen §2: a FIFO is written as a stream (its reader gets the data), never replaced by a file', async (t) => {
  const dir = tmp(t);
  const fifo = join(dir, 'pipe');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    console.log('# skipped: mkfifo not available');
    t.skip('mkfifo not available');
    return;
  }
  const reader = spawn('cat', [fifo]);
  let got = '';
  reader.stdout.on('data', (c: Buffer) => (got += c.toString()));
  const done = new Promise((res) => reader.on('close', res));
  assert.equal(checkOutputFile(fifo).kind, 'stream');
  writeOutputFile(fifo, 'line 1\nline 2\n'); // no --overwrite needed: nothing is replaced
  await done;
  assert.equal(got, 'line 1\nline 2\n');
  assert.ok(lstatSync(fifo).isFIFO(), 'still a FIFO');
  assert.deepEqual(readdirSync(dir), ['pipe']);
});

test('Seen §2: /dev/null and /dev/full are streamed, never replaced; ENOSPC names the path', { skip: !existsSync('/dev/full') && 'no /dev/full' }, () => {
  assert.equal(checkOutputFile('/dev/null').kind, 'stream');
  writeOutputFile('/dev/null', 'x\n');
  assert.ok(statSync('/dev/null').isCharacterDevice());
  const out = OutputFile.open('/dev/full');
  throwsWith(() => out.write('x'.repeat(1 << 16)), 'no space left on the device while writing /dev/full');
  assert.ok(statSync('/dev/full').isCharacterDevice(), '/dev/full is still the device');
});

test('a block device is refused', { skip: !existsSync('/dev/loop0') && 'no block device to test with' }, () => {
  const st = statSync('/dev/loop0');
  if (!st.isBlockDevice()) return;
  throwsWith(() => checkOutputFile('/dev/loop0'), 'block device', 'refusing');
});

test('temporary files are removed on every failure path: abort, a write error, process exit', async (t) => {
  const dir = tmp(t);
  const p = join(dir, 'p.jsonl');
  const a = OutputFile.open(p);
  a.write('half');
  a.abort();
  assert.deepEqual(readdirSync(dir), []);
  // a child killed by SIGINT while writing leaves no temporary file (exit hook); the child is an
  // entry point like the CLI: it hooks the library's exit cleanup to its own process
  const hooks = new URL('../../src/io/exitHooks.js', import.meta.url).href;
  const script = `Promise.all([import('${new URL('../../src/io/outputFile.js', import.meta.url).href}'), import('${hooks}')]).then(([{ OutputFile }, { runExitHooks }]) => { process.once('exit', runExitHooks); const o = OutputFile.open(${JSON.stringify(p)}); o.write('half'); process.on('SIGINT', () => process.exit(130)); process.stdout.write('ready\\n'); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
  await new Promise<void>((res) => child.stdout.once('data', () => res()));
  assert.equal(readdirSync(dir).length, 1, 'the temporary file exists while writing');
  child.kill('SIGINT');
  const code = await new Promise((res) => child.on('close', res));
  assert.equal(code, 130);
  assert.deepEqual(readdirSync(dir), [], 'no .tmp left behind');
});

test('writeFileAtomic: ENOSPC names the file being written, not its temporary name', { skip: !existsSync('/dev/full') && 'no /dev/full' }, (t) => {
  const dir = tmp(t);
  const p = join(dir, 'metrics.json');
  // the next temporary name writeFileAtomic picks for p is a symlink to /dev/full: its write fails with ENOSPC
  const n = Number(/\.(\d+)\.tmp$/.exec(tempPathFor(p))![1]);
  symlinkSync('/dev/full', join(dir, `.metrics.json.${process.pid}.${n + 1}.tmp`));
  let err: unknown;
  try {
    writeFileAtomic(p, 'x'.repeat(1 << 16));
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof FlexiModalError, String(err));
  assert.match((err as Error).message, new RegExp(`no space left on the device while writing ${p.replace(/[.]/g, '\\.')}`));
  assert.ok(!existsSync(p));
  assert.deepEqual(readdirSync(dir), [], 'the temporary name is gone');
});

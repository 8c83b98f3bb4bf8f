import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeCliError } from '../../src/cli/errorHandler.js';
import { resolveSetPaths } from '../../src/cli/setPaths.js';
import { applyOverride } from '../../src/config/parse.js';
import { FlexiModalError } from '../../src/errors.js';

test('error contract: known errors exit 2 with what/where/fix; EPIPE exits 0 quietly; anything else is one line + --verbose hint, exit 1', () => {
  const known = describeCliError(new FlexiModalError('bad thing', { where: 'f.jsonl:3', hint: 'fix it' }), false);
  assert.equal(known.exitCode, 2);
  assert.equal(known.text, 'error: f.jsonl:3: bad thing — Fix: fix it\n');
  const eisdir = Object.assign(new Error('EISDIR: illegal operation on a directory, open'), { code: 'EISDIR', path: 'runs', syscall: 'open' });
  const p = describeCliError(eisdir, false);
  assert.equal(p.exitCode, 2);
  assert.match(p.text, /^error: runs: is a directory \(open failed, EISDIR\)/);
  assert.deepEqual(describeCliError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), false), { text: '', exitCode: 0 });
  const other = describeCliError(new TypeError('x is not a function\nsecond line'), false);
  assert.equal(other.exitCode, 1);
  assert.equal(other.text, 'error: unexpected TypeError: x is not a function (re-run with --verbose for the stack trace)\n');
  const verbose = describeCliError(new TypeError('boom'), true);
  assert.match(verbose.text, /at .*errorContract/);
});

test('--set paths resolve against the working directory; other keys and config-file paths are untouched', () => {
  const raw = { data: { type: 'jsonl', path: 'in-config.jsonl' }, split: {} };
  const set = (a: string) => resolveSetPaths(applyOverride(raw, a), a, '/work/cwd') as typeof raw & { split: { file?: string } };
  assert.equal(set('data.path=sub/x.jsonl').data.path, '/work/cwd/sub/x.jsonl');
  assert.equal(set('data.path=/abs/x.jsonl').data.path, '/abs/x.jsonl');
  assert.equal(set('split.file=s.json').split.file, '/work/cwd/s.json');
  assert.deepEqual((set('data.records=["a","b"]').data as unknown as { records: string[] }).records, ['/work/cwd/a', '/work/cwd/b']);
  assert.equal(set('train.lr=0.1').data.path, 'in-config.jsonl');
});

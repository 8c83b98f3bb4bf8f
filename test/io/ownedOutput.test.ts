/**
 * Issue 19 §1: `--overwrite` deletes only what fleximodal wrote (src/io/ownedOutput.ts), and the
 * fuzz test: random directory trees (user files, run files, symlinks, FIFOs) at --out, cleared and
 * written by the owned-output rule, never lose or change a file fleximodal did not write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { OWNED_LEDGER, OwnedOutputDir, checkOwnedOpen, clearOwned, inspectOwned, readLedger } from '../../src/io/ownedOutput.js';
import { writeFileAtomic } from '../../src/io/atomicWrite.js';
import { RunDirectory } from '../../src/run/runDirectory.js';
import { FlexiModalError } from '../../src/errors.js';

const quiet = () => {};

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'fm-owned-'));
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

test('Seen §1: --overwrite on a project folder holding metrics.json, thesis.tex and src/main.py deletes nothing', (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'metrics.json'), '{"mine":true}');
  writeFileSync(join(dir, 'thesis.tex'), 'precious');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'main.py'), 'print(1)');
  throwsWith(() => RunDirectory.open(dir, { mode: 'overwrite', identity: {}, log: quiet }), 'not a directory fleximodal wrote', '--overwrite-foreign');
  assert.equal(readFileSync(join(dir, 'thesis.tex'), 'utf8'), 'precious');
  assert.equal(readFileSync(join(dir, 'src', 'main.py'), 'utf8'), 'print(1)');
  assert.equal(readFileSync(join(dir, 'metrics.json'), 'utf8'), '{"mine":true}');
  // only with the second, explicit flag
  const run = RunDirectory.open(dir, { mode: 'overwrite', identity: {}, log: quiet, overwriteForeign: true });
  run.release();
  assert.ok(!existsSync(join(dir, 'thesis.tex')));
});

test('Seen §1: on a genuine run directory, a file the user added (also inside model/) is named and kept', (t) => {
  const dir = tmp(t);
  const run = RunDirectory.open(dir, { mode: 'new', identity: {}, log: quiet });
  writeFileAtomic(join(dir, 'metrics.json'), '{}');
  writeFileAtomic(join(dir, 'model', 'model.json'), '{}');
  run.complete();
  const ledger = readLedger(dir)!;
  assert.equal(ledger.header.format, 'fleximodal-owned/1');
  assert.match(ledger.header.runId, /^[0-9a-f-]{36}$/);
  assert.ok(ledger.paths.has('metrics.json') && ledger.paths.has('model/model.json'));
  writeFileSync(join(dir, 'notes.txt'), 'my notes');
  writeFileSync(join(dir, 'model', 'README'), 'about this model');
  throwsWith(() => RunDirectory.open(dir, { mode: 'overwrite', identity: {}, log: quiet }), '2 entries were not written by fleximodal', 'model/README', 'notes.txt');
  assert.ok(existsSync(join(dir, 'metrics.json')), 'a refusal removes nothing');
  rmSync(join(dir, 'notes.txt'));
  rmSync(join(dir, 'model', 'README'));
  const again = RunDirectory.open(dir, { mode: 'overwrite', identity: {}, log: quiet });
  assert.ok(!existsSync(join(dir, 'metrics.json')) && !existsSync(join(dir, 'model')));
  assert.notEqual(readLedger(dir)!.header.runId, ledger.header.runId, 'a new run gets a new id');
  again.release();
});

test('a forged ledger line outside the directory and a symlinked folder are never followed', (t) => {
  const root = tmp(t);
  const dir = join(root, 'out');
  const outside = join(root, 'home');
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep.txt'), 'keep');
  const o = OwnedOutputDir.open(dir, { command: 'evaluate', mode: 'new' });
  writeFileAtomic(join(dir, 'metrics.json'), '{}');
  o.close();
  // a ledger naming ../home/keep.txt and a symlink model -> ../home listed as model/keep.txt
  writeFileSync(join(dir, OWNED_LEDGER), readFileSync(join(dir, OWNED_LEDGER), 'utf8') + JSON.stringify('../home/keep.txt') + '\n' + JSON.stringify('model/keep.txt') + '\n');
  symlinkSync(outside, join(dir, 'model'));
  const found = inspectOwned(dir);
  assert.deepEqual(found.owned, ['metrics.json']);
  assert.deepEqual(found.foreign, ['model']);
  throwsWith(() => clearOwned(dir), 'model');
  clearOwned(dir, { overwriteForeign: true });
  assert.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep', 'the symlink went, never its target');
  assert.ok(!existsSync(join(dir, 'model')));
});

test('nested owned directories (compare variants, <run>/finetune) are ours; checkOwnedOpen refuses before any change', (t) => {
  const dir = tmp(t);
  const outer = OwnedOutputDir.open(dir, { command: 'compare', mode: 'new' });
  const inner = OwnedOutputDir.open(join(dir, 'variants', 'a'), { command: 'train', mode: 'new' });
  writeFileAtomic(join(dir, 'variants', 'a', 'metrics.json'), '{}');
  inner.close();
  writeFileAtomic(join(dir, 'compare.json'), '{}');
  outer.close();
  assert.deepEqual(inspectOwned(dir).foreign, []);
  assert.ok(readLedger(dir)!.paths.has('variants/a/metrics.json'));
  throwsWith(() => checkOwnedOpen(dir, { command: 'compare', mode: 'new' }), 'not empty', '--overwrite');
  writeFileSync(join(dir, 'variants', 'a', 'mine.csv'), '1');
  throwsWith(() => checkOwnedOpen(dir, { command: 'compare', mode: 'overwrite' }), 'variants/a/mine.csv');
  assert.ok(existsSync(join(dir, 'compare.json')));
});

/** A random tree: user files, user symlinks (to files outside and to folders), user FIFOs, empty folders. */
interface Entry {
  path: string[];
  kind: 'file' | 'link' | 'dirlink' | 'fifo' | 'dir';
}
const name = fc.constantFrom('a', 'b', 'model', 'plots', 'seeds', 'metrics.json', 'summary.md', 'x.txt', 'checkpoints', 'data');
const entry = fc.record({ path: fc.array(name, { minLength: 1, maxLength: 3 }), kind: fc.constantFrom('file', 'file', 'link', 'dirlink', 'fifo', 'dir') }) as fc.Arbitrary<Entry>;
/** Files a run may write (relative paths). */
const runFile = fc.array(name, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));

function haveMkfifo(): boolean {
  try {
    execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Everything under `dir` that is not a directory: relative path → a fingerprint of what it is. */
function snapshot(dir: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  let entries;
  try {
    entries = readdirSync(join(dir, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    const p = join(dir, r);
    const st = lstatSync(p);
    if (e.isDirectory()) for (const [k, v] of snapshot(dir, r)) out.set(k, v);
    else if (st.isSymbolicLink()) out.set(r, `link:${readlinkSync(p)}`);
    else if (st.isFIFO()) out.set(r, `fifo:${st.ino}`);
    else out.set(r, `file:${st.ino}:${readFileSync(p, 'utf8')}`);
  }
  return out;
}

test('fuzz: random trees at --out — no file fleximodal did not write is ever removed or replaced', (t) => {
  const fifo = haveMkfifo();
  if (!fifo) console.log('# fuzz runs without FIFOs: mkfifo not found');
  const root = tmp(t);
  const outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'target.txt'), 'outside');
  let caseNo = 0;
  fc.assert(
    fc.property(
      fc.array(runFile, { maxLength: 6 }),
      fc.array(entry, { maxLength: 8 }),
      fc.constantFrom('overwrite', 'new', 'resume', 'reusable') as fc.Arbitrary<string>,
      fc.array(runFile, { maxLength: 4 }),
      (firstRun, userEntries, mode, secondRun) => {
        const dir = join(root, `case-${caseNo++}`);
        mkdirSync(dir);
        // 1. an earlier run writes its files (some paths may be impossible: a file where a folder is)
        const first = OwnedOutputDir.open(dir, { command: 'train', mode: 'new' });
        for (const f of firstRun) {
          try {
            writeFileAtomic(join(dir, f), `run:${f}`);
          } catch {
            // a path through one of the run's own files
          }
        }
        first.close();
        const ours = new Set(readLedger(dir)!.paths);
        // 2. the user adds things
        for (const e of userEntries) {
          const p = join(dir, ...e.path);
          try {
            mkdirSync(join(p, '..'), { recursive: true });
            if (existsSync(p) || lstatSafe(p)) continue;
            if (e.kind === 'file') writeFileSync(p, `user:${e.path.join('/')}`);
            else if (e.kind === 'link') symlinkSync(join(outside, 'target.txt'), p);
            else if (e.kind === 'dirlink') symlinkSync(outside, p);
            else if (e.kind === 'fifo' && fifo) execFileSync('mkfifo', [p]);
            else if (e.kind === 'dir') mkdirSync(p);
          } catch {
            // a path through a file
          }
        }
        const before = snapshot(dir);
        const userPaths = [...before.keys()].filter((k) => !ours.has(k) && !k.endsWith(OWNED_LEDGER));
        // 3. a second command opens it and writes (or is refused)
        try {
          const second =
            mode === 'reusable' ? OwnedOutputDir.openReusable(dir, 'simulate') : OwnedOutputDir.open(dir, { command: 'train', mode: mode as 'new' | 'overwrite' | 'resume', });
          for (const f of secondRun) {
            try {
              writeFileAtomic(join(dir, f), `second:${f}`);
            } catch (e) {
              // refused (a user's entry there or a symlink on the way), or a path through a file
              const code = (e as NodeJS.ErrnoException).code;
              assert.ok(e instanceof FlexiModalError || code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR', String(e));
            }
          }
          second.close();
        } catch (e) {
          assert.ok(e instanceof FlexiModalError, String(e));
        }
        // 4. every user entry is still there, unchanged; the outside target too
        const after = snapshot(dir);
        for (const u of userPaths) assert.equal(after.get(u), before.get(u), `user entry ${u} was removed or replaced (mode ${mode})`);
        assert.equal(readFileSync(join(outside, 'target.txt'), 'utf8'), 'outside');
        rmSync(dir, { recursive: true, force: true });
      },
    ),
    { seed: 19, numRuns: 120 },
  );
});

function lstatSafe(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

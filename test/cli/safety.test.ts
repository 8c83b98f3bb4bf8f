/**
 * Issue 19 regressions at the command line (in-process: the commander program is built from the
 * command registrations, errors go through the CLI's own error contract). Child processes only
 * where the exit code of the parser or a signal is the point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { registerTrainCommand } from '../../src/cli/train.js';
import { registerPredictCommand } from '../../src/cli/predict.js';
import { registerEvaluateCommand } from '../../src/cli/evaluate.js';
import { registerCompareCommand } from '../../src/cli/compare.js';
import { registerConvertCommand } from '../../src/cli/convert.js';
import { registerDemoCommand } from '../../src/cli/demo.js';
import { describeCliError } from '../../src/cli/errorHandler.js';
import { INCOMPLETE_FILE } from '../../src/run/runDirectory.js';
import { OWNED_LEDGER } from '../../src/io/ownedOutput.js';

const cliJs = resolve('dist/src/cli/main.js');
const root = mkdtempSync(join(tmpdir(), 'fm-safety-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `d${n++}`);

/** Run the CLI in this process; returns the exit code the CLI would use and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const program = new Command().exitOverride().option('--verbose');
  let out = '';
  let err = '';
  program.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  for (const register of [registerTrainCommand, registerPredictCommand, registerEvaluateCommand, registerCompareCommand, registerConvertCommand, registerDemoCommand]) register(program);
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  // stdout is also the test runner's channel to its parent: copy, never swallow
  process.stdout.write = ((s: string | Uint8Array, ...rest: unknown[]) => ((out += String(s)), (realOut as (...a: unknown[]) => boolean)(s, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'fleximodal', ...args]);
    return { code: 0, out, err };
  } catch (e) {
    const d = describeCliError(e, false);
    return { code: d.exitCode, out, err: err + d.text };
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
}

/** The last prediction line in captured stdout (which also carries the test runner's own messages). */
function lastPrediction(out: string): { probs: Record<string, number>; outOfRange?: { count: number; policy: string; variables: Record<string, number> } } {
  const lines = out.split('\n').map((l) => l.slice(Math.max(0, l.indexOf('{"id"')))).filter((l) => l.startsWith('{"id"'));
  assert.ok(lines.length, 'a prediction line was printed');
  return JSON.parse(lines.pop()!);
}

/** A tiny config: synthetic data, a small baseline, one epoch. */
const tinyConfig = (data: unknown = { type: 'synthetic', n: 80, seed: 2 }) => ({
  name: 'tiny',
  seeds: [1],
  data,
  split: { fractions: [0.6, 0.2, 0.2], seed: 0 },
  model: { type: 'baseline', d: 4, encoder: { kind: 'mtand', gamma: 2, dt: 4, heads: 1, embeddingGamma: 2 }, hidden: [4] },
  train: { epochs: 1, batchSize: 32, lr: 0.01, patience: 0 },
  engine: { backend: 'cpu', threads: 1 },
});
const configFile = join(root, 'tiny.json');
writeFileSync(configFile, JSON.stringify(tinyConfig()));

let trained: string | undefined;
/** One trained run shared by the predict / evaluate tests. */
async function trainedRun(): Promise<string> {
  if (trained) return trained;
  const out = fresh();
  const r = await cli('train', '--config', configFile, '--out', out, '--no-progress');
  assert.equal(r.code, 0, r.err);
  trained = out;
  return out;
}

test('Seen §1: train --overwrite on a project folder (metrics.json, thesis.tex, src/main.py) refuses and deletes nothing', async () => {
  const dir = fresh();
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'metrics.json'), '{}');
  writeFileSync(join(dir, 'thesis.tex'), 'precious');
  writeFileSync(join(dir, 'src', 'main.py'), 'print(1)');
  const r = await cli('train', '--config', configFile, '--out', dir, '--overwrite', '--no-progress');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /not a directory fleximodal wrote.*--overwrite-foreign/s);
  assert.doesNotMatch(r.err, /cleared/);
  assert.deepEqual(readdirSync(dir).sort(), ['metrics.json', 'src', 'thesis.tex']);
  assert.equal(readFileSync(join(dir, 'thesis.tex'), 'utf8'), 'precious');
});

test('Seen §1: train --overwrite on a genuine run keeps (and names) a file the user added; clears once it is gone', async () => {
  const dir = fresh();
  assert.equal((await cli('train', '--config', configFile, '--out', dir, '--no-progress')).code, 0);
  writeFileSync(join(dir, 'model', 'my-notes.md'), 'notes');
  const r = await cli('train', '--config', configFile, '--out', dir, '--overwrite', '--no-progress');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /model\/my-notes\.md/);
  assert.equal(readFileSync(join(dir, 'model', 'my-notes.md'), 'utf8'), 'notes');
  rmSync(join(dir, 'model', 'my-notes.md'));
  const again = await cli('train', '--config', configFile, '--out', dir, '--overwrite', '--no-progress');
  assert.equal(again.code, 0, again.err);
  assert.ok(existsSync(join(dir, OWNED_LEDGER)) && existsSync(join(dir, 'metrics.json')));
});

test('Seen §2: predict --out and evaluate --out refuse to replace existing output without --overwrite', async () => {
  const run = await trainedRun();
  const data = join(root, 'pred.jsonl');
  writeFileSync(join(root, 'syn.json'), JSON.stringify({ type: 'synthetic', n: 20, seed: 5 }));
  const conv = await cli('convert', '--data-config', join(root, 'syn.json'), '--out', data);
  assert.equal(conv.code, 0, conv.err);
  const existing = join(root, 'existing.jsonl');
  writeFileSync(existing, 'keep me\n');
  const p = await cli('predict', '--model', run, '--input', data, '--out', existing, '--backend', 'cpu');
  assert.equal(p.code, 2, p.err);
  assert.match(p.err, /exists.*--overwrite/s);
  assert.equal(readFileSync(existing, 'utf8'), 'keep me\n');
  const ok = await cli('predict', '--model', run, '--input', data, '--out', existing, '--overwrite', '--backend', 'cpu');
  assert.equal(ok.code, 0, ok.err);
  assert.equal(readFileSync(existing, 'utf8').trim().split('\n').length, 20);
  // evaluate --out: a non-empty directory, a model directory, a run directory
  const reports = fresh();
  mkdirSync(reports);
  writeFileSync(join(reports, 'metrics.json'), '{"mine":1}');
  const e = await cli('evaluate', '--model', run, '--data', data, '--out', reports, '--backend', 'cpu');
  assert.equal(e.code, 2, e.err);
  assert.match(e.err, /not empty/);
  assert.equal(readFileSync(join(reports, 'metrics.json'), 'utf8'), '{"mine":1}');
  const intoModel = await cli('evaluate', '--model', run, '--data', data, '--out', join(run, 'model'), '--backend', 'cpu');
  assert.equal(intoModel.code, 2, intoModel.err);
  assert.match(intoModel.err, /model directory/);
  const evalDir = fresh();
  assert.equal((await cli('evaluate', '--model', run, '--data', data, '--out', evalDir, '--backend', 'cpu')).code, 0);
  assert.equal((await cli('evaluate', '--model', run, '--data', data, '--out', evalDir, '--backend', 'cpu')).code, 2);
  const re = await cli('evaluate', '--model', run, '--data', data, '--out', evalDir, '--overwrite', '--backend', 'cpu');
  assert.equal(re.code, 0, re.err);
});

test('Seen §2: predict --out onto a FIFO streams into it; a 0-byte input is an error, not silence (§5)', async (t) => {
  const run = await trainedRun();
  const data = join(root, 'pred.jsonl');
  if (!existsSync(data)) {
    writeFileSync(join(root, 'syn.json'), JSON.stringify({ type: 'synthetic', n: 20, seed: 5 }));
    assert.equal((await cli('convert', '--data-config', join(root, 'syn.json'), '--out', data)).code, 0);
  }
  const empty = join(root, 'empty.jsonl');
  writeFileSync(empty, '');
  const z = await cli('predict', '--model', run, '--input', empty, '--backend', 'cpu');
  assert.equal(z.code, 2, z.err);
  assert.match(z.err, /empty \(0 bytes\)/);
  const fifo = join(root, 'fifo');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    t.skip('mkfifo not available');
    return;
  }
  const reader = spawn('cat', [fifo]);
  let got = '';
  reader.stdout.on('data', (c: Buffer) => (got += c.toString()));
  const closed = new Promise((res) => reader.on('close', res));
  const r = await cli('predict', '--model', run, '--input', data, '--out', fifo, '--backend', 'cpu');
  assert.equal(r.code, 0, r.err);
  await closed;
  assert.equal(got.trim().split('\n').length, 20);
  assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is still a FIFO');
});

/** Poll until `cond` holds (every 20 ms). */
function until(cond: () => boolean): Promise<void> {
  return new Promise<void>((res) => {
    const tick = setInterval(() => {
      if (cond()) {
        clearInterval(tick);
        res();
      }
    }, 20);
  });
}

test('Seen §4: a heart rate of 5e8 or an observation at 1e12 h is dropped and marked, not answered with confidence; old models load', async () => {
  const run = await trainedRun();
  const meta = JSON.parse(readFileSync(join(run, 'model', 'model.json'), 'utf8'));
  assert.equal(meta.inputBounds.version, 1);
  assert.ok(Object.keys(meta.inputBounds.variables).length > 0 && Object.keys(meta.inputBounds.time).length > 0);
  writeFileSync(join(root, 'one.json'), JSON.stringify({ type: 'synthetic', n: 4, seed: 21 }));
  const clean = join(root, 'one.jsonl');
  assert.equal((await cli('convert', '--data-config', join(root, 'one.json'), '--out', clean)).code, 0);
  const [header, first] = readFileSync(clean, 'utf8').trim().split('\n');
  const rec = JSON.parse(first!);
  const ts = Object.values(rec.modalities as Record<string, { times?: number[]; values?: number[] }>).find((m) => Array.isArray(m.times) && Array.isArray(m.values) && m.values.length > 1)!;
  const wild = structuredClone(rec);
  const wts = Object.values(wild.modalities as Record<string, { times?: number[]; values?: number[] }>).find((m) => Array.isArray(m.times) && Array.isArray(m.values) && m.values.length > 1)!;
  wts.values![0] = 5e8;
  wts.times![wts.times!.length - 1] = 1e12;
  const wildFile = join(root, 'wild.jsonl');
  writeFileSync(wildFile, `${header}\n${JSON.stringify(wild)}\n`);
  const p = await cli('predict', '--model', run, '--input', wildFile, '--backend', 'cpu');
  assert.equal(p.code, 0, p.err);
  const line = lastPrediction(p.out);
  assert.equal(line.outOfRange!.policy, 'drop');
  assert.match(p.err, /far outside the training range dropped/);
  // dropping = predicting without those two observations
  const without = structuredClone(rec);
  const wo = Object.values(without.modalities as Record<string, { times: number[]; values: number[]; variables: unknown[] }>).find((m) => Array.isArray(m.times) && Array.isArray(m.values) && m.values.length > 1)!;
  const keep = wo.times.map((_, i) => i).filter((i) => i !== 0 && i !== wo.times.length - 1);
  for (const k of ['times', 'values', 'variables'] as const) (wo as Record<string, unknown[]>)[k] = keep.map((i) => (wo as Record<string, unknown[]>)[k]![i]);
  const withoutFile = join(root, 'without.jsonl');
  writeFileSync(withoutFile, `${header}\n${JSON.stringify(without)}\n`);
  const q = await cli('predict', '--model', run, '--input', withoutFile, '--backend', 'cpu');
  assert.equal(q.code, 0, q.err);
  const base = lastPrediction(q.out);
  assert.ok(ts.times!.length > 2);
  assert.equal(line.outOfRange!.count, 2, JSON.stringify(line.outOfRange));
  assert.deepEqual(line.probs, base.probs);
  // flag keeps the values (a different answer) and marks them
  const f = await cli('predict', '--model', run, '--input', wildFile, '--out-of-range', 'flag', '--backend', 'cpu');
  assert.equal(f.code, 0, f.err);
  assert.equal(lastPrediction(f.out).outOfRange!.policy, 'flag');
  // a model.json from before the bounds still loads and predicts (nothing flagged)
  const oldModel = fresh();
  mkdirSync(oldModel);
  for (const file of readdirSync(join(run, 'model'))) writeFileSync(join(oldModel, file), readFileSync(join(run, 'model', file)));
  const { inputBounds: _b, ...old } = meta;
  writeFileSync(join(oldModel, 'model.json'), JSON.stringify(old));
  const o = await cli('predict', '--model', oldModel, '--input', wildFile, '--backend', 'cpu');
  assert.equal(o.code, 0, o.err);
  assert.equal(lastPrediction(o.out).outOfRange, undefined);
});

test('Seen §2: convert --overwrite onto a character device streams into it and leaves the device in place', async () => {
  writeFileSync(join(root, 'dev.json'), JSON.stringify({ type: 'synthetic', n: 10, seed: 4 }));
  const r = await cli('convert', '--data-config', join(root, 'dev.json'), '--out', '/dev/null', '--overwrite');
  assert.equal(r.code, 0, r.err);
  assert.ok(lstatSync('/dev/null').isCharacterDevice(), '/dev/null is still the device');
  assert.match(r.err, /wrote 10 samples/);
});

test('Seen §3: after kill -9, --resume refuses data whose sha256 changed, naming the file; the original data resume', { timeout: 180_000 }, async () => {
  const dir = fresh();
  mkdirSync(dir);
  const data = join(dir, 'd.jsonl');
  writeFileSync(join(dir, 'syn.json'), JSON.stringify({ type: 'synthetic', n: 300, seed: 7 }));
  assert.equal((await cli('convert', '--data-config', join(dir, 'syn.json'), '--out', data)).code, 0);
  const cfgFile = join(dir, 'cfg.json');
  writeFileSync(cfgFile, JSON.stringify({ ...tinyConfig({ type: 'jsonl', path: data }), seeds: [1, 2, 3], train: { epochs: 3, batchSize: 16, lr: 0.01, patience: 0 } }));
  const out = join(dir, 'run');
  const child = spawn(process.execPath, [cliJs, 'train', '--config', cfgFile, '--out', out, '--no-progress'], { stdio: 'ignore' });
  const closed = new Promise((res) => child.on('close', res));
  await until(() => existsSync(join(out, 'checkpoints', 'data-hashes.json')));
  child.kill('SIGKILL');
  await closed;
  assert.ok(existsSync(join(out, INCOMPLETE_FILE)));
  // flip every label
  const lines = readFileSync(data, 'utf8').trim().split('\n');
  const flipped = lines.map((l, i) => (i === 0 ? l : l.replace(/"label":([01])/, (_m, y: string) => `"label":${1 - Number(y)}`)));
  assert.notDeepEqual(flipped, lines);
  writeFileSync(data, flipped.join('\n') + '\n');
  const r = await cli('train', '--config', cfgFile, '--out', out, '--resume', '--no-progress');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, new RegExp(`${data.replace(/[.]/g, '\\.')} changed since the interrupted run started`));
  assert.ok(existsSync(join(out, INCOMPLETE_FILE)), 'the refused resume keeps the interrupted run');
  // the original data resume
  writeFileSync(data, lines.join('\n') + '\n');
  const ok = await cli('train', '--config', cfgFile, '--out', out, '--resume', '--no-progress');
  assert.equal(ok.code, 0, ok.err);
  assert.ok(!existsSync(join(out, INCOMPLETE_FILE)));
});

test('Seen §5: --seeds 1,1 and --seeds "" are refused; a config that fails validation leaves no --out behind (§6)', async () => {
  const out = fresh();
  for (const seeds of ['1,1', '']) {
    const r = await cli('train', '--config', configFile, '--out', out, '--seeds', seeds, '--no-progress');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--seeds/);
  }
  const dup = join(root, 'dup-seeds.json');
  writeFileSync(dup, JSON.stringify({ ...tinyConfig(), seeds: [3, 3] }));
  const d = await cli('train', '--config', dup, '--out', out, '--no-progress');
  assert.equal(d.code, 2);
  assert.match(d.err, /seeds must be distinct/);
  const bad = await cli('train', '--config', configFile, '--out', out, '--set', 'train.lr=-1', '--no-progress');
  assert.equal(bad.code, 2, bad.err);
  assert.ok(!existsSync(out), 'no empty or INCOMPLETE directory left behind');
});

test('Seen §5: compare --vary with a repeated value is refused before the first variant trains', async () => {
  const out = fresh();
  const r = await cli('compare', '--config', configFile, '--vary', 'train.lr=0.01,0.01', '--out', out, '--no-progress');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /listed twice/);
  assert.ok(!existsSync(out), 'nothing was trained or written');
});

test('Seen §6: demo accepts --overwrite; a second run without it names `npm start -- --overwrite`', async () => {
  const out = fresh();
  mkdirSync(out);
  writeFileSync(join(out, 'compare.json'), '{}');
  const r = await cli('demo', '--out', out, '--no-progress');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /npm start -- --overwrite/);
  // --overwrite is accepted, and (this folder was not written by fleximodal) still deletes nothing
  const o = await cli('demo', '--out', out, '--overwrite', '--no-progress');
  assert.equal(o.code, 2, o.err);
  assert.doesNotMatch(o.err, /unknown option/);
  assert.match(o.err, /not a directory fleximodal wrote/);
  assert.ok(existsSync(join(out, 'compare.json')));
});

test('Seen §6: argument-parser errors exit 2 (as documented), --help exits 0', () => {
  const bad = spawnSync(process.execPath, [cliJs, 'train', '--no-such-flag'], { encoding: 'utf8' });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /unknown option/);
  const missing = spawnSync(process.execPath, [cliJs, 'predict'], { encoding: 'utf8' });
  assert.equal(missing.status, 2, missing.stderr);
  assert.equal(spawnSync(process.execPath, [cliJs, '--help'], { encoding: 'utf8' }).status, 0);
});

test('Seen §6: SIGINT during training ends at once, keeps the run and the resume command is on screen', { timeout: 120_000 }, async () => {
  const out = fresh();
  const slow = join(root, 'slow.json');
  writeFileSync(slow, JSON.stringify({ ...tinyConfig({ type: 'synthetic', n: 400, seed: 3 }), seeds: [1, 2, 3, 4, 5, 6], train: { epochs: 3, batchSize: 16, lr: 0.01, patience: 0 } }));
  const child = spawn(process.execPath, [cliJs, 'train', '--config', slow, '--out', out, '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const closed = new Promise<[number | null, string | null]>((res) => child.on('close', (c, sig) => res([c, sig])));
  await until(() => /seed 1 epoch 1/.test(err));
  const sent = Date.now();
  child.kill('SIGINT');
  const [code, signal] = await closed;
  assert.ok(code === 130 || signal === 'SIGINT', `exit ${code} / ${signal}`);
  assert.ok(Date.now() - sent < 5000, 'Ctrl-C is not deferred until training ends');
  assert.match(err, new RegExp(`fleximodal train --resume --out ${out.replace(/[.]/g, '\\.')}`));
  assert.ok(existsSync(join(out, INCOMPLETE_FILE)), 'the interrupted run is kept for --resume');
});

test('Seen §6: SIGINT during predict exits 130, says so, and leaves no partial output', { timeout: 120_000 }, async () => {
  const run = await trainedRun();
  const big = join(root, 'big.jsonl');
  writeFileSync(join(root, 'big.json'), JSON.stringify({ type: 'synthetic', n: 4000, seed: 9 }));
  assert.equal((await cli('convert', '--data-config', join(root, 'big.json'), '--out', big)).code, 0);
  const outDir = fresh();
  mkdirSync(outDir);
  const child = spawn(process.execPath, [cliJs, 'predict', '--model', run, '--input', big, '--out', join(outDir, 'p.jsonl'), '--backend', 'cpu', '--batch-size', '8'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const closed = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  await until(() => readdirSync(outDir).some((f) => f.endsWith('.tmp')));
  child.kill('SIGINT');
  const code = await closed;
  assert.equal(code, 130, err);
  assert.match(err, /interrupted \(SIGINT\)/);
  assert.deepEqual(readdirSync(outDir), [], 'no partial output, no temporary file');
});

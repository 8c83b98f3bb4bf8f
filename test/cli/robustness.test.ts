/**
 * Issue 11 regressions through the CLI: every case ends as a clear error (exit 2) or a counted,
 * reported cleaning — never a silent wrong result, never a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { writeJsonl } from '../../src/data/sources/jsonl.js';
import { once } from '../helpers/once.js';
import { moduleTempDir } from '../helpers/tempDir.js';
import { jsonLines, runCli } from '../helpers/inProcessCli.js';

const cli = resolve('dist/src/cli/main.js');
const dir = moduleTempDir('fm-robust-');
/** The CLI in this process (no 1.3 s child start-up), working directory `dir`. */
const run = (args: string[]) => runCli(args, dir);
/** The real binary in a child process, where the process is the point (its exit status). */
const runProcess = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir });
const noStack = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at /, stderr);

const model = { type: 'baseline', d: 8, encoder: { kind: 'mtand', gamma: 4, dt: 4, heads: 1, embeddingGamma: 2 }, hidden: [8] };
const config = (data: object, extra: object = {}) => JSON.stringify({ data, model, train: { epochs: 1, batchSize: 32 }, ...extra });
let lines: string[] = [];

test.before(async () => {
  await writeJsonl(generateSynthetic({ n: 80, seed: 5 }), join(dir, 'base.jsonl'));
  lines = readFileSync(join(dir, 'base.jsonl'), 'utf8').trim().split('\n');
  const first = JSON.parse(lines[1]!);
  first.modalities.vitals.values[0] = 1e300;
  first.modalities.vitals.variables[0] = 'HR';
  writeFileSync(join(dir, 'hr1e300.jsonl'), [lines[0], JSON.stringify(first), ...lines.slice(2)].join('\n') + '\n');
  writeFileSync(join(dir, 'c.json'), config({ type: 'jsonl', path: 'hr1e300.jsonl' }));
  const t = await run(['train', '-c', 'c.json', '-o', 'run', '--no-progress']);
  assert.equal(t.status, 0, t.stderr);
});

/** `evaluate` of the trained run on its own data set, into ev-a: run by the first test that needs it. */
const evaluatedOnBase = once(async () => {
  const a = await run(['evaluate', '-m', 'run', '-d', 'base.jsonl', '-o', 'ev-a']);
  assert.equal(a.status, 0, a.stderr);
  return join(dir, 'ev-a');
});

test('§1 a 1e300 heart rate is dropped and counted; the saved model loads and predicts', async () => {
  const meta = JSON.parse(readFileSync(join(dir, 'run', 'model', 'model.json'), 'utf8'));
  const st = meta.normalizer.modalities.vitals;
  assert.ok([...st.mean, ...st.std].every((x: unknown) => typeof x === 'number' && Number.isFinite(x)), JSON.stringify(st));
  assert.ok(st.std[0] < 100, `HR std ${st.std[0]}`); // not flattened by the dropped value
  const p = await run(['predict', '-m', 'run', '-i', 'hr1e300.jsonl']);
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stderr, /out-of-range value dropped: 1 \(HR 1\)/);
  assert.equal(jsonLines(p.stdout).length, 80);
});

test('§2 evaluate maps a reordered header by name (same metrics); renamed variables are refused by evaluate and predict', async () => {
  const h = JSON.parse(lines[0]!);
  h.spec.modalities[1].variables.reverse();
  writeFileSync(join(dir, 'reordered.jsonl'), [JSON.stringify(h), ...lines.slice(1)].join('\n') + '\n');
  const evA = await evaluatedOnBase();
  const b = await run(['evaluate', '-m', 'run', '-d', 'reordered.jsonl', '-o', 'ev-b']);
  assert.equal(b.status, 0, b.stderr);
  assert.equal(readFileSync(join(dir, 'ev-b', 'metrics.json'), 'utf8'), readFileSync(join(evA, 'metrics.json'), 'utf8'));
  const r = structuredClone(JSON.parse(lines[0]!));
  r.spec.modalities[1].variables[0] = 'HeartRate';
  writeFileSync(join(dir, 'renamed.jsonl'), [JSON.stringify(r), ...lines.slice(1).map((l) => l.replaceAll('"HR"', '"HeartRate"'))].join('\n') + '\n');
  for (const args of [['evaluate', '-m', 'run', '-d', 'renamed.jsonl'], ['predict', '-m', 'run', '-i', 'renamed.jsonl']]) {
    const x = await run(args);
    assert.equal(x.status, 2, x.stderr);
    assert.match(x.stderr, /missing in the data: vitals\.HR; not in the model: vitals\.HeartRate/);
  }
});

test('§4 evaluation on the training samples warns in the log and in metrics.json', async () => {
  const m = JSON.parse(readFileSync(join(await evaluatedOnBase(), 'metrics.json'), 'utf8'));
  assert.equal(m.warnings.length, 1);
  assert.match(m.warnings[0], /^\d+ of 80 evaluated samples are training samples of this model/);
  assert.match((await run(['evaluate', '-m', 'run', '-d', 'base.jsonl'])).stderr, /warning: \d+ of 80 evaluated samples are training samples/);
});

test('§4 evaluate --out refuses a training run directory (its metrics.json is the run record)', async () => {
  const before = readFileSync(join(dir, 'run', 'metrics.json'), 'utf8');
  const e = await run(['evaluate', '-m', 'run', '-d', 'base.jsonl', '-o', 'run']);
  assert.equal(e.status, 2, e.stderr);
  assert.match(e.stderr, /--out run is a training run directory/);
  noStack(e.stderr);
  assert.equal(readFileSync(join(dir, 'run', 'metrics.json'), 'utf8'), before);
  // an earlier evaluation directory is replaced with --overwrite only (issue 19 §2)
  assert.equal((await run(['evaluate', '-m', 'run', '-d', 'base.jsonl', '-o', 'ev-again'])).status, 0);
  assert.equal((await run(['evaluate', '-m', 'run', '-d', 'base.jsonl', '-o', 'ev-again'])).status, 2, 'an earlier evaluation is not replaced silently');
  assert.equal((await run(['evaluate', '-m', 'run', '-d', 'base.jsonl', '-o', 'ev-again', '--overwrite'])).status, 0, 'an earlier evaluation directory is replaced with --overwrite');
});

test('§4 train --external-data holding training samples warns in the log and in metrics.json', async () => {
  writeFileSync(join(dir, 'c-base.json'), config({ type: 'jsonl', path: 'base.jsonl' }));
  const t = await run(['train', '-c', 'c-base.json', '--external-data', 'base.jsonl', '-o', 'run-ext', '--no-progress']);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stderr + t.stdout, /warning: external set: \d+ of 80 evaluated samples are training samples/);
  const m = JSON.parse(readFileSync(join(dir, 'run-ext', 'metrics.json'), 'utf8'));
  assert.equal(m.warnings.length, 1);
  assert.match(m.warnings[0], /^external set: \d+ of 80 evaluated samples are training samples of this model .*\(split seed 0\)$/);
});

test('§4 samples with no modality: flagged in predict output and counted, or refused', async () => {
  writeFileSync(join(dir, 'empty.jsonl'), [lines[0], lines[1], '{"id":"e1","modalities":{}}', ''].join('\n'));
  const p = await run(['predict', '-m', 'run', '-i', 'empty.jsonl']);
  assert.equal(p.status, 0, p.stderr);
  const out = jsonLines(p.stdout);
  assert.equal(out[0].noModality, undefined);
  assert.equal(out[1].noModality, true);
  assert.match(p.stderr, /sample without any modality: 1/);
  const r = await run(['predict', '-m', 'run', '-i', 'empty.jsonl', '--empty-samples', 'refuse']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /1 sample\(s\) have no modality at all: e1/);
});

test('§4 one-class training data, a split file leaving samples out, NaN weights: exit 2', async () => {
  writeFileSync(join(dir, 'oneclass.jsonl'), [lines[0], ...lines.slice(1).map((l) => l.replace(/"label":1/, '"label":0'))].join('\n') + '\n');
  writeFileSync(join(dir, 'c1.json'), config({ type: 'jsonl', path: 'oneclass.jsonl' }));
  const o = await run(['train', '-c', 'c1.json', '-o', 'r1', '--no-progress']);
  assert.equal(o.status, 2);
  assert.match(o.stderr, /the training split has one class only/);
  const ids = lines.slice(1).map((l) => JSON.parse(l).id as string);
  writeFileSync(join(dir, 'split.json'), JSON.stringify({ seed: 0, fractions: [0.7, 0.15, 0.15], train: ids.slice(0, 50), val: ids.slice(50, 60), test: [] }));
  const s = await run(['train', '-c', 'c.json', '--set', 'split.file=split.json', '-o', 'r2', '--no-progress']);
  assert.equal(s.status, 2);
  assert.match(s.stderr, /20 of 80 dataset samples are in no split/);
  cpSync(join(dir, 'run', 'model'), join(dir, 'nan', 'model'), { recursive: true });
  const wp = join(dir, 'nan', 'model', 'weights.safetensors');
  const b = readFileSync(wp);
  const n = Number(b.readBigUInt64LE(0));
  b.fill(0xff, 8 + n); // 0xffffffff is a NaN in float32
  writeFileSync(wp, b);
  const w = await run(['predict', '-m', 'nan', '-i', 'base.jsonl']);
  assert.equal(w.status, 2);
  assert.match(w.stderr, /weight tensor\(s\) hold NaN or Infinity/);
});

test('§5 predict | head ends quietly (EPIPE, exit 0)', async () => {
  const child = spawn(process.execPath, [cli, 'predict', '-m', 'run', '-i', 'base.jsonl', '--batch-size', '1'], { cwd: dir });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
});

test('§5 bad --out paths, predict on a directory, ignored option combinations, NaN loss: exit 2 without a stack', async () => {
  mkdirSync(join(dir, 'adir'), { recursive: true });
  writeFileSync(join(dir, 'afile'), 'x');
  const cases: [string[], RegExp][] = [
    [['predict', '-m', 'run', '-i', 'base.jsonl', '-o', 'adir'], /--out adir: adir is a directory, not a file/],
    [['evaluate', '-m', 'run', '-d', 'base.jsonl', '-o', 'afile'], /--out afile: afile is a file, not a directory/],
    [['train', '-c', 'c.json', '-o', 'afile'], /afile is a file, not a directory/],
    [['evaluate', '-m', 'run', '-d', 'base.jsonl', '-o', 'afile/sub'], /a part of the path is a file|is a file/],
    [['predict', '-m', 'run', '-i', 'adir'], /adir: is a directory, not a FlexiModal JSON Lines file/],
    [['train', '-c', 'c.json', '--external-outcomes', 'x.txt', '-o', 'r3'], /--external-outcomes is only read with --external-data/],
    [['evaluate', '-m', 'run', '-d', 'base.jsonl', '--outcomes', 'x.txt'], /--outcomes is only read with PhysioNet 2012 records/],
    [['train', '-c', 'c.json', '--set', 'train.lr=1e30', '-o', 'r4', '--no-progress'], /training: the loss became NaN .* Fix: lower train\.lr/],
  ];
  for (const [i, [args, re]] of cases.entries()) {
    // the first case through the real binary: its exit status and stderr are the contract
    const r = i === 0 ? runProcess(args) : await run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    noStack(r.stderr);
  }
  // a missing parent directory of predict --out is created
  const p = await run(['predict', '-m', 'run', '-i', 'base.jsonl', '-o', 'new/sub/p.jsonl']);
  assert.equal(p.status, 0, p.stderr);
});

test('§5 --set paths resolve against the working directory (not the config directory)', async () => {
  mkdirSync(join(dir, 'configs'), { recursive: true });
  writeFileSync(join(dir, 'configs', 'c.json'), config({ type: 'jsonl', path: 'not-here.jsonl' }));
  const r = await run(['train', '-c', 'configs/c.json', '--set', 'data.path=base.jsonl', '-o', 'r5', '--no-progress']);
  assert.equal(r.status, 0, r.stderr);
});

test('§5 simulate em-trace --iterations 20 prints no it100', async () => {
  const r = await run(['simulate', 'em-trace', '--iterations', '20', '--gates', 'sin', '--n', '500', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /it1 .* it10 .* it20 /);
  assert.doesNotMatch(r.stdout, /it100/);
});

/**
 * trainInWorker: training off the host's event loop (issue 18 §3). Seen before: during a 2.6 s
 * runExperiment a 50 ms setInterval of the host fired 0 times. Here the host's interval keeps
 * firing, progress arrives in order, an abort leaves a run directory that resumes to the metrics of
 * an uninterrupted run, worker errors arrive as FlexiModalError, and a process that trains exits by
 * itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';
import { initEngine } from '../../src/engine/backend.js';
import { FlexiModalError } from '../../src/errors.js';
import { trainInWorker } from '../../src/worker/trainInWorker.js';
import { AbortError, type TrainProgress } from '../../src/worker/protocol.js';
import { INCOMPLETE_FILE, LOCK_FILE } from '../../src/run/runDirectory.js';

const quiet = () => {};

/** A tiny experiment: 60 synthetic samples (42 train → 3 steps per epoch), a small baseline. */
function tinyConfig(epochs: number, extra: Record<string, unknown> = {}) {
  return parseConfig(
    {
      name: 'worker-test',
      seeds: [1],
      data: { type: 'synthetic', n: 60, seed: 3 },
      model: { type: 'baseline', d: 8, encoder: { kind: 'mean-pool-mlp' }, hidden: [8], dropout: 0.2 },
      train: { epochs, batchSize: 16, patience: 0, lr: 0.005 },
      ...extra,
    },
    'worker test config',
  );
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fm-worker-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the host event loop runs during trainInWorker (≥ 50% of the 50 ms ticks); progress: steps then epoch, in order', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const events: TrainProgress[] = [];
  let ticks = 0;
  const started = performance.now();
  const interval = setInterval(() => ticks++, 50);
  let res;
  try {
    res = await trainInWorker(tinyConfig(3), { outDir: join(dir, 'run'), log: quiet, onProgress: (e) => events.push(e) });
  } finally {
    clearInterval(interval);
  }
  const expected = Math.floor((performance.now() - started) / 50);
  assert.ok(ticks >= 0.5 * expected, `host interval fired ${ticks} of ${expected} expected times`);
  assert.ok(existsSync(join(dir, 'run', 'metrics.json')) && !existsSync(join(dir, 'run', INCOMPLETE_FILE)));
  assert.equal(res.seeds.length, 1);
  assert.equal(res.seeds[0]!.members[0]!.history.length, 3);
  assert.ok(res.seeds[0]!.test!.probs instanceof Float32Array, 'typed arrays survive the thread boundary');

  // 3 epochs × (3 steps then 1 epoch event), steps numbered 1..9, epoch losses = the history's
  assert.deepEqual(
    events.map((e) => `${e.type}:${e.epoch}:${e.step}`),
    [1, 2, 3].flatMap((ep) => [1, 2, 3].map((k) => `step:${ep}:${(ep - 1) * 3 + k}`).concat(`epoch:${ep}:${ep * 3}`)),
  );
  for (const e of events) {
    assert.equal(e.seed, 1);
    assert.equal(e.label, 'seed 1');
    assert.equal(e.epochs, 3);
    assert.ok(Number.isFinite(e.loss) && e.loss > 0);
    if (e.type === 'step') assert.equal(e.stepsPerEpoch, 3);
  }
  const epochs = events.filter((e): e is Extract<TrainProgress, { type: 'epoch' }> => e.type === 'epoch');
  epochs.forEach((e, i) => {
    const h = res.seeds[0]!.members[0]!.history[i]!;
    assert.equal(e.loss, h.trainLoss);
    assert.deepEqual(e.metrics, h.val);
    assert.ok('auroc' in e.metrics);
  });
  // the last step's running epoch loss is the epoch's mean loss
  const lastStep = events.filter((e) => e.type === 'step').at(-1) as Extract<TrainProgress, { type: 'step' }>;
  assert.ok(Math.abs(lastStep.epochLoss - epochs.at(-1)!.loss) < 1e-12);
});

test('abort mid-training: AbortError, a resumable run directory; resuming it gives the metrics of an uninterrupted run', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const cfg = tinyConfig(12);
  const full = join(dir, 'full');
  await trainInWorker(cfg, { outDir: full, log: quiet });

  const cut = join(dir, 'cut');
  const ac = new AbortController();
  const seen: TrainProgress[] = [];
  await assert.rejects(
    trainInWorker(cfg, {
      outDir: cut,
      log: quiet,
      signal: ac.signal,
      onProgress: (e) => {
        seen.push(e);
        if (e.type === 'epoch' && e.epoch === 2) ac.abort();
      },
    }),
    (e: unknown) => {
      assert.ok(e instanceof AbortError, String(e));
      assert.equal(e.name, 'AbortError');
      assert.equal(e.outDir, resolve(cut));
      assert.match(e.message, /can be resumed/);
      return true;
    },
  );
  const lastEpoch = Math.max(...seen.filter((e) => e.type === 'epoch').map((e) => e.epoch));
  assert.ok(lastEpoch < 12, `training stopped early (last epoch event ${lastEpoch})`);
  assert.ok(existsSync(join(cut, INCOMPLETE_FILE)), 'the aborted run is marked incomplete');
  assert.ok(existsSync(join(cut, 'checkpoints', 'seed-1', 'member-seed-1.safetensors')), 'its epoch checkpoint is kept');
  assert.ok(!existsSync(join(cut, LOCK_FILE)), 'the worker released the lock');
  assert.ok(!existsSync(join(cut, 'metrics.json')));

  const steps: number[] = [];
  await trainInWorker(cfg, { outDir: cut, log: quiet, runDir: 'resume', onProgress: (e) => e.type === 'step' && steps.push(e.epoch) });
  assert.ok(steps[0]! >= 2 && steps[0]! <= lastEpoch + 1, `resumed at epoch ${steps[0]} (not from scratch)`);
  assert.equal(readFileSync(join(cut, 'metrics.json'), 'utf8'), readFileSync(join(full, 'metrics.json'), 'utf8'));
  assert.ok(!existsSync(join(cut, INCOMPLETE_FILE)));
});

test('an already aborted signal starts nothing; keepIncomplete: false removes the directory an aborted call created', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  await assert.rejects(trainInWorker(tinyConfig(2), { outDir: join(dir, 'never'), log: quiet, signal: AbortSignal.abort() }), AbortError);
  assert.ok(!existsSync(join(dir, 'never')));

  const ac = new AbortController();
  const out = join(dir, 'dropped');
  await assert.rejects(
    trainInWorker(tinyConfig(12), { outDir: out, log: quiet, signal: ac.signal, keepIncomplete: false, onProgress: (e) => e.type === 'step' && e.step === 2 && ac.abort() }),
    AbortError,
  );
  assert.ok(!existsSync(out), 'the directory this call created is gone');
});

test('a throwing onProgress handler stops the worker like an abort and is the rejection; the lock is released', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'run');
  const boom = new Error('handler failed');
  await assert.rejects(
    trainInWorker(tinyConfig(12), {
      outDir: out,
      log: quiet,
      onProgress: (e) => {
        if (e.type === 'epoch') throw boom;
      },
    }),
    (e: unknown) => e === boom,
  );
  assert.ok(existsSync(join(out, INCOMPLETE_FILE)) && !existsSync(join(out, LOCK_FILE)), 'resumable, and no lock left behind');
});

test('a worker error reaches the caller as a FlexiModalError with the same message, where and hint as in-process', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const cfg = tinyConfig(1, { data: { type: 'jsonl', path: join(dir, 'missing.jsonl') } });
  await initEngine({ backend: 'wasm' });
  let inProcess: FlexiModalError | undefined;
  await runExperiment(cfg, { baseDir: dir, outDir: join(dir, 'a'), log: quiet, progress: false }).catch((e: FlexiModalError) => (inProcess = e));
  assert.ok(inProcess instanceof FlexiModalError, 'the in-process run fails with a FlexiModalError');
  await assert.rejects(trainInWorker(cfg, { baseDir: dir, outDir: join(dir, 'b'), log: quiet }), (e: unknown) => {
    assert.ok(e instanceof FlexiModalError, String(e));
    assert.equal(e.message, inProcess!.message);
    assert.equal(e.where, inProcess!.where);
    assert.equal(e.hint, inProcess!.hint);
    return true;
  });
});

test('a process that trains in a worker exits by itself (no lingering worker or handle)', { timeout: 120_000 }, (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'host.mjs');
  const index = resolve('dist/src/index.js');
  writeFileSync(
    script,
    `import { trainInWorker, parseConfig } from ${JSON.stringify(index)};
const cfg = parseConfig(${JSON.stringify({ name: 'exit', seeds: [1], data: { type: 'synthetic', n: 40, seed: 1 }, model: { type: 'baseline', d: 4, encoder: { kind: 'mean-pool-mlp' }, hidden: [4] }, train: { epochs: 1, batchSize: 16, patience: 0 } })}, 'c');
const res = await trainInWorker(cfg, { outDir: ${JSON.stringify(join(dir, 'run'))}, log: () => {} });
process.stdout.write('trained ' + res.seeds.length + '\\n');
`,
  );
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 100_000 });
  assert.equal(r.signal, null, `the host process did not exit by itself: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /trained 1/);
});

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { tf } from '../../src/engine/tf.js';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';
import type { TrainerCallback } from '../../src/train/callbacks.js';
import { activeVariables, inParts, parsePartChoice } from '../../src/train/freeze.js';
import { tempDirs } from '../helpers/tempDir.js';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

const quiet = () => {};
const baseline = { type: 'baseline', d: 16, encoder: { kind: 'mean-pool-mlp' }, hidden: [16], dropout: 0.1 };

function config(train: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return parseConfig(
    {
      name: 'regimes',
      seeds: [1],
      data: { type: 'synthetic', n: 160, seed: 2, missingness: 'long-tail' },
      model: baseline,
      train: { epochs: 3, batchSize: 16, patience: 0, ...train },
      ...extra,
    },
    'test config',
  );
}

const tmp = tempDirs();

test('plain GroupDRO on the late-fusion baseline: λ logged per epoch on the simplex, saved in the run, deterministic', async () => {
  const cfg = config({ groupWeighting: { type: 'group-dro', gamma: 0.5, everySteps: 2 } });
  const a = await runExperiment(cfg, { baseDir: '.', outDir: tmp('fm-dro-a-'), log: quiet, progress: false, saveModels: false });
  const hist = a.seeds[0]!.members[0]!.history;
  assert.equal(hist.length, 3);
  for (const h of hist) {
    const lambdas = Object.values(h.groupWeights!);
    assert.ok(lambdas.length > 1);
    assert.ok(Math.abs(lambdas.reduce((x, y) => x + y, 0) - 1) < 1e-9, 'λ on the simplex');
  }
  assert.notDeepEqual(hist[0]!.groupWeights, hist[2]!.groupWeights, 'λ moves');
  const b = await runExperiment(cfg, { baseDir: '.', outDir: tmp('fm-dro-b-'), log: quiet, progress: false, saveModels: false });
  assert.deepEqual(b.seeds[0]!.members[0]!.history.map((h) => h.groupWeights), hist.map((h) => h.groupWeights));
  assert.deepEqual(b.metrics, a.metrics);
  // the run saves λ per epoch and plots it
  const saved = JSON.parse(readFileSync(join(a.outDir, 'group-weights.json'), 'utf8'));
  assert.deepEqual(saved.seeds['1'][2].weights, hist[2]!.groupWeights);
  assert.match(readFileSync(join(a.outDir, 'summary.md'), 'utf8'), /group-weights\.svg/);
  // head / tail metrics: tail = groups under 15 % of the training split
  const lt = a.metrics.longTail!;
  assert.ok(lt.tailGroups.length > 0 && lt.headGroups.length > 0);
  assert.equal(lt.threshold, 0.15);
  assert.ok(lt.test!.tail.auroc && lt.test!.head.accuracy);
  assert.match(readFileSync(join(a.outDir, 'summary.md'), 'utf8'), /## Head \/ tail groups/);
  // DRO changes training compared with the plain loss
  const plain = await runExperiment(config({}), { baseDir: '.', outDir: tmp('fm-plain-'), log: quiet, progress: false, saveModels: false });
  assert.notDeepEqual(plain.metrics.test, a.metrics.test);
});

test('reweigh on the baseline runs end to end and logs its constant weights', async () => {
  const r = await runExperiment(config({ groupWeighting: { type: 'reweigh' } }), { baseDir: '.', outDir: tmp('fm-rw-'), log: quiet, progress: false, saveModels: false });
  const h = r.seeds[0]!.members[0]!.history;
  assert.deepEqual(h[0]!.groupWeights, h[2]!.groupWeights);
  assert.ok(Number.isFinite(r.metrics.test!.auroc!.mean ?? NaN));
});

/** Records a copy of every variable at the end of each epoch. */
function recorder(): { cb: TrainerCallback; epochs: Map<string, Float32Array>[] } {
  const epochs: Map<string, Float32Array>[] = [];
  return {
    epochs,
    cb: { name: 'recorder', onEpochEnd: ({ weights }) => void epochs.push(new Map([...weights].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]))) },
  };
}

test('two-stage training: encoders (enc.*) do not change after freezeEncodersAfter epochs; the head does', async () => {
  const rec = recorder();
  // weight decay on, so a frozen variable that were merely decayed would change too
  await runExperiment(config({ freezeEncodersAfter: 1, weightDecay: 0.1 }), { baseDir: '.', outDir: tmp('fm-frz-'), log: quiet, progress: false, saveModels: false, callbacks: () => [rec.cb] });
  const [e1, , e3] = rec.epochs;
  const encNames = [...e1!.keys()].filter((k) => k.startsWith('enc.'));
  assert.ok(encNames.length > 0);
  for (const k of encNames) assert.deepEqual(e3!.get(k), e1!.get(k), `${k} frozen`);
  const headNames = [...e1!.keys()].filter((k) => k.startsWith('head.'));
  assert.ok(headNames.some((k) => e3!.get(k)!.some((x, i) => x !== e1!.get(k)![i])), 'head still trains');
  // without freezing the encoders move in epochs 2–3 (so the check above can fail)
  const free = recorder();
  await runExperiment(config({ weightDecay: 0.1 }), { baseDir: '.', outDir: tmp('fm-nofrz-'), log: quiet, progress: false, saveModels: false, callbacks: () => [free.cb] });
  assert.ok(encNames.some((k) => free.epochs[2]!.get(k)!.some((x, i) => x !== free.epochs[0]!.get(k)![i])));
});

test('activeVariables and part choices follow the naming convention', () => {
  const vars = ['enc.a.w', 'head.l0.w', 'fusion.block0.moe.gate.w', 'fusion.block0.moe.expert3.w1', 'missing.a', 'fusion.block0.attn.q'].map((name) => ({ name }));
  const names = (xs: { name: string }[]) => xs.map((v) => v.name);
  assert.equal(activeVariables(vars, 1, 1).length, 6);
  assert.deepEqual(names(activeVariables(vars, 2, 1)), names(vars).filter((n) => !n.startsWith('enc.')).map((name) => name));
  assert.deepEqual(names(activeVariables(vars, 5, null, inParts(parsePartChoice('router+head', 'x')))), ['head.l0.w', 'fusion.block0.moe.gate.w']);
  assert.deepEqual(names(activeVariables(vars, 1, null, inParts(parsePartChoice('router+head+experts', 'x')))), ['head.l0.w', 'fusion.block0.moe.gate.w', 'fusion.block0.moe.expert3.w1']);
  assert.deepEqual(parsePartChoice('nothing', 'x'), []);
  assert.throws(() => parsePartChoice('head+brain', '--parts'), /unknown model part "brain"/);
  void tf;
});

test('extreme-missingness run: metrics.json has overall, available and absent metrics; the summary shows them', async () => {
  const cfg = config(
    { epochs: 2 },
    {
      data: { type: 'synthetic', n: 200, seed: 3, missingness: { demo: 0, vitals: 0, labs: 0, notes: 0 } },
      missingness: { protocol: 'extreme', modality: 'vitals', seed: 2 },
    },
  );
  const r = await runExperiment(cfg, { baseDir: '.', outDir: tmp('fm-ext-'), log: quiet, progress: false, saveModels: false });
  const ex = r.metrics.extreme!;
  assert.equal(ex.modality, 'vitals');
  assert.equal(ex.fraction, 0.8);
  const test_ = ex.test!;
  assert.equal(test_.available!.n!.mean! + test_.absent!.n!.mean!, r.metrics.test!.n!.mean);
  assert.ok(test_.absent!.n!.mean! > test_.available!.n!.mean!, '80 % absent');
  assert.ok(Number.isFinite(test_.absent!.accuracy!.mean!));
  assert.match(readFileSync(join(r.outDir, 'summary.md'), 'utf8'), /vitals absent/);
});

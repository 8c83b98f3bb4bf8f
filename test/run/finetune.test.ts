import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';
import { runFinetune } from '../../src/run/finetuneRun.js';
import { loadDataset } from '../../src/data/load.js';
import { groupCounts, groupIdOf, groupName } from '../../src/data/groups.js';
import { holdOutGroups } from '../../src/data/holdOut.js';
import { makeBatch } from '../../src/data/batch.js';
import { fitNormalizer } from '../../src/data/normalize.js';
import { buildModel } from '../../src/models/build.js';
import { finetuneParts } from '../../src/train/finetune.js';
import { parsePartChoice } from '../../src/train/freeze.js';
import type { Sample } from '../../src/data/schema.js';
import { tempDirs } from '../helpers/tempDir.js';

const tmp = tempDirs();

before(async () => {
  await initEngine({ backend: 'wasm' });
});

const quiet = () => {};
const data = { type: 'synthetic', n: 160, seed: 2, missingness: 'long-tail' } as const;
const fusemoe = { type: 'fusemoe', d: 16, blocks: 1, heads: 2, encoder: { kind: 'utde', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 }, moe: { numExperts: 4, topK: 2, hidden: 16 } };

test('holdOutGroups: every sample of the named groups leaves the dataset, split per group into fine-tuning and test parts (seeded)', async () => {
  const d = await loadDataset(data);
  const [g1, g2] = groupCounts(d).slice(1, 3);
  // modality order in a name does not matter
  const reversed = g2!.name.split('+').reverse().join('+');
  const p = holdOutGroups(d, [g1!.name, reversed], 0.25, 7);
  assert.deepEqual(p.counts, { [g1!.name]: g1!.count, [g2!.name]: g2!.count });
  assert.equal(p.rest.samples.length, d.samples.length - g1!.count - g2!.count);
  assert.ok(p.rest.samples.every((s) => ![g1!.id, g2!.id].includes(groupIdOf(d.spec, s))));
  const ftBy = (id: number) => p.finetune.filter((s) => groupIdOf(d.spec, s) === id).length;
  assert.equal(ftBy(g1!.id), Math.round(0.25 * g1!.count));
  assert.equal(ftBy(g2!.id), Math.round(0.25 * g2!.count));
  assert.equal(p.finetune.length + p.test.length, g1!.count + g2!.count);
  assert.deepEqual(holdOutGroups(d, [g1!.name], 0.25, 7).finetune.map((s) => s.id), p.finetune.filter((s) => groupIdOf(d.spec, s) === g1!.id).map((s) => s.id));
  assert.equal(p.rest.report.counts['samples held out (split.holdOutGroups)'], g1!.count + g2!.count);
  assert.throws(() => holdOutGroups(d, ['demo+xray'], 0.2, 1), /split\.holdOutGroups/);
  const absent = [...Array(16).keys()].find((id) => id > 0 && !groupCounts(d).some((g) => g.id === id));
  if (absent !== undefined) assert.throws(() => holdOutGroups(d, [groupName(d.spec, absent)], 0.2, 1), /no sample has/);
});

test('finetuneParts: only the chosen parts change (FuseMoE naming: head.*, *.gate.*, *.expert<i>.*)', async () => {
  const d = await loadDataset(data);
  const cfg = parseConfig({ data, model: fusemoe, train: { epochs: 2, batchSize: 16, patience: 0 } }, 'test');
  const model = buildModel(cfg.model, d.spec, 1);
  const samples: Sample[] = d.samples.slice(0, 48);
  const norm = fitNormalizer(d.spec, samples, { clip: null, logSkewed: null });
  const before = new Map(model.variables().map((v) => [v.name, v.dataSync().slice()] as const));
  finetuneParts(
    { model, task: d.spec.task, samples, toBatch: (s) => makeBatch(d.spec, s, norm, { maxTimesteps: 64 }), scoreValidation: () => ({ auroc: 0.5 }), log: quiet },
    parsePartChoice('router+head', 'test'),
    { ...cfg.train, loss: { ...cfg.train.loss, posWeight: 1 }, seed: 1 },
  );
  const changed = (name: string) => model.variables().find((v) => v.name === name)!.dataSync().some((x, i) => x !== before.get(name)![i]);
  const names = [...before.keys()];
  const gates = names.filter((n) => /\.gate\./.test(n));
  const heads = names.filter((n) => n.startsWith('head.'));
  assert.ok(gates.length > 0 && heads.length > 0);
  assert.ok(heads.some(changed), 'head trained');
  assert.ok(gates.some(changed), 'router trained');
  for (const n of names.filter((n) => !/\.gate\./.test(n) && !n.startsWith('head.'))) assert.ok(!changed(n), `${n} frozen`);
  assert.equal(finetuneParts({ model, task: d.spec.task, samples, toBatch: () => { throw new Error('unused'); }, scoreValidation: () => ({}) }, [], cfg.train as never), null);
  model.dispose();
});

test('unseen combinations end to end: a run holds groups out, finetune tabulates every choice on the held-out test part', async () => {
  const d = await loadDataset(data);
  const held = groupCounts(d)[1]!;
  const out = tmp('fm-ho-');
  const cfg = parseConfig({ name: 'ho', seeds: [1], data, model: fusemoe, split: { holdOutGroups: [held.name], holdOutFinetuneFraction: 0.3 }, train: { epochs: 2, batchSize: 16, patience: 0 } }, 'test');
  const run = await runExperiment(cfg, { baseDir: '.', outDir: out, log: quiet, progress: false });
  for (const s of ['train', 'val', 'test'] as const) assert.equal(run.metrics.groups[s]?.[held.name], undefined, `${s} has no held-out sample`);
  const file = JSON.parse(readFileSync(join(out, 'heldout.json'), 'utf8'));
  assert.equal(file.finetune.length, Math.round(0.3 * held.count));
  assert.equal(file.finetune.length + file.test.length, held.count);
  const ftOut = join(out, 'ft');
  const res = await runFinetune(out, { choices: ['nothing', 'head', 'router+head'], epochs: 2, outDir: ftOut, log: quiet });
  assert.deepEqual(Object.keys(res), ['nothing', 'head', 'router+head']);
  for (const r of Object.values(res)) {
    assert.equal(r.test!.n!.mean, file.test.length);
    assert.deepEqual(Object.keys(r.groups.test!), [held.name]);
  }
  assert.notDeepEqual(res.head!.test, res.nothing!.test, 'fine-tuning the head changes the predictions');
  for (const f of ['finetune.json', 'finetune.md', 'plots/finetune.svg']) assert.ok(existsSync(join(ftOut, f)), f);
  assert.match(readFileSync(join(ftOut, 'finetune.md'), 'utf8'), /\| router\+head \|/);
  // deterministic
  const again = await runFinetune(out, { choices: ['head'], epochs: 2, outDir: join(out, 'ft2'), log: quiet });
  assert.deepEqual(again.head, res.head);
  await assert.rejects(runFinetune(out, { choices: ['brain'], epochs: 1, outDir: join(out, 'ft3'), log: quiet }), /unknown model part/);
});

/**
 * `convert` writes any data source as FlexiModal JSONL (round trip: reading it back gives the same
 * samples), and `evaluate` / `predict` take any source via --data-config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../src/data/load.js';
import { readJsonl } from '../../src/data/sources/jsonl.js';
import { sharedData, skipUnless } from '../data/fixtures.js';
import { tempDirs } from '../helpers/tempDir.js';
import { jsonLines, runCli } from '../helpers/inProcessCli.js';

const tmp = tempDirs();

/** The CLI in this process (no child start-up per call). */
const run = (args: string[]) => runCli(args);
const dir = tmp('fm-convert-');

/** Convert the data source in `configFile` and check the JSONL reads back as the same dataset. */
async function roundTrip(configFile: string, source: unknown, baseDir: string): Promise<string> {
  const out = join(dir, `${Math.random().toString(36).slice(2)}.jsonl`);
  const r = await run(['convert', '--data-config', configFile, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const original = await loadDataset(source, baseDir);
  const back = await readJsonl(out);
  assert.deepEqual(back.spec, original.spec);
  assert.equal(back.samples.length, original.samples.length);
  // everything but `source` (where a sample was read: the original file:line, then the JSONL's);
  // an absent modality may be a missing key or a key holding undefined
  const strip = (xs: typeof back.samples) =>
    xs.map(({ source: _s, modalities, ...rest }) => ({ ...rest, modalities: Object.fromEntries(Object.entries(modalities).filter(([, m]) => m !== undefined)) }));
  assert.deepEqual(strip(back.samples), strip(original.samples));
  assert.match(r.stdout, new RegExp(`wrote ${original.samples.length} samples`));
  return out;
}

test('convert: synthetic source → JSONL → the same samples; an existing --out needs --overwrite', async () => {
  const source = { type: 'synthetic', n: 40, seed: 3, task: 'multilabel' };
  const cfg = join(dir, 'synthetic.json');
  writeFileSync(cfg, JSON.stringify(source));
  const out = await roundTrip(cfg, source, dir);
  const again = await run(['convert', '--data-config', cfg, '--out', out]);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /exists.*--overwrite/);
  assert.equal((await run(['convert', '--data-config', cfg, '--out', out, '--overwrite'])).status, 0);
  const none = await run(['convert', '--out', join(dir, 'x.jsonl')]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--data <file or directory> or --data-config/);
});

const p12 = join(sharedData, 'physionet2012', 'sample');
test('convert: PhysioNet 2012 records (run-config form) → JSONL → the same samples', { skip: skipUnless(p12) }, async () => {
  const source = { type: 'physionet2012', records: join(p12, 'set-a'), outcomes: join(p12, 'Outcomes-sample.txt'), grouping: 'seven-groups' };
  const cfg = join(dir, 'p12-run.json');
  writeFileSync(cfg, JSON.stringify({ name: 'x', data: source }));
  await roundTrip(cfg, source, dir);
});

test('evaluate and predict take any data source via --data-config (same results as the JSONL)', async () => {
  const source = { type: 'synthetic', n: 60, seed: 11 };
  writeFileSync(join(dir, 'train.json'), JSON.stringify({ name: 't', data: { type: 'synthetic', n: 80, seed: 4 }, model: { type: 'baseline', d: 8, hidden: [8], encoder: { kind: 'mean-pool-mlp' } }, train: { epochs: 1, batchSize: 16 } }));
  writeFileSync(join(dir, 'new.json'), JSON.stringify(source));
  const model = join(dir, 'run');
  const t = await run(['train', '--config', join(dir, 'train.json'), '--out', model, '--no-progress']);
  assert.equal(t.status, 0, t.stderr);
  const jsonl = join(dir, 'new.jsonl');
  assert.equal((await run(['convert', '--data-config', join(dir, 'new.json'), '--out', jsonl])).status, 0);

  const viaConfig = await run(['predict', '--model', model, '--data-config', join(dir, 'new.json')]);
  assert.equal(viaConfig.status, 0, viaConfig.stderr);
  const viaJsonl = await run(['predict', '--model', model, '--input', jsonl]);
  assert.deepEqual(jsonLines(viaConfig.stdout), jsonLines(viaJsonl.stdout));
  assert.equal(jsonLines(viaConfig.stdout).length, 60);

  const e1 = await run(['evaluate', '--model', model, '--data-config', join(dir, 'new.json'), '--out', join(dir, 'e1')]);
  const e2 = await run(['evaluate', '--model', model, '--data', jsonl, '--out', join(dir, 'e2')]);
  assert.equal(e1.status, 0, e1.stderr);
  assert.equal(e2.status, 0, e2.stderr);
  assert.equal(readFileSync(join(dir, 'e1', 'metrics.json'), 'utf8'), readFileSync(join(dir, 'e2', 'metrics.json'), 'utf8'));
  const both = await run(['predict', '--model', model, '--input', jsonl, '--data-config', join(dir, 'new.json')]);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /exclude each other/);
});

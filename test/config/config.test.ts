import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, readConfigFile, applyOverride } from '../../src/config/parse.js';
import { tempDirs } from '../helpers/tempDir.js';

const tmp = tempDirs();

const base = { data: { type: 'synthetic', n: 50 }, model: { type: 'baseline' } };

test('defaults are filled from the schema', () => {
  const cfg = parseConfig(base, 'inline');
  assert.equal(cfg.train.batchSize, 32);
  assert.equal(cfg.engine.backend, 'wasm');
  assert.deepEqual(cfg.split.fractions, [0.7, 0.15, 0.15]);
  assert.equal(cfg.model.type, 'baseline');
  if (cfg.model.type === 'baseline') assert.equal(cfg.model.encoder.kind, 'mtand');
  const f = parseConfig({ ...base, model: { type: 'fusemoe' } }, 'inline');
  assert.ok(f.model.type === 'fusemoe' && f.model.moe.gating === 'laplace' && f.model.missing === 'learned');
  assert.ok(f.model.type === 'fusemoe' && f.model.referenceCode.noiseAtInference === false);
});

test('errors name the file and the offending key', () => {
  assert.throws(() => parseConfig({ ...base, train: { lr: -1 } }, 'my.json'), /my\.json: invalid config: train\.lr/);
  assert.throws(() => parseConfig({ ...base, model: { type: 'fusemoe', moe: { gating: 'lapalce' } } }, 'c.json'), /model\.moe\.gating/);
  assert.throws(() => parseConfig({ ...base, trian: {} }, 'c.json'), /unknown key\(s\) 'trian'/);
  assert.throws(() => parseConfig({ model: { type: 'baseline' } }, 'c.json'), /data/);
});

test('invalid JSON reports file:line', () => {
  const dir = tmp('fm-cfg-');
  const p = join(dir, 'bad.json');
  writeFileSync(p, '{\n  "a": 1,\n  "b": ,\n}\n');
  assert.throws(() => readConfigFile(p), new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3`));
});

test('overrides set nested keys, parse JSON values and expand short names', () => {
  const a = applyOverride(base, 'train.lr=3e-4') as { train: { lr: number } };
  assert.equal(a.train.lr, 3e-4);
  const b = applyOverride({ ...base, model: { type: 'fusemoe' } }, 'gating=softmax') as { model: { moe: { gating: string } } };
  assert.equal(b.model.moe.gating, 'softmax');
  const c = applyOverride(base, 'seeds=[1,2]') as { seeds: number[] };
  assert.deepEqual(c.seeds, [1, 2]);
  assert.throws(() => applyOverride(base, 'novalue'), /not key=value/);
  assert.equal((base as Record<string, unknown>).train, undefined, 'input not mutated');
});

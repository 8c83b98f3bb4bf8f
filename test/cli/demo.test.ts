import { test } from 'node:test';
import assert from 'node:assert/strict';
import { terminalHeatmap } from '../../src/cli/demo.js';
import { demoConfigPaths } from '../../src/cli/defaults.js';
import { loadRunConfig } from '../../src/cli/train.js';

test('demo configs: baseline and FuseMoE on identical data, split, seeds and training', () => {
  const paths = demoConfigPaths();
  assert.deepEqual(Object.keys(paths), ['baseline', 'fusemoe']);
  const b = loadRunConfig(paths.baseline!, []);
  const f = loadRunConfig(paths.fusemoe!, []);
  assert.equal(b.model.type, 'baseline');
  assert.equal(f.model.type, 'fusemoe');
  assert.deepEqual(f.data, b.data);
  assert.deepEqual(f.split, b.split);
  assert.deepEqual(f.seeds, b.seeds);
  assert.deepEqual(f.train, b.train);
  assert.deepEqual(f.model.encoder, b.model.encoder);
});

test('terminalHeatmap: one row per expert with its load, shades and values per modality', () => {
  const out = terminalHeatmap({ modalities: ['vitals', 'labs'], shares: [[[1, 0], [0.25, 0.75]]], load: [[0.6, 0.4]] });
  const lines = out.split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /vitals\s+labs$/);
  assert.equal(lines[1], 'expert  0  60.0%  ██1.00    .00');
  assert.equal(lines[2], 'expert  1  40.0%  ░░ .25 ▓▓ .75');
});

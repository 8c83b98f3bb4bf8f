/**
 * Presets by name and data paths that do not assume this repository's layout (issue 18 §5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfigArg, presetNames } from '../../src/cli/defaults.js';
import { checkDataPaths, parseDataSource } from '../../src/data/load.js';
import { FlexiModalError } from '../../src/errors.js';

test('--config <preset name> resolves to the packaged configs/<name>.json from any working directory', (t) => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'fm-preset-'));
  t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
  const cwd = process.cwd();
  process.chdir(elsewhere);
  try {
    assert.match(resolveConfigArg('demo-synthetic'), /configs[\\/]demo-synthetic\.json$/);
    assert.match(resolveConfigArg('demo-synthetic.json'), /configs[\\/]demo-synthetic\.json$/);
    assert.ok(presetNames().includes('baseline-physionet2012'));
    assert.throws(() => resolveConfigArg('no-such-preset'), (e: unknown) => e instanceof FlexiModalError && /demo-synthetic/.test(e.message) && /--config no-such-preset/.test(e.message));
  } finally {
    process.chdir(cwd);
  }
});

test('an absent data path names the config key and the --set to pass', () => {
  const src = parseDataSource({ type: 'multiview-csv', views: { fac: 'nowhere/fac.csv' }, labels: 'nowhere/labels.csv' });
  assert.throws(
    () => checkDataPaths(src, tmpdir()),
    (e: unknown) => e instanceof FlexiModalError && /config key data\.labels/.test(e.message) && /--set data\.labels=<path>/.test(e.message),
  );
  const p12 = parseDataSource({ type: 'physionet2012', records: 'x/set-a.tar.gz', outcomes: 'x/Outcomes-a.txt' });
  assert.throws(() => checkDataPaths(p12, tmpdir(), 'externalData'), /--set externalData\.records=<path>.*data fetch physionet2012/);
});

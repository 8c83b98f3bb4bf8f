import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadDataset, parseDataSource } from '../../src/data/load.js';
import { writeJsonl } from '../../src/data/sources/jsonl.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { dropModalitiesAtRandom, extremeDrop, longTailDrop } from '../../src/data/missingness.js';
import { groupCounts, modalityCoverage } from '../../src/data/groups.js';
import { formatReport } from '../../src/data/report.js';
import { hasModality } from '../../src/data/schema.js';
import { FlexiModalError } from '../../src/errors.js';
import { sharedData, skipUnless, tmpDir } from './fixtures.js';

test('loadDataset dispatches: synthetic, jsonl (relative to baseDir), physionet2012', async () => {
  const syn = await loadDataset({ type: 'synthetic', n: 50, seed: 2 });
  assert.equal(syn.samples.length, 50);
  const dir = tmpDir();
  await writeJsonl(syn, join(dir, 'd.jsonl'));
  const back = await loadDataset({ type: 'jsonl', path: 'd.jsonl' }, dir);
  assert.equal(back.samples.length, 50);
  assert.match(back.hashes!['d.jsonl']!, /^[0-9a-f]{64}$/);
  const p12 = join(sharedData, 'physionet2012');
  if (!skipUnless(p12)) {
    const ds = await loadDataset(
      { type: 'physionet2012', records: 'physionet2012/sample/set-a', outcomes: 'physionet2012/sample/Outcomes-sample.txt', grouping: 'seven-groups' },
      sharedData,
    );
    assert.equal(ds.samples.length, 51);
  }
});

test('parseDataSource names the config key', () => {
  assert.throws(() => parseDataSource({ type: 'synthetic', n: -1 }), (e: unknown) => e instanceof FlexiModalError && e.message.includes('config key data.n'));
  assert.throws(() => parseDataSource({ type: 'csv' }), (e: unknown) => e instanceof FlexiModalError && e.message.includes('config key data.type'));
});

test('dropModalitiesAtRandom: rate ≈ p, keeps at least one, counts, copy only', () => {
  const d = generateSynthetic({ n: 2000, seed: 9, missingness: { demo: 0, vitals: 0, labs: 0, notes: 0 } });
  const r = dropModalitiesAtRandom(d, { p: 0.3, seed: 1 });
  assert.ok(d.samples.every((s) => d.spec.modalities.every((m) => hasModality(s, m.name))), 'original untouched');
  const cov = modalityCoverage(r.dataset);
  for (const m of ['demo', 'vitals', 'labs', 'notes']) {
    const rate = 1 - cov[m]! / 2000;
    assert.ok(Math.abs(rate - 0.3) < 0.04, `${m} ${rate}`);
    assert.equal(r.dropped[m], 2000 - cov[m]!);
  }
  assert.ok(r.dataset.samples.every((s) => d.spec.modalities.some((m) => hasModality(s, m.name))));
  // P(all 4 dropped) = 0.3^4 → about 16 samples keep one
  const kept = Object.values(r.keptToAvoidEmpty).reduce((a, b) => a + b, 0);
  assert.ok(kept > 3 && kept < 40, `kept ${kept}`);
  assert.equal(r.dataset.report.counts['modality dropped (random p=0.3)'], Object.values(r.dropped).reduce((a, b) => a + b, 0));
  assert.deepEqual(dropModalitiesAtRandom(d, { p: 0.3, seed: 1 }).dropped, r.dropped);
});

test('extremeDrop and longTailDrop', () => {
  const d = generateSynthetic({ n: 500, seed: 9, missingness: { demo: 0, vitals: 0, labs: 0, notes: 0 } });
  const e = extremeDrop(d, { modality: 'labs', fraction: 0.8, seed: 3 });
  assert.equal(e.dropped['labs'], 400);
  assert.equal(modalityCoverage(e.dataset)['labs'], 100);
  const lt = longTailDrop(d, { seed: 4 });
  const g = groupCounts(lt.dataset);
  assert.equal(g[0]!.name, 'demo+vitals+labs+notes');
  assert.ok(g.length >= 10);
  assert.ok(formatReport(lt.dataset.report, 'markdown').includes('modality dropped (long-tail alpha=1.5)'));
});

/**
 * Issue 19 §5: bookkeeping that must not be silent — duplicate class names, ranges for variables
 * that do not exist, spec modalities no sample has, headerless multi-view CSVs, truncated .csv.gz.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { loadDataset } from '../../src/data/load.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { writeJsonl } from '../../src/data/sources/jsonl.js';
import { formatReport } from '../../src/data/report.js';
import { assertGzipComplete } from '../../src/data/sources/mimicIv/layout.js';
import { assertDataError, tmpDir } from './fixtures.js';

/** A small JSONL file whose header spec is edited by `edit`. */
async function jsonlWith(dir: string, edit: (spec: Record<string, unknown>) => void, task: 'binary' | 'multiclass' = 'binary'): Promise<string> {
  const path = join(dir, `d-${Math.random().toString(36).slice(2)}.jsonl`);
  await writeJsonl(generateSynthetic({ n: 30, seed: 1, task }), path);
  const [head, ...rest] = readFileSync(path, 'utf8').trim().split('\n');
  const header = JSON.parse(head!) as { spec: Record<string, unknown> };
  edit(header.spec);
  writeFileSync(path, [JSON.stringify(header), ...rest].join('\n') + '\n');
  return path;
}

test('Seen §5: duplicate class names in a spec are refused (they would collapse the output probabilities)', async (t) => {
  const dir = tmpDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = await jsonlWith(dir, (spec) => ((spec.task as { classes: string[] }).classes = ['a', 'a', 'b']), 'multiclass');
  await assertDataError(() => loadDataset({ type: 'jsonl', path }), 'class name "a" is listed twice');
});

test('Seen §5: a range for a variable that does not exist is refused, listing the names that exist', async (t) => {
  const dir = tmpDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = await jsonlWith(dir, () => {});
  const ds = await loadDataset({ type: 'jsonl', path });
  const someVariable = ds.spec.modalities.flatMap((m) => (m.kind === 'timeseries' ? m.variables : []))[0]!;
  const e = await assertDataError(() => loadDataset({ type: 'jsonl', path, ranges: { HeartRateTypo: [0, 300] } }), 'range for unknown variable "HeartRateTypo"', 'config key data.ranges');
  assert.ok(e.message.includes(someVariable), e.message);
  // an existing name and the default key are fine
  await loadDataset({ type: 'jsonl', path, ranges: { [someVariable]: [null, null], '*': [-1e6, 1e6] } });
});

test('Seen §5: a spec modality that no sample has is a warning in the data report', async (t) => {
  const dir = tmpDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = await jsonlWith(dir, (spec) => (spec.modalities as unknown[]).push({ name: 'ghost', kind: 'static', features: ['x'] }));
  const ds = await loadDataset({ type: 'jsonl', path });
  assert.match(formatReport(ds.report, 'text'), /warning: modality ghost of the spec is in no sample/);
});

test('Seen §5: a multi-view CSV without a header row is refused instead of losing its first sample', async (t) => {
  const dir = tmpDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'v.csv'), '0.5,1.5\n0.25,2\n1,3\n');
  writeFileSync(join(dir, 'labels.csv'), 'y\n0\n1\n');
  await assertDataError(() => loadDataset({ type: 'multiview-csv', views: { v: 'v.csv' }, labels: 'labels.csv' }, dir), 'v.csv:1', 'all numbers', 'header row');
  writeFileSync(join(dir, 'v.csv'), 'f0,f1\n0.5,1.5\n0.25,2\n');
  const ds = await loadDataset({ type: 'multiview-csv', views: { v: 'v.csv' }, labels: 'labels.csv', task: 'binary' }, dir);
  assert.equal(ds.samples.length, 2);
});

test('Seen §5: a truncated .csv.gz is reported as truncated', async (t) => {
  const dir = tmpDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const full = gzipSync(Buffer.from('subject_id,hadm_id,admittime\n' + Array.from({ length: 2000 }, (_, i) => `${i},${i + 1},2150-01-01 00:00:00`).join('\n')));
  const good = join(dir, 'admissions.csv.gz');
  writeFileSync(good, full);
  await assertGzipComplete(good);
  writeFileSync(join(dir, 'cut.csv.gz'), full.subarray(0, Math.floor(full.length / 2)));
  await assertDataError(() => assertGzipComplete(join(dir, 'cut.csv.gz')), 'cut.csv.gz is truncated', 'gzip -t');
});

/**
 * The benchmark on the MIMIC-IV demo (../shared/data/mimic-iv-demo, skipped with a reason when
 * absent) under the extreme protocol: one protocol per modality the data has, every cell a run
 * directory whose report says what the protocol removed, and a modality whose table is absent
 * (the demo has no icu/chartevents, so no vitals) left out of the plan with the reason — not a
 * failed cell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBenchmark } from '../../src/benchmark/benchmark.js';
import { cellDir } from '../../src/benchmark/plan.js';
import type { Leaderboard } from '../../src/benchmark/leaderboard.js';
import { sharedData, skipUnless } from '../data/fixtures.js';
import { tempDir } from '../helpers/tempDir.js';

const DEMO = join(sharedData, 'mimic-iv-demo');
const PRESENT = ['labs', 'inputs', 'outputs', 'procedures', 'prescriptions', 'priorCodes', 'demographics'];

test('benchmark, MIMIC-IV demo × extreme: one protocol per present modality, the absent one named in the plan', async (t) => {
  const why = skipUnless(join(DEMO, 'icu', 'icustays.csv.gz'));
  if (why) {
    console.log(`# skipped: ${why}`);
    return t.skip(why);
  }
  const out = tempDir(t, 'fm-bench-mimic-');
  // the cell processes inherit the environment: their extraction cache stays inside this test's directory
  const cache = process.env['XDG_CACHE_HOME'];
  process.env['XDG_CACHE_HOME'] = join(out, 'cache');
  t.after(() => (cache === undefined ? delete process.env['XDG_CACHE_HOME'] : (process.env['XDG_CACHE_HOME'] = cache)));
  const lines: string[] = [];
  let res;
  try {
    res = await runBenchmark({ suite: 'quick', datasets: ['mimic-iv-ihm'], methods: ['late-fusion'], protocols: ['extreme'], seeds: [1], epochs: 1, bootstrapReps: 50, out: join(out, 'bench'), mimicDir: DEMO, workers: '1', log: (l) => lines.push(l), createdAt: 'fixed' });
  } catch (e) {
    if (/duckdb/i.test(String(e))) {
      console.log(`# skipped: DuckDB (optional dependency) is not installed: ${(e as Error).message}`);
      return t.skip('DuckDB not installed');
    }
    throw e;
  }
  assert.ok(lines.includes('skipped modality vitals of mimic-iv-ihm: table chartevents not found in the MIMIC-IV directory'), lines.join('\n'));
  assert.deepEqual(
    res.results.map((r) => `${r.id}: ${r.status}`),
    PRESENT.map((m) => `mimic-iv-ihm/extreme-${m}/late-fusion/seed-1: done`),
  );
  const lb = JSON.parse(readFileSync(join(out, 'bench', 'leaderboard.json'), 'utf8')) as Leaderboard;
  assert.deepEqual(
    lb.boards.map((b) => b.protocol),
    PRESENT.map((m) => `extreme-${m}`),
  );
  for (const m of PRESENT) {
    const dir = cellDir(join(out, 'bench'), `mimic-iv-ihm/extreme-${m}/late-fusion/seed-1`);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.deepEqual(config.missingness, { protocol: 'extreme', modality: m, fraction: 0.8, seed: 0, incomplete: 'drop' });
    assert.ok(!config.data.modalities.includes('vitals'), 'the absent modality is not asked of the source');
    // the run's report: complete samples kept, 80 % of them lose the modality (round(0.8 k))
    const log = readFileSync(join(out, 'bench', 'logs', `mimic-iv-ihm__extreme-${m}__late-fusion__seed-1.log`), 'utf8');
    const r = new RegExp(`(\\d+) of (\\d+) samples have every modality; \\d+ others removed; ${m} removed from (\\d+) of the (\\d+) complete samples`).exec(log);
    assert.ok(r, `the cell's log reports the protocol: ${log.slice(0, 600)}`);
    const [complete, removedFrom, of] = [Number(r[1]), Number(r[3]), Number(r[4])];
    assert.equal(of, complete);
    assert.equal(removedFrom, Math.round(0.8 * complete));
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBenchmark, type BenchmarkOptions } from '../../src/benchmark/benchmark.js';
import { cellDir } from '../../src/benchmark/plan.js';
import type { Leaderboard } from '../../src/benchmark/leaderboard.js';
import { readPredictionsFile } from '../../src/run/predictionsFile.js';
import { computeMetrics } from '../../src/eval/evaluate.js';
import { findAll, parseHtml, unescapeHtml } from './htmlCheck.js';

const CHROMIUM = '/usr/bin/chromium';

/** A tiny suite: synthetic data, 2 methods (+ xgboost where this build has it not), natural + unseen, 1 epoch. */
function tiny(out: string, extra: Partial<BenchmarkOptions> = {}): BenchmarkOptions {
  return { suite: 'quick', datasets: ['synthetic'], methods: ['late-fusion', 'fusemoe-softmax'], protocols: ['natural', 'unseen'], seeds: [1], epochs: 1, syntheticN: 240, bootstrapReps: 200, out, workers: '2', log: () => {}, createdAt: 'fixed', ...extra };
}

test('benchmark end to end on a tiny suite: cells are run directories, leaderboard json/md/html, resume and --only', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'fm-bench-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const first = await runBenchmark(tiny(out));
  assert.deepEqual(first.results.map((r) => r.status).sort(), ['done', 'done', 'done', 'done']);
  const lb = JSON.parse(readFileSync(join(out, 'leaderboard.json'), 'utf8')) as Leaderboard;
  assert.equal(lb.cells.total, 4);
  assert.equal(lb.cells.finished, 4);
  assert.deepEqual(lb.boards.map((b) => `${b.dataset}/${b.protocol}/${b.part}`), ['synthetic/natural/test', 'synthetic/unseen/heldout-test']);

  for (const b of lb.boards) {
    assert.equal(b.metric, 'auroc');
    assert.deepEqual(b.methods.map((m) => m.rank).sort(), [1, 2]);
    const best = b.methods.find((m) => m.rank === 1)!;
    const other = b.methods.find((m) => m.rank === 2)!;
    assert.equal(b.best, best.method);
    assert.ok(best.primary!.mean! >= other.primary!.mean!);
    // the interval's point difference is the difference of the ranked means
    assert.ok(other.vsBest, 'an interval against the best');
    assert.ok(Math.abs(other.vsBest!.diff - (other.primary!.mean! - best.primary!.mean!)) < 1e-9);
    assert.ok(other.vsBest!.lo <= other.vsBest!.diff && other.vsBest!.diff <= other.vsBest!.hi);
    assert.equal(best.vsBest, null);
    const fm = b.methods.find((m) => m.method === 'fusemoe-softmax')!;
    assert.ok(fm.vsBaseline && fm.vsBaseline.against === 'late-fusion');
    // per-group n adds up to the ranked part's n
    assert.equal(Object.values(b.groupN).reduce((a, n) => a + n, 0), b.n);
    for (const m of b.methods) assert.ok(m.secondsPerCell! > 0);
  }
  // the natural protocol's ranked metric is the cell's own metrics.json test AUROC, recomputable from its predictions
  const nat = lb.boards[0]!;
  const cell = cellDir(out, 'synthetic/natural/late-fusion/seed-1');
  const metrics = JSON.parse(readFileSync(join(cell, 'metrics.json'), 'utf8'));
  const lf = nat.methods.find((m) => m.method === 'late-fusion')!;
  assert.equal(lf.primary!.mean, metrics.test.auroc.mean);
  const preds = readPredictionsFile(cell, 1, 'test');
  assert.equal(preds.ids.length, metrics.test.n.mean);
  assert.ok(Math.abs(computeMetrics({ kind: 'binary' }, Float32Array.from(preds.probs), Float32Array.from(preds.labels)).auroc - metrics.test.auroc.mean) < 1e-12);
  assert.ok(lf.longTail && 'auroc' in lf.longTail.head, 'head / tail on the natural protocol');
  // the unseen protocol ranks on the held-out combination only
  const unseen = lb.boards[1]!;
  assert.deepEqual(Object.keys(unseen.groupN), ['demo+vitals+labs']);
  const held = JSON.parse(readFileSync(join(cellDir(out, 'synthetic/unseen/late-fusion/seed-1'), 'heldout.json'), 'utf8'));
  assert.equal(unseen.n, held.test.length);

  // Markdown
  const md = readFileSync(join(out, 'leaderboard.md'), 'utf8');
  assert.match(md, /### synthetic — natural/);
  assert.match(md, /\| 1 \| (late-fusion|fusemoe-softmax) \| 0\.\d{3} \| best \|/);
  assert.match(md, /Per modality combination/);

  // HTML: well formed, one sortable table and one heat-map per board, numeric sort keys, per-group n
  const html = readFileSync(join(out, 'leaderboard.html'), 'utf8');
  assert.doesNotMatch(html, /(src|href)="https?:/, 'no external resources');
  const doc = parseHtml(html);
  const sortable = findAll(doc, (e) => e.tag === 'table' && e.attrs.class === 'sortable');
  const heat = findAll(doc, (e) => e.tag === 'table' && e.attrs.class === 'heatmap');
  assert.equal(sortable.length, 2);
  assert.equal(heat.length, 2);
  const rows = findAll(sortable[0]!, (e) => e.tag === 'tr' && e.parent?.tag === 'tbody');
  assert.equal(rows.length, 2);
  const rankCells = rows.map((r) => findAll(r, (e) => e.tag === 'td')[0]!.attrs['data-value']);
  assert.deepEqual(rankCells, ['1', '2']);
  const auc = rows.map((r) => Number(findAll(r, (e) => e.tag === 'td')[2]!.attrs['data-value']));
  assert.ok(auc[0]! >= auc[1]!);
  const heatCells = findAll(heat[0]!, (e) => e.tag === 'td' && e.attrs.class === 'heat');
  assert.equal(heatCells.length, 2 * Object.keys(nat.groupN).length);
  for (const c of heatCells.filter((c) => c.attrs['data-value'] !== '')) assert.match(c.attrs.style!, /^background:hsl\(/);
  const headerNs = findAll(heat[0]!, (e) => e.tag === 'th' && 'data-n' in e.attrs).map((e) => [unescapeHtml(e.text.replace(/n=\d+$/, '')), Number(e.attrs['data-n'])]);
  assert.deepEqual(Object.fromEntries(headerNs), nat.groupN);

  // a second invocation resumes: nothing is retrained
  const stamp = statSync(join(cell, 'metrics.json')).mtimeMs;
  const second = await runBenchmark(tiny(out));
  assert.deepEqual(second.results.map((r) => r.status), ['cached', 'cached', 'cached', 'cached']);
  assert.equal(statSync(join(cell, 'metrics.json')).mtimeMs, stamp);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'leaderboard.json'), 'utf8')), lb);

  // --tabulate runs nothing and writes the same leaderboard
  const tab = await runBenchmark(tiny(out, { tabulateOnly: true }));
  assert.deepEqual(tab.results, []);
  assert.deepEqual(JSON.parse(JSON.stringify(tab.leaderboard)), lb);

  // --only reruns exactly that cell; a removed cell is run again, the others are kept
  const other = cellDir(out, 'synthetic/unseen/fusemoe-softmax/seed-1');
  rmSync(other, { recursive: true });
  const third = await runBenchmark(tiny(out, { only: 'synthetic/natural/late-fusion/seed-1' }));
  assert.deepEqual(third.results.map((r) => `${r.id}:${r.status}`), ['synthetic/natural/late-fusion/seed-1:done']);
  assert.notEqual(statSync(join(cell, 'metrics.json')).mtimeMs, stamp);
  assert.equal(existsSync(other), false);
  const fourth = await runBenchmark(tiny(out));
  assert.deepEqual(fourth.results.filter((r) => r.status === 'done').map((r) => r.id), ['synthetic/unseen/fusemoe-softmax/seed-1']);
  // same seeds, same data: the rerun cells reproduce the leaderboard (wall times aside)
  const strip = (l: Leaderboard) => JSON.stringify(l.boards.map((b) => ({ ...b, methods: b.methods.map((m) => ({ ...m, secondsPerCell: null })) })));
  assert.equal(strip(JSON.parse(readFileSync(join(out, 'leaderboard.json'), 'utf8'))), strip(lb));

  // the page sorts in a real browser when one is installed
  if (!existsSync(CHROMIUM)) {
    console.log(`# skipped the browser check: ${CHROMIUM} is not installed`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(`file://${join(out, 'leaderboard.html')}`);
    const header = page.locator('table.sortable').first().locator('thead th').nth(2);
    await header.click(); // ascending
    const ascending = await page.locator('table.sortable').first().locator('tbody tr td:nth-child(3)').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
    assert.deepEqual(ascending, auc.slice().sort((a, b) => a - b));
    await header.click(); // descending
    const descending = await page.locator('table.sortable').first().locator('tbody tr td:nth-child(3)').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
    assert.deepEqual(descending, auc.slice().sort((a, b) => b - a));
  } finally {
    await browser.close();
  }
});

test('bad benchmark options are refused with the option named', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'fm-bench-bad-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  await assert.rejects(runBenchmark(tiny(join(out, 'a'), { methods: ['nope'] })), /--methods: unknown method 'nope'/);
  await assert.rejects(runBenchmark(tiny(join(out, 'b'), { protocols: ['sideways'] })), /--protocols: unknown protocol 'sideways'/);
  await assert.rejects(runBenchmark(tiny(join(out, 'c'), { suite: 'huge' })), /--suite: unknown suite 'huge'/);
  await assert.rejects(runBenchmark(tiny(join(out, 'd'), { only: 'synthetic/natural/nope' })), /--only 'synthetic\/natural\/nope' names no cell/);
  // an unrelated non-empty directory is never written into
  const foreign = join(out, 'foreign');
  (await import('node:fs')).mkdirSync(foreign);
  (await import('node:fs')).writeFileSync(join(foreign, 'notes.txt'), 'mine');
  await assert.rejects(runBenchmark(tiny(foreign)), /not a benchmark directory/);
  assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'mine');
});

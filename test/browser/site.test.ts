/**
 * The exported static site in a real browser: Debian chromium, headless, driven by playwright-core.
 * Tiny models trained here on real data (PhysioNet 2012 set-a sample: FuseMoE; UCI mfeat:
 * REMIND; every model type's loader is checked in Node by modelFiles.test.ts), exported with
 * `fleximodal export --format web`, served from a loopback static server; 50 records dropped
 * into the page as a JSONL file. Checks: the page's probabilities equal Node's to 1e-5, the
 * explanation bars are drawn, the no-modality warning shows, the run metrics are tabulated, and every request goes to the loopback server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { loadDataset } from '../../src/data/load.js';
import { sampleToJson } from '../../src/data/sources/jsonl.js';
import { Predictor } from '../../src/serve/predictor.js';
import { runExport } from '../../src/cli/export.js';
import { FAST_KERNELS } from '../../src/engine/fastKernelSet.js';
import { chromiumSkipReason, launchChromium } from './chromium.js';
import { serveStatic } from './staticServer.js';
import { mfeat, physionetSample, SHARED_DATA, TINY_MODELS, trainTiny } from './tinyModels.js';

const TOL = 1e-5;

/**
 * The bar groups the page should draw for an explanation, by path: every `{ name: number }` field
 * and every non-empty `topExperts` / `retrieved` list, walking nested objects (so it holds for the
 * routing-only explanation and for one with `attribution` / `routing` sections).
 */
function expectedGroups(e: unknown, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(e as Record<string, unknown>)) {
    if (['id', 'target', 'probability', 'basis'].includes(k)) continue;
    const path = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v)) {
      if ((k === 'topExperts' || k === 'retrieved') && v.length) out.push(path);
    } else if (v && typeof v === 'object') {
      const vals = Object.values(v);
      if (vals.length && vals.every((x) => typeof x === 'number')) out.push(path);
      else out.push(...expectedGroups(v, path));
    }
  }
  return out;
}

interface Case {
  name: string;
  data: Record<string, unknown> | null;
  model: Record<string, unknown>;
  extra?: Record<string, unknown>;
  thin?: (record: Record<string, unknown>, i: number) => Record<string, unknown>;
}

const CASES: Case[] = [
  { name: 'physionet2012-fusemoe', data: physionetSample(), model: TINY_MODELS['fusemoe-laplace']! },
  {
    name: 'mfeat-remind',
    data: mfeat(),
    model: TINY_MODELS['remind']!,
    extra: { missingness: { protocol: 'random-drop', p: 0.3, seed: 0 } },
    // some views removed from the records, so the page sees several modality combinations
    thin: (r, i) => {
      const m = r['modalities'] as Record<string, unknown>;
      if (i % 3 === 0) delete m['fac'];
      if (i % 5 === 0) delete m['pix'];
      return r;
    },
  },
];

for (const c of CASES) {
  test(`browser: exported ${c.name} site predicts as Node does`, async (t) => {
    const skip = (await chromiumSkipReason()) ?? (c.data ? null : `real data not found under ${SHARED_DATA}`);
    if (skip) {
      console.log(`# skip: ${skip}`);
      return t.skip(skip);
    }
    const root = mkdtempSync(join(tmpdir(), `fm-site-${c.name}-`));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    await initEngine();
    const run = await trainTiny(join(root, 'run'), c.data!, c.model, { baseDir: SHARED_DATA, epochs: 2, extra: c.extra });

    // 50 real records as a FlexiModal JSONL file (header + samples, labels kept: the page ignores them)
    const ds = await loadDataset(c.data!, SHARED_DATA);
    const records = ds.samples.slice(-50).map((s, i) => (c.thin ?? ((r) => r))(sampleToJson(ds.spec, s), i));
    assert.equal(records.length, 50);
    const jsonlPath = join(root, 'records.jsonl');
    writeFileSync(jsonlPath, [JSON.stringify({ fleximodal: 1, spec: ds.spec }), ...records.map((r) => JSON.stringify(r))].join('\n') + '\n');
    const node = await Predictor.load(run);
    const explain = !!node.model.explain;
    const expected = node.predict(records, { explain });
    node.dispose();

    const site = join(root, 'site');
    const lines: string[] = [];
    await runExport({ model: run, format: 'web', out: site }, (l) => lines.push(l));
    const server = await serveStatic(site);
    t.after(() => server.close());
    const browser = await launchChromium();
    t.after(() => browser.close());
    const requests: string[] = [];
    const problems: string[] = [];
    browser.context.on('request', (r) => requests.push(r.url()));
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    await page.goto(server.url);
    await page.waitForFunction(() => document.getElementById('status')?.dataset['state'] !== 'loading', null, { timeout: 30_000 });
    assert.equal(await page.getAttribute('#status', 'data-state'), 'ready', `${await page.textContent('#status')} ${problems.join('; ')}`);

    // the engine's fast wasm kernels run in the page too (pure JS over the wasm heap)
    const fast = await page.evaluate(() => window.fleximodalPage!.fastKernels);
    assert.deepEqual(fast, FAST_KERNELS.map((k) => k.kernelName));

    // drop the JSONL file through the file input
    await page.setInputFiles('#file', jsonlPath);
    await page.waitForFunction(() => document.querySelectorAll('tr.prediction').length === 50, null, { timeout: 20_000 });
    const shown = await page.$$eval('tr.prediction', (rows) => rows.map((r) => ({ id: r.getAttribute('data-id')!, probs: JSON.parse(r.getAttribute('data-probs')!) as Record<string, number> })));
    assert.deepEqual(shown.map((s) => s.id), expected.map((p) => p.id));
    let worst = 0;
    shown.forEach((s, i) => {
      const want = expected[i]!.probs;
      assert.deepEqual(Object.keys(s.probs), Object.keys(want));
      for (const k of Object.keys(want)) worst = Math.max(worst, Math.abs(s.probs[k]! - want[k]!));
    });
    console.log(`# ${c.name}: 50 records, max |page − node| = ${worst.toExponential(2)}`);
    assert.ok(worst <= TOL, `page and Node differ by ${worst}`);

    // the explanation of the first record whose explanation has bars: every group drawn, with a width
    const target = expected.findIndex((p) => p.explanation && expectedGroups(p.explanation).length > 0);
    assert.ok(!explain || target >= 0, 'Node explains some record');
    if (target >= 0) await page.click(`tr.prediction:nth-child(${target + 1})`);
    const probBars = await page.$$eval('#explanation .bar-group[data-kind="risk"] .bar, #explanation .bar-group[data-kind="probs"] .bar', (bs) => bs.length);
    assert.ok(probBars >= 1, 'probability bars');
    if (target >= 0) {
      const bars = await page.$$eval('#explanation .explanation .bar', (bs) => bs.map((b) => b.getBoundingClientRect().width));
      assert.ok(bars.length > 0 && bars.some((w) => w > 0), `explanation bars drawn: ${bars.join(', ')}`);
      const kinds = await page.$$eval('#explanation .explanation .bar-group', (gs) => gs.map((g) => g.getAttribute('data-kind')));
      assert.deepEqual(kinds, expectedGroups(expected[target]!.explanation));
    }

    // the run's per-group test metrics
    const groupRows = await page.$$eval('#metrics-table tr.group', (rs) => rs.length); // groups of ≥ 5 samples
    assert.ok((await page.$$('#metrics-table tr.overall')).length === 1 && groupRows >= 1, 'metrics table');

    const shot = join(tmpdir(), `fleximodal-site-${c.name}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`# screenshot: ${shot}`);

    // a pasted record with no modality: predicted (the prior), with the warning
    await page.fill('#paste', JSON.stringify({ id: 'nothing-observed', modalities: {} }));
    await page.click('#predict-paste');
    await page.waitForSelector('#no-modality-warning', { timeout: 10_000 });
    assert.equal(await page.getAttribute('tr.prediction', 'data-id'), 'nothing-observed');
    // a bad record: the same by-name error as Node, shown on the page
    await page.fill('#paste', JSON.stringify({ id: 'bad', modalities: { nosuch: { values: [1] } } }));
    await page.click('#predict-paste');
    await page.waitForSelector('#input-error:not([hidden])', { timeout: 10_000 });
    assert.match((await page.textContent('#input-error')) ?? '', /modalities\.nosuch: unknown modality/);

    assert.deepEqual(problems, []);
    const foreign = requests.filter((u) => !u.startsWith(server.url));
    assert.deepEqual(foreign, [], 'every request goes to the loopback static server');
    assert.ok(server.requests.includes('/model/weights.safetensors') && server.requests.some((p) => p.endsWith('.wasm')), server.requests.join(', '));
  });
}

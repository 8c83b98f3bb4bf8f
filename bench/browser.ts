/**
 * Browser benchmark (`npm run bench:browser`): the `fleximodal/browser` bundle's size (raw and
 * gzip), the exported page's time to first prediction, and single-record latency (p50, p90) in
 * the page (headless Debian chromium) beside Node (`Predictor.predict`, same process, same
 * machine, same records), one run. A figure, not a test.
 *
 *   node dist/bench/browser.js [--iters 300] [--epochs 1]
 *
 * Model: FuseMoE with the dims of configs/fusemoe-physionet2012.json (d 64, UTDE γ 24, 8 experts,
 * top-2, Laplace gating), trained --epochs on the PhysioNet 2012 set-a sample (51 stays); the
 * records are those 51 stays, raw JSON objects (parsing included on both sides).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initEngine, engineSummary } from '../src/engine/backend.js';
import { loadDataset } from '../src/data/load.js';
import { sampleToJson } from '../src/data/sources/jsonl.js';
import { Predictor } from '../src/serve/predictor.js';
import { exportWebSite } from '../src/export/web/exportWeb.js';
import { serveStatic } from '../test/browser/staticServer.js';
import { chromiumSkipReason, launchChromium, CHROMIUM } from '../test/browser/chromium.js';
import { physionetSample, SHARED_DATA, trainTiny } from '../test/browser/tinyModels.js';
import { arg, quantile } from './benchArgs.js';



const kb = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;

const BENCH_MODEL = {
  type: 'fusemoe',
  d: 64,
  encoder: { kind: 'utde', gamma: 24, dt: 32, heads: 4 },
  blocks: 1,
  heads: 4,
  dropout: 0.1,
  moe: { numExperts: 8, topK: 2, hidden: 128, gating: 'laplace', router: 'per-modality' },
  missing: 'learned',
};

async function main(): Promise<void> {
  const iters = Number(arg('iters', '300'));
  const epochs = Number(arg('epochs', '1'));
  const bundle = resolve('dist/browser/fleximodal.js');
  const js = readFileSync(bundle);
  const app = readFileSync(resolve('dist/browser/app.js'));
  console.log('## Bundle');
  console.log(`fleximodal.js: ${kb(js.byteLength)} raw, ${kb(gzipSync(js, { level: 9 }).byteLength)} gzip -9; app.js ${kb(app.byteLength)} raw, ${kb(gzipSync(app, { level: 9 }).byteLength)} gzip`);

  const skip = (await chromiumSkipReason()) ?? (physionetSample() ? null : `PhysioNet sample not found under ${SHARED_DATA}`);
  if (skip) {
    console.log(`skipping the page timings: ${skip}`);
    return;
  }
  await initEngine();
  const root = mkdtempSync(join(tmpdir(), 'fm-bench-browser-'));
  try {
    const run = await trainTiny(join(root, 'run'), physionetSample()!, BENCH_MODEL, { baseDir: SHARED_DATA, epochs });
    const ds = await loadDataset(physionetSample()!, SHARED_DATA);
    const records = ds.samples.map((s) => sampleToJson(ds.spec, s));
    const site = await exportWebSite(run, join(root, 'site'));
    const wasm = site.files.filter((f) => f.path.endsWith('.wasm'));
    console.log(`wasm binaries: ${wasm.map((f) => `${f.path.replace('wasm/', '')} ${kb(f.bytes)}`).join(', ')}`);

    // Node: the same records, one at a time, in this process.
    const node = await Predictor.load(run);
    const nodeTimes = (explain: boolean): number[] => {
      for (let i = 0; i < 30; i++) node.predict([records[i % records.length]!], { explain });
      const out: number[] = [];
      for (let i = 0; i < iters; i++) {
        const t0 = performance.now();
        node.predict([records[i % records.length]!], { explain });
        out.push(performance.now() - t0);
      }
      return out;
    };
    const nodePlain = nodeTimes(false);
    const nodeExplain = nodeTimes(true);
    node.dispose();

    // The page in headless chromium.
    const server = await serveStatic(site.outDir);
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(server.url);
      await page.waitForFunction(() => window.fleximodalPage !== undefined, null, { timeout: 60_000 });
      const result = await page.evaluate(
        ({ records, iters }) => {
          const h = window.fleximodalPage!;
          const t0 = performance.now();
          h.predictor.predict([records[0]!]);
          const firstAt = performance.now();
          const loop = (explain: boolean): number[] => {
            for (let i = 0; i < 30; i++) h.predictor.predict([records[i % records.length]!], { explain });
            const out: number[] = [];
            for (let i = 0; i < iters; i++) {
              const s = performance.now();
              h.predictor.predict([records[i % records.length]!], { explain });
              out.push(performance.now() - s);
            }
            return out;
          };
          return { readyAt: h.readyAt, firstPredictMs: firstAt - t0, plain: loop(false), explain: loop(true), ua: navigator.userAgent };
        },
        { records, iters },
      );
      console.log(`\n## Page (${CHROMIUM}, ${result.ua.match(/Chrome\/[\d.]+/)?.[0] ?? 'chromium'}) vs Node ${process.version} (${engineSummary()})`);
      console.log(`model: ${site.modelType} (d 64, UTDE γ 24, 8 experts top-2), ${records.length} PhysioNet 2012 sample stays, ${iters} single-record predictions each`);
      // ready (engine started, model fetched and built) + the first, cold prediction
      console.log(`time to first prediction: ${(result.readyAt + result.firstPredictMs).toFixed(0)} ms from navigation start (page ready at ${result.readyAt.toFixed(0)} ms: wasm engine started, model fetched and built; first, cold predict ${result.firstPredictMs.toFixed(0)} ms)`);
      console.log('\n| single record | page p50 | page p90 | Node p50 | Node p90 | page / Node (p50) |');
      console.log('|---|---|---|---|---|---|');
      for (const [name, p, n] of [['predict', result.plain, nodePlain], ['predict + explain', result.explain, nodeExplain]] as const) {
        console.log(`| ${name} | ${quantile(p, 0.5).toFixed(2)} ms | ${quantile(p, 0.9).toFixed(2)} ms | ${quantile(n, 0.5).toFixed(2)} ms | ${quantile(n, 0.9).toFixed(2)} ms | ${(quantile(p, 0.5) / quantile(n, 0.5)).toFixed(2)} |`);
      }
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

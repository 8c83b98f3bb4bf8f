/**
 * `fleximodal export --format web` in-process: the site's files, the output-directory rule
 * (non-empty refused without --overwrite; --overwrite replaces only an earlier export), the ONNX
 * placeholder and an unknown format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { runExport } from '../../src/cli/export.js';
import { FlexiModalError } from '../../src/errors.js';
import { TINY_MODELS, trainTiny } from './tinyModels.js';

test('export --format web writes the site; refuses a non-empty --out; --overwrite replaces only a site', async (t) => {
  if (!existsSync('dist/browser/fleximodal.js')) {
    console.log('# skip: dist/browser not built (run npm run build)');
    return t.skip('dist/browser not built');
  }
  await initEngine();
  const root = mkdtempSync(join(tmpdir(), 'fm-export-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const run = await trainTiny(join(root, 'run'), { type: 'synthetic', n: 64, seed: 2 }, TINY_MODELS['fusemoe-laplace']!);
  const site = join(root, 'site');
  const log: string[] = [];
  await runExport({ model: join(run, 'model'), format: 'web', out: site }, (l) => log.push(l));
  for (const f of ['index.html', 'app.js', 'fleximodal.js', 'site.json', 'metrics.json', 'model/model.json', 'model/weights.safetensors', 'wasm/tfjs-backend-wasm.wasm', 'wasm/tfjs-backend-wasm-simd.wasm', 'wasm/tfjs-backend-wasm-threaded-simd.wasm']) {
    assert.ok(existsSync(join(site, f)), `${f} written`);
  }
  assert.deepEqual(readFileSync(join(site, 'model/weights.safetensors')), readFileSync(join(run, 'model/weights.safetensors')));
  assert.deepEqual(JSON.parse(readFileSync(join(site, 'metrics.json'), 'utf8')), JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')));
  const manifest = JSON.parse(readFileSync(join(site, 'site.json'), 'utf8'));
  assert.equal(manifest.format, 'fleximodal-web-site');
  assert.equal(manifest.modelType, 'fusemoe');
  assert.match(log.at(-1)!, /exported the fusemoe model .*with the run metrics/);
  // no CDN: the page and its script name no other host
  for (const f of ['index.html', 'app.js']) assert.doesNotMatch(readFileSync(join(site, f), 'utf8'), /https?:\/\/(?!www\.w3\.org)/, f);

  const isErr = (re: RegExp) => (e: unknown) => e instanceof FlexiModalError && re.test(e.message);
  await assert.rejects(runExport({ model: run, format: 'web', out: site }, () => {}), isErr(/--out .*site: the output directory is not empty/));
  writeFileSync(join(site, 'stale.txt'), 'x');
  await runExport({ model: run, format: 'web', out: site, overwrite: true }, () => {});
  assert.ok(!existsSync(join(site, 'stale.txt')), 'an earlier export is replaced');
  // a non-empty directory that is not an export is never deleted, even with --overwrite
  const other = join(root, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'notes.txt'), 'keep');
  await assert.rejects(runExport({ model: run, format: 'web', out: other, overwrite: true }, () => {}), isErr(/not a site written by `fleximodal export --format web`/));
  assert.equal(readFileSync(join(other, 'notes.txt'), 'utf8'), 'keep');
  // a broken model: no site is written
  await assert.rejects(runExport({ model: join(root, 'nothing'), format: 'web', out: join(root, 'site2') }, () => {}), isErr(/no model\.json found/));
  assert.ok(!existsSync(join(root, 'site2')));

  // the same command writes the ONNX file (its contract: test/export/)
  await runExport({ model: run, format: 'onnx', out: join(root, 'm.onnx') }, () => {});
  assert.ok(existsSync(join(root, 'm.onnx')) && existsSync(join(root, 'm.onnx.json')));
  await assert.rejects(runExport({ model: run, format: 'tflite', out: join(root, 'x') }, () => {}), isErr(/unknown export format 'tflite'/));
});

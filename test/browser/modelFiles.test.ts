/**
 * The file-system free loader shared by Node and the browser build, for every model type:
 * loadModel (disk) = modelFromFiles (bytes) = BrowserPredictor.fromUrl (fetched), prediction for
 * prediction and explanation for explanation; its refusals; and the browser bundle's contents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { loadModel } from '../../src/models/persist.js';
import { modelFromFiles, MODEL_FILES } from '../../src/models/modelFiles.js';
import { Predictor } from '../../src/serve/predictor.js';
import { predictSamples } from '../../src/serve/predictSamples.js';
import { BrowserPredictor } from '../../src/browser/predictor.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { sampleToJson } from '../../src/data/sources/jsonl.js';
import { encodeSafetensors, decodeSafetensors } from '../../src/engine/safetensors.js';
import { FlexiModalError } from '../../src/errors.js';
import { TINY_MODELS, trainTiny } from './tinyModels.js';

/** A fetch over a directory on disk (what a static server would answer). */
function diskFetch(dir: string, seen: string[] = []) {
  return async (url: string) => {
    seen.push(url);
    const path = join(dir, url.replace(/^model\//, ''));
    const ok = existsSync(path);
    const bytes = ok ? readFileSync(path) : Buffer.alloc(0);
    return {
      ok,
      status: ok ? 200 : 404,
      text: async () => bytes.toString('utf8'),
      arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    };
  };
}

const readFiles = (modelDir: string) => ({
  meta: readFileSync(join(modelDir, MODEL_FILES.meta), 'utf8'),
  weights: readFileSync(join(modelDir, MODEL_FILES.weights)),
  bank: existsSync(join(modelDir, MODEL_FILES.bank))
    ? { bank: readFileSync(join(modelDir, MODEL_FILES.bank)), pool: readFileSync(join(modelDir, MODEL_FILES.pool), 'utf8') }
    : undefined,
});

test('every model type: disk loader = bytes loader = browser URL loader, prediction for prediction', async (t) => {
  await initEngine();
  const root = mkdtempSync(join(tmpdir(), 'fm-modelfiles-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const data = { type: 'synthetic', n: 96, seed: 3, missingness: 'long-tail' };
  const fresh = generateSynthetic({ n: 12, seed: 77, missingness: 'long-tail' });
  const records = fresh.samples.map((s) => sampleToJson(fresh.spec, s));
  records.push({ id: 'empty', modalities: {} });
  for (const [name, model] of Object.entries(TINY_MODELS)) {
    const run = await trainTiny(join(root, name), data, model);
    const modelDir = join(run, 'model');
    // one model at a time: tfjs variable names are process-wide until models are scoped per instance
    const node = await Predictor.load(run);
    const explain = !!node.model.explain;
    const expected = node.predict(records, { explain });
    const parsed = node.parse(records);
    node.dispose();
    assert.equal(expected.at(-1)!.noModality, true);
    // experts or retrievals named somewhere in the explanations (whatever their nesting)
    if (explain) assert.ok(expected.some((p) => /"(topExperts|retrieved)":\[\{/.test(JSON.stringify(p.explanation))), `${name}: explained`);

    const fromBytes = modelFromFiles(readFiles(modelDir), modelDir);
    const got = predictSamples(fromBytes.model, fromBytes.meta, parsed, { explain });
    fromBytes.model.dispose();
    assert.deepEqual(got, expected, `${name}: modelFromFiles`);

    const seen: string[] = [];
    const browser = await BrowserPredictor.fromUrl('model/', diskFetch(modelDir, seen));
    try {
      assert.deepEqual(browser.predict(records, { explain: browser.explains }), expected, `${name}: BrowserPredictor.fromUrl`);
      assert.equal(browser.explains, explain);
      // the bank is fetched for moe-retriever models only
      assert.equal(seen.some((u) => u.includes('retrieval-')), name === 'moe-retriever', `${name}: ${seen.join(', ')}`);
      // JSONL text through the shared line reader = the same records
      const jsonl = [JSON.stringify({ fleximodal: 1, spec: fresh.spec }), ...records.map((r) => JSON.stringify(r))].join('\n') + '\n';
      const { samples } = browser.parseJsonl(jsonl, 'fresh.jsonl');
      assert.deepEqual(browser.predict(samples, { explain }).map((p) => p.probs), expected.map((p) => p.probs));
    } finally {
      browser.dispose();
    }
  }
});

test('modelFromFiles refuses what loadModel refuses, naming the file', async (t) => {
  await initEngine();
  const root = mkdtempSync(join(tmpdir(), 'fm-modelfiles-bad-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const run = await trainTiny(join(root, 'ret'), { type: 'synthetic', n: 64, seed: 5 }, TINY_MODELS['moe-retriever']!);
  const modelDir = join(run, 'model');
  const files = readFiles(modelDir);
  const isErr = (re: RegExp) => (e: unknown) => e instanceof FlexiModalError && re.test(e.message);

  // a pool-retrieving model without its bank: the same error from disk and from bytes
  assert.throws(() => modelFromFiles({ ...files, bank: undefined }, 'site/model'), isErr(/site\/model: the model directory has no retrieval bank/));

  // a weight renamed: missing by name
  const w = decodeSafetensors(files.weights);
  const [first] = [...w.keys()].sort();
  const renamed = new Map([...w].map(([k, v]) => [k === first ? `${k}-other` : k, v] as const));
  assert.throws(() => modelFromFiles({ ...files, weights: encodeSafetensors(renamed) }, 'u'), isErr(new RegExp(`u/weights\\.safetensors: weight '${first!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' is missing`)));
  w.forEach((x) => x.dispose());

  // not a model.json / broken JSON / a config the schema refuses
  assert.throws(() => modelFromFiles({ ...files, meta: '{"format": "other"}' }, 'u'), isErr(/u\/model\.json: not a fleximodal model/));
  assert.throws(() => modelFromFiles({ ...files, meta: '{' }, 'u'), isErr(/model\.json is not valid JSON/));
  const meta = JSON.parse(files.meta);
  meta.model.heads = -1;
  assert.throws(() => modelFromFiles({ ...files, meta: JSON.stringify(meta) }, 'u'), isErr(/invalid model config: heads/));
  // truncated weights
  assert.throws(() => modelFromFiles({ ...files, weights: files.weights.subarray(0, 40) }, 'u'), isErr(/u\/weights\.safetensors/));

  // the browser loader: a missing model.json is a clear 404 error
  await assert.rejects(BrowserPredictor.fromUrl('nowhere/', diskFetch(join(root, 'nothing'))), isErr(/nowhere\/model\.json: no model\.json found/));
  // records: the same by-name check as Node (unknown modality named, with the sample)
  const browser = await BrowserPredictor.fromUrl('model/', diskFetch(modelDir));
  assert.throws(() => browser.predict([{ id: 'a', modalities: { nosuch: { values: [1] } } }]), isErr(/sample #0: modalities\.nosuch: unknown modality/));
  assert.throws(() => browser.parseJsonl('{"id": "a", "modalities": {}}\n{"id": "a", "modalities": {}}\n', 'in.jsonl'), isErr(/in\.jsonl:2: duplicate id "a"/));
  browser.dispose();

  // and from disk, the same refusal
  rmSync(join(modelDir, MODEL_FILES.bank));
  assert.throws(() => loadModel(run), isErr(/no retrieval bank/));
});

test('the browser bundle holds no fs, native addon, DuckDB or worker_threads (esbuild metafile)', (t) => {
  const metaPath = resolve('dist/browser/fleximodal.meta.json');
  if (!existsSync(metaPath)) {
    console.log('# skip: dist/browser not built (run npm run build)');
    return t.skip('dist/browser not built');
  }
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { inputs: Record<string, { imports: { path: string; external?: boolean }[] }>; outputs: Record<string, { inputs: Record<string, unknown> }> };
  const inputs = Object.keys(meta.inputs);
  const bundled = Object.keys(Object.values(meta.outputs)[0]!.inputs);
  // Node built-ins: only the empty stubs of packages' own "browser": false fields, never real modules
  const nodeLike = /(^|[/:])(fs|path|os|crypto|worker_threads|child_process|module|vm|readline|zlib)$/;
  const real = inputs.filter((f) => nodeLike.test(f) && !f.startsWith('(disabled):'));
  assert.deepEqual(real, [], 'real Node built-ins in the bundle');
  assert.deepEqual(inputs.filter((f) => f.startsWith('node:')), []);
  for (const f of inputs) for (const i of meta.inputs[f]!.imports) assert.ok(!i.external || i.path === '<runtime>', `${f} imports ${i.path} as external`);
  for (const forbidden of [/engine\/blas\.js$/, /engine\/threads\.js$/, /engine\/backend\.js$/, /@duckdb/, /koffi/, /tfjs-backend-cpu\/dist\/(index|backend_cpu|register_all_kernels)\.js$/, /vendor\/tfjs-gradients/, /models\/persist\.js$/, /models\/build\.js$/, /sources\/jsonl\.js$/]) {
    assert.deepEqual(bundled.filter((f) => forbidden.test(f)), [], `bundle contains ${forbidden}`);
  }
  const disabledWorker = inputs.filter((f) => /worker_threads/.test(f));
  assert.ok(disabledWorker.every((f) => f === '(disabled):worker_threads'), disabledWorker.join(', '));
  // and it does hold the wasm backend, the shared loader and the engine's fast kernels
  for (const needed of [/tfjs-backend-wasm/, /models\/modelFiles\.js$/, /engine\/fastKernelSet\.js$/, /serve\/predictSamples\.js$/, /jsonlRecords\.js$/]) {
    assert.ok(bundled.some((f) => needed.test(f)), `bundle lacks ${needed}`);
  }
});

test('a seed ensemble (members stored as member<i>/…): disk loader = browser URL loader', async (t) => {
  await initEngine();
  const root = mkdtempSync(join(tmpdir(), 'fm-modelfiles-ens-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const run = await trainTiny(join(root, 'ens'), { type: 'synthetic', n: 64, seed: 6 }, TINY_MODELS['fusemoe-laplace']!, {
    extra: { train: { epochs: 1, batchSize: 32, ensemble: 2 } },
  });
  assert.equal(JSON.parse(readFileSync(join(run, 'model', MODEL_FILES.meta), 'utf8')).ensembleMembers, 2);
  const fresh = generateSynthetic({ n: 8, seed: 78 });
  const records = fresh.samples.map((s) => sampleToJson(fresh.spec, s));
  const node = await Predictor.load(run);
  const expected = node.predict(records, { explain: true });
  node.dispose();
  const browser = await BrowserPredictor.fromUrl('model/', diskFetch(join(run, 'model')));
  try {
    assert.deepEqual(browser.predict(records, { explain: true }), expected);
  } finally {
    browser.dispose();
  }
});

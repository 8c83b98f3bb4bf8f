/**
 * A served prediction equals `fleximodal predict` on the same records (to 1e-6, explanations
 * included) for every model type, whether the records come one per request (coalesced by the
 * micro-batcher), as one array, as NDJSON, or with batching off — with each model in its inference
 * thread (the default) and on the server's thread (`inferenceThread: false`).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { initEngine } from '../../src/engine/backend.js';
import { registerPredictCommand } from '../../src/cli/predict.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { writeJsonl } from '../../src/data/sources/jsonl.js';
import { trainModels, records, MODEL_CONFIGS } from './fixtures.js';
import { start, postJson, call, maxDiff } from './http.js';

const TYPES = Object.keys(MODEL_CONFIGS);
let models: Awaited<ReturnType<typeof trainModels>>;
const N = 24;
let input: string;

before(async () => {
  await initEngine({ backend: 'wasm' });
  models = await trainModels(TYPES);
  input = join(models.root, 'records.jsonl');
  await writeJsonl(generateSynthetic({ n: N, seed: 11, missingness: 'long-tail' }), input);
});
after(() => models.cleanup());

/** `fleximodal predict --model dir --input records.jsonl [--explain] --out file`, in-process. */
async function cliPredict(dir: string, explain: boolean): Promise<Record<string, unknown>[]> {
  const out = join(models.root, `pred-${Math.random().toString(36).slice(2)}.jsonl`);
  const program = new Command().exitOverride();
  registerPredictCommand(program);
  await program.parseAsync(['predict', '--model', dir, '--input', input, '--out', out, ...(explain ? ['--explain'] : [])], { from: 'user' });
  return readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

for (const type of TYPES) {
  for (const inferenceThread of [true, false]) test(`${type}${inferenceThread ? '' : ' (no inference thread)'}: served predictions equal \`fleximodal predict\` (one per request, array, NDJSON, batching off)`, async (t) => {
    // with explanations wherever `predict --explain` gives them (MoE models; every model once attributions exist)
    let explain = true;
    const expected = await cliPredict(models.dirs[type]!, true).catch((e: Error) => {
      if (!/no experts to explain/.test(e.message)) throw e;
      explain = false;
      return cliPredict(models.dirs[type]!, false);
    });
    assert.equal(expected.length, N);
    const recs = records(N, 11);
    const q = explain ? '?explain=true' : '';

    const batched = await start({ models: [{ name: type, dir: models.dirs[type]! }], batching: { maxWaitMs: 20, maxBatchSize: 64 }, inferenceThread });
    t.after(() => batched.close());
    // one record per request, all at once: the micro-batcher coalesces them
    const single = await Promise.all(recs.map((r) => postJson(`${batched.base}/v1/models/${type}/predict${q}`, r)));
    for (const r of single) assert.equal(r.status, 200, r.text);
    const singlePreds = single.map((r) => r.json.predictions[0]);
    assert.ok(maxDiff(singlePreds, expected) <= 1e-6, `one-per-request vs predict: max diff ${maxDiff(singlePreds, expected)}`);
    const metrics = (await call(`${batched.base}/metrics`)).text;
    const batches = Number(/fleximodal_batch_size_count\{model="[^"]+"\} (\d+)/.exec(metrics)?.[1]);
    assert.ok(batches < N, `${N} concurrent requests ran in ${batches} forward passes (coalesced)`);

    const arr = await postJson(`${batched.base}/v1/models/${type}/predict${q}`, recs);
    assert.equal(arr.status, 200, arr.text);
    assert.ok(maxDiff(arr.json.predictions, expected) <= 1e-6, 'array vs predict');

    const nd = await call(`${batched.base}/v1/models/${type}/predict${q}`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: recs.map((r) => JSON.stringify(r)).join('\n') + '\n' });
    assert.equal(nd.status, 200, nd.text);
    assert.match(nd.headers.get('content-type') ?? '', /application\/x-ndjson/);
    const ndPreds = nd.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(maxDiff(ndPreds, expected) <= 1e-6, 'NDJSON vs predict');

    const unbatched = await start({ models: [{ name: type, dir: models.dirs[type]! }], batching: { enabled: false }, inferenceThread });
    t.after(() => unbatched.close());
    const alone = await Promise.all(recs.map((r) => postJson(`${unbatched.base}/v1/models/${type}/predict${q}`, r)));
    const alonePreds = alone.map((r) => r.json.predictions[0]);
    assert.ok(maxDiff(alonePreds, singlePreds) <= 1e-6, 'batched == unbatched');
  });
}

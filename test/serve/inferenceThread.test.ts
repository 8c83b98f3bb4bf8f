/**
 * Inference threads: the event loop answers /healthz and /metrics while a model's thread computes
 * a long batch; a killed thread fails its requests with 503 inference_unavailable, /readyz says
 * not ready, and the thread restarts and predicts again; a reload ends the old version's thread;
 * one invalid request in a batch gets its own 422 while the valid one is predicted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { trainModels, records } from './fixtures.js';
import { start, postJson, call } from './http.js';

let models: Awaited<ReturnType<typeof trainModels>>;

before(async () => {
  await initEngine({ backend: 'wasm' });
  models = await trainModels(['baseline', 'fusemoe-laplace']);
});
after(() => models.cleanup());

const ms = () => performance.now();
/** 1024 records (~5 MB of JSON) with explanations: a batch that keeps a thread busy for a while. */
const BIG = { bodyLimit: 8 * 1024 * 1024 };

/** Wait until the model's batch is in its thread (the batcher busy); fails if `req` settles first. */
async function untilBusy(v: { batcher: { busy: boolean } }, req: Promise<unknown>): Promise<void> {
  let settled = false;
  void req.then(() => (settled = true));
  while (!v.batcher.busy) {
    assert.ok(!settled, 'the request was answered before its batch was seen in flight');
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('while the inference thread computes a long batch, /healthz and /metrics answer before the prediction', async (t) => {
  const s = await start({ models: [{ name: 'moe', dir: models.dirs['fusemoe-laplace']! }], ...BIG });
  t.after(() => s.close());
  const recs = records(1024, 5);
  const done: Record<string, number> = {};
  const t0 = ms();
  const long = postJson(`${s.base}/v1/models/moe/predict?explain=true`, recs).then((r) => ((done['predict'] = ms() - t0), r));
  await untilBusy(s.app.fleximodal!.registry.get('moe'), long);
  const probes = await Promise.all([
    call(`${s.base}/healthz`).then((r) => ((done['healthz'] = ms() - t0), r)),
    call(`${s.base}/metrics`).then((r) => ((done['metrics'] = ms() - t0), r)),
  ]);
  const r = await long;
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.predictions.length, 1024);
  assert.equal(probes[0].status, 200);
  assert.match(probes[1].text, /fleximodal_queue_depth/);
  assert.ok(done['healthz']! < done['predict']! && done['metrics']! < done['predict']!, `the probes answered first: ${JSON.stringify(done)}`);
});

test('a killed inference thread: its requests get 503 inference_unavailable, /readyz is not ready, then the thread restarts and predicts', async (t) => {
  const s = await start({ models: [{ name: 'm', dir: models.dirs['fusemoe-laplace']! }], ...BIG });
  t.after(() => s.close());
  const url = `${s.base}/v1/models/m/predict`;
  const v = s.app.fleximodal!.registry.get('m');
  const pending = postJson(`${url}?explain=true`, records(1024, 5));
  await untilBusy(v, pending);
  await v.thread!.kill();
  const lost = await pending;
  assert.equal(lost.status, 503, lost.text);
  assert.equal(lost.json.error.code, 'inference_unavailable');
  assert.ok(!/\bat .*\.js:\d+|\/tmp\//.test(lost.text), 'no stack or path');
  const meanwhile = await postJson(url, records(1)[0]);
  assert.equal(meanwhile.status, 503);
  assert.equal(meanwhile.json.error.code, 'inference_unavailable');
  const ready = await call(`${s.base}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(ready.json.error.code, 'not_ready');
  assert.deepEqual(ready.json.error.names, ['m']);
  assert.equal((await call(`${s.base}/healthz`)).status, 200, 'the server itself is alive');
  const t0 = Date.now();
  while ((await call(`${s.base}/readyz`)).status !== 200) {
    assert.ok(Date.now() - t0 < 15_000, 'the thread restarted within 15 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const again = await postJson(url, records(3));
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.predictions.length, 3);
  assert.equal(again.json.generation, 1, 'the same version, on a new thread');
  const warns = s.logs.filter((l) => /inference thread stopped unexpectedly/.test(l));
  assert.equal(warns.length, 1, 'one warn line');
  assert.match(warns[0]!, /"level":40/);
});

test('reload with inference threads: in flight on the old version, new on the new; the old thread ends; a broken directory is refused', async (t) => {
  const dir = join(models.root, 'reloadable');
  cpSync(models.dirs['baseline']!, dir, { recursive: true });
  const s = await start({ models: [{ name: 'm', dir }], batching: { maxWaitMs: 300 } });
  t.after(() => s.close());
  const url = `${s.base}/v1/models/m/predict`;
  const reg = s.app.fleximodal!.registry;
  const old = reg.get('m');
  const inFlight = postJson(url, records(2));
  await new Promise((r) => setTimeout(r, 50));
  const r = await s.app.fleximodal!.reload();
  assert.deepEqual(r.reloaded.map((i) => i.generation), [2]);
  assert.ok(reg.get('m').thread!.available, "the new version's thread loaded before the swap");
  assert.equal((await inFlight).json.generation, 1, 'the in-flight request finished on the old version');
  assert.equal((await postJson(url, records(2))).json.generation, 2);
  const t0 = Date.now();
  while (old.thread!.available) {
    assert.ok(Date.now() - t0 < 5_000, 'the old thread ended');
    await new Promise((r) => setTimeout(r, 20));
  }
  // weights that do not load: the new thread refuses, with a message without paths; generation 2 serves on
  writeFileSync(join(dir, 'model', 'weights.safetensors'), 'not safetensors');
  const broken = await s.app.fleximodal!.reload();
  assert.deepEqual(broken.reloaded, []);
  assert.equal(broken.refused.length, 1);
  assert.match(broken.refused[0]!.message, /safetensors|header/);
  assert.ok(!broken.refused[0]!.message.includes(models.root), `no path: ${broken.refused[0]!.message}`);
  const still = await postJson(url, records(1));
  assert.equal(still.status, 200, still.text);
  assert.equal(still.json.generation, 2);
});

test('one batch, one invalid request and one valid: each gets its own answer', async (t) => {
  const s = await start({ models: [{ name: 'm', dir: models.dirs['baseline']! }], batching: { maxWaitMs: 200 } });
  t.after(() => s.close());
  const url = `${s.base}/v1/models/m/predict`;
  const [good, bad, unknown] = await Promise.all([
    postJson(url, records(2)),
    postJson(url, [records(1)[0], { id: 'b', modalities: { demo: { values: [1] } } }]),
    postJson(url, { id: 'u', modalities: { ecg: { values: [1] } } }),
  ]);
  assert.equal(good.status, 200, good.text);
  assert.equal(good.json.predictions.length, 2);
  assert.equal(bad.status, 422, bad.text);
  assert.equal(bad.json.error.code, 'invalid_record');
  assert.equal(bad.json.error.path, '[1].modalities.demo.values');
  assert.equal(unknown.status, 422);
  assert.equal(unknown.json.error.code, 'unknown_names');
  assert.equal(unknown.json.error.path, 'modalities.ecg', 'a single-record body: no [i] prefix');
  const metrics = (await call(`${s.base}/metrics`)).text;
  assert.match(metrics, /fleximodal_batch_size_count\{model="m"\} 1\b/, 'the three requests were one batch');
});

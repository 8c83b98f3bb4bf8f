/**
 * The HTTP server on an ephemeral loopback port: every route, every error status, auth (keys from
 * a file and the environment, constant-time compare, admin keys), rate limit, CORS, overload
 * (503 + Retry-After), logs without keys / record values / paths, two models in one process, and
 * reload (in-flight requests finish on the old model; a broken directory is refused).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { trainModels, records } from './fixtures.js';
import { start, postJson, call } from './http.js';
import { ApiKeyring, readApiKeys } from '../../src/serve/apiKeys.js';
import { createServer } from '../../src/serve/server.js';
import { networkInterfaces } from 'node:os';

let models: Awaited<ReturnType<typeof trainModels>>;
let refusing: Awaited<ReturnType<typeof trainModels>>;
const KEY = 'k'.repeat(8) + '-user-key-0123456789';
const ADMIN = 'a'.repeat(8) + '-admin-key-0123456789';
const SECRET_VALUE = 987.654321;

before(async () => {
  await initEngine({ backend: 'wasm' });
  models = await trainModels(['baseline', 'fusemoe-laplace']);
  refusing = await trainModels(['baseline'], { emptySamples: 'refuse' });
});
after(() => {
  models.cleanup();
  refusing.cleanup();
});

const one = () => records(1)[0]!;

test('routes: healthz, readyz, metrics, models, model info, predict (+explain); two models in one process', async (t) => {
  const s = await start({ models: [{ name: 'base', dir: models.dirs['baseline']! }, { name: 'moe', dir: join(models.dirs['fusemoe-laplace']!, 'model') }] });
  t.after(() => s.close());
  assert.deepEqual((await call(`${s.base}/healthz`)).json, { status: 'ok' });
  const ready = await call(`${s.base}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.json.models.map((m: { name: string }) => m.name), ['base', 'moe']);

  const list = await call(`${s.base}/v1/models`);
  assert.equal(list.status, 200);
  assert.equal(list.json.models.length, 2);
  assert.ok(!list.text.includes(models.root), 'no file path in the model descriptions');
  const info = (await call(`${s.base}/v1/models/moe`)).json;
  assert.equal(info.type, 'fusemoe');
  assert.deepEqual(info.task, { kind: 'binary', name: 'outcome' });
  assert.deepEqual(info.modalities.map((m: { name: string }) => m.name).sort(), ['demo', 'labs', 'notes', 'vitals']);
  assert.ok(info.modalities.find((m: { kind: string }) => m.kind === 'timeseries').variables.length > 0);
  assert.equal(typeof info.testMetrics.auroc, 'number', 'the run test metrics summary');
  assert.match(info.configHash, /^[0-9a-f]{64}$/);
  assert.equal(info.explain, true);
  assert.ok(info.loadSeconds > 0 && Date.parse(info.loadedAt) > 0);
  assert.equal(info.generation, 1);

  const recs = records(5);
  const base = await postJson(`${s.base}/v1/models/base/predict`, recs);
  const moe = await postJson(`${s.base}/v1/models/moe/predict?explain=true`, recs);
  assert.equal(base.status, 200, base.text);
  assert.equal(moe.status, 200, moe.text);
  assert.deepEqual(base.json.predictions.map((p: { id: string }) => p.id), recs.map((r) => r['id']));
  for (const p of moe.json.predictions) {
    assert.ok(p.risk > 0 && p.risk < 1);
    // the per-modality attribution (the record's risk minus the risk without each modality) and the routing statistics
    assert.ok(Math.abs(p.explanation.attribution.probability - p.risk) < 1e-6, 'attribution of the risk');
    for (const v of Object.values(p.explanation.attribution.byModality) as number[]) assert.ok(Number.isFinite(v) && Math.abs(v) < 1);
    const shares = Object.values(p.explanation.routing.shares) as number[];
    assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 1e-6, 'routing shares sum to 1');
  }
  assert.notDeepEqual(base.json.predictions[0].risk, moe.json.predictions[0].risk, 'two different models answer');

  const metrics = await call(`${s.base}/metrics`);
  assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
  for (const name of ['fleximodal_http_requests_total', 'fleximodal_http_request_duration_seconds_bucket', 'fleximodal_batch_size_bucket', 'fleximodal_queue_depth', 'fleximodal_http_in_flight_requests', 'fleximodal_model_load_seconds']) {
    assert.ok(metrics.text.includes(name), name);
  }
  assert.match(metrics.text, /fleximodal_http_requests_total\{route="\/v1\/models\/:name\/predict",method="POST",status="200"\} 2/);
  assert.match(metrics.text, /fleximodal_predictions_total\{model="moe"\} 5/);
});

test('every error status has the JSON error shape and no internals', async (t) => {
  const s = await start({ models: [{ name: 'base', dir: models.dirs['baseline']! }], bodyLimit: 20_000, maxRecords: 10 });
  t.after(() => s.close());
  const url = `${s.base}/v1/models/base/predict`;
  const cases: [string, () => Promise<import('./http.js').Res>, number, string, string | null][] = [
    ['malformed JSON', () => postJson(url, '{"id": "x", "modalities": {', {}, true), 400, 'malformed_json', null],
    // prototype poisoning is refused by the JSON parser (Fastify's, also when the body text goes to the inference thread)
    ['__proto__ key', () => postJson(url, '{"id": "x", "modalities": {}, "__proto__": {"polluted": 1}}', {}, true), 400, 'malformed_json', null],
    ['constructor.prototype key', () => postJson(url, '[{"id": "x", "modalities": {}, "constructor": {"prototype": {"polluted": 1}}}]', {}, true), 400, 'malformed_json', null],
    ['empty JSON body', () => postJson(url, '', {}, true), 400, 'empty_body', null],
    ['not a record', () => postJson(url, { hello: 1 }), 400, 'invalid_request', null],
    ['empty array', () => postJson(url, []), 400, 'invalid_request', null],
    ['unknown query parameter', () => postJson(`${url}?verbose=1`, one()), 400, 'invalid_request', 'query.verbose'],
    ['broken NDJSON line', () => call(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `${JSON.stringify(one())}\n{"id": "b", \n` }), 400, 'malformed_ndjson', 'line 2'],
    ['unknown model', () => postJson(`${s.base}/v1/models/nope/predict`, one()), 404, 'model_not_found', 'name'],
    ['unknown route', () => call(`${s.base}/v2/anything`), 404, 'not_found', null],
    ['body over the limit', () => postJson(url, Array.from({ length: 45 }, (_, i) => ({ id: `${i}`.padEnd(500, 'x'), modalities: {} }))), 413, 'body_too_large', null],
    ['too many records', () => postJson(url, records(11).map((r) => ({ id: r['id'], modalities: {} }))), 413, 'too_many_records', null],
    ['text/plain', () => call(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }), 415, 'unsupported_media_type', null],
    ['no content type', () => call(url, { method: 'POST', body: new Blob([JSON.stringify(one())]) }), 415, 'unsupported_media_type', null],
  ];
  // ?explain=true on a model the shared prediction path cannot explain: 400 (as `predict --explain` refuses it)
  if (!(await call(`${s.base}/v1/models/base`)).json.explain) cases.push(['explain on a model without explanations', () => postJson(`${url}?explain=true`, one()), 400, 'explain_unsupported', 'query.explain']);
  for (const [what, p, status, code, path] of cases) {
    const r = await p();
    assert.equal(r.status, status, `${what}: ${r.text}`);
    assert.equal(r.json?.error?.code, code, `${what}: ${r.text}`);
    assert.equal(typeof r.json.error.message, 'string');
    if (path !== null) assert.equal(r.json.error.path, path, what);
    assert.ok(!/\bat .*\.js:\d+|\/tmp\/|node_modules|FST_/.test(r.text), `${what}: no stack, path or internal code: ${r.text}`);
  }
});

test('422: unknown names are listed, a bad record is named by its path, a no-modality record follows the model policy', async (t) => {
  const s = await start({ models: [{ name: 'base', dir: models.dirs['baseline']! }, { name: 'strict', dir: refusing.dirs['baseline']! }] });
  t.after(() => s.close());
  const r = one() as { id: string; modalities: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const vitals = r.modalities['vitals'] ?? { times: [1], variables: ['hr'], values: [1] };
  const unknown = await postJson(`${s.base}/v1/models/base/predict`, [
    r,
    { id: 'u', modalities: { ecg: { values: [1] }, vitals: { ...vitals, variables: vitals.variables.map((_: string, i: number) => (i === 0 ? 'Lactate2' : 'Pulse9')) } } },
  ]);
  assert.equal(unknown.status, 422, unknown.text);
  assert.equal(unknown.json.error.code, 'unknown_names');
  assert.deepEqual(unknown.json.error.names.sort(), ['modality ecg', 'vitals.Lactate2', ...(vitals.variables.length > 1 ? ['vitals.Pulse9'] : [])].sort());
  assert.equal(unknown.json.error.path, '[1].modalities.ecg');

  const bad = await postJson(`${s.base}/v1/models/base/predict`, [r, { id: 'b', modalities: { demo: { values: [SECRET_VALUE] } } }]);
  assert.equal(bad.status, 422, bad.text);
  assert.equal(bad.json.error.code, 'invalid_record');
  assert.equal(bad.json.error.path, '[1].modalities.demo.values');
  assert.ok(!bad.text.includes(String(SECRET_VALUE)), 'the record value is not echoed');

  const label = await postJson(`${s.base}/v1/models/base/predict`, { ...r, label: 7 });
  assert.equal(label.status, 422);
  assert.equal(label.json.error.path, 'label');
  assert.ok(!/\b7\b/.test(label.json.error.message), label.text);

  const empty = { id: 'nothing', modalities: {} };
  const flagged = await postJson(`${s.base}/v1/models/base/predict`, empty);
  assert.equal(flagged.status, 200);
  assert.equal(flagged.json.predictions[0].noModality, true, "policy 'flag': the prior, marked");
  const refused = await postJson(`${s.base}/v1/models/strict/predict`, [r, empty]);
  assert.equal(refused.status, 422);
  assert.equal(refused.json.error.code, 'no_modality');
  assert.equal(refused.json.error.path, '[1]');
  assert.equal((await call(`${s.base}/v1/models/strict`)).json.emptySamples, 'refuse');
});

test('API keys: file + env, 401 without / with a wrong key, probes open, admin route needs an admin key; logs hold no key, value or path', async (t) => {
  const keyFile = join(models.root, 'keys.txt');
  writeFileSync(keyFile, `# serving keys\n${KEY}\n`);
  process.env['TEST_SERVE_KEYS'] = 'e'.repeat(20);
  t.after(() => delete process.env['TEST_SERVE_KEYS']);
  const s = await start({ models: [{ name: 'base', dir: models.dirs['baseline']! }], apiKeys: { file: keyFile, env: 'TEST_SERVE_KEYS' }, adminKeys: { keys: [ADMIN] } });
  t.after(() => s.close());
  const url = `${s.base}/v1/models/base/predict`;
  const rec = { ...one(), id: 'patient-secret-id' } as Record<string, unknown>;
  (rec.modalities as Record<string, unknown>)['demo'] = { values: [SECRET_VALUE, 1, 0] };

  const none = await postJson(url, rec);
  assert.equal(none.status, 401);
  assert.equal(none.json.error.code, 'unauthorized');
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await postJson(url, rec, { authorization: `Bearer ${KEY}x` })).status, 401);
  assert.equal((await postJson(url, rec, { authorization: KEY })).status, 401, 'without the Bearer scheme');
  assert.equal((await call(`${s.base}/v1/models`)).status, 401);
  assert.equal((await call(`${s.base}/metrics`)).status, 401);
  assert.equal((await call(`${s.base}/healthz`)).status, 200, 'probes need no key');
  assert.equal((await call(`${s.base}/readyz`)).status, 200);
  const ok = await postJson(url, rec, { authorization: `Bearer ${KEY}` });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await postJson(url, rec, { authorization: `Bearer ${'e'.repeat(20)}` })).status, 200, 'key from the environment');
  assert.equal((await postJson(url, rec, { authorization: `Bearer ${ADMIN}` })).status, 200, 'admin keys are API keys too');

  const notAdmin = await call(`${s.base}/v1/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(notAdmin.status, 403);
  assert.equal(notAdmin.json.error.code, 'forbidden');

  await new Promise((r) => setTimeout(r, 50));
  const log = s.logs.join('');
  assert.ok(log.includes('"statusCode":401') && log.includes('"statusCode":200'), 'requests are logged');
  for (const secret of [KEY, ADMIN, 'e'.repeat(20), String(SECRET_VALUE), 'patient-secret-id', models.root]) assert.ok(!log.includes(secret), `log holds no ${secret.slice(0, 12)}…`);
  assert.ok(!/"stack"/.test(log), 'no stack traces in the log');
});

test('keyring: constant-time compare on digests; short keys refused', () => {
  const ring = new ApiKeyring([KEY], [ADMIN]);
  assert.deepEqual(ring.verify(`Bearer ${KEY}`), { id: 'key-1', admin: false });
  assert.deepEqual(ring.verify(`bearer ${ADMIN}`), { id: 'key-2', admin: true });
  assert.equal(ring.verify(`Bearer ${KEY.slice(0, -1)}`), null);
  assert.equal(ring.verify(undefined), null);
  assert.equal(ring.verify('Bearer '), null);
  assert.equal(new ApiKeyring([]).enabled, false);
  assert.throws(() => readApiKeys({ keys: ['too-short'] }, 'API key'), /API key #1 is shorter than 16 characters/);
  assert.throws(() => readApiKeys({ file: join(models.root, 'no-such-keys.txt') }, 'API key'), (e: Error) => /cannot read the API key file \(ENOENT\)/.test(e.message) && !e.message.includes('too-short'));
});

test('rate limit per key (429 + Retry-After) and CORS only for listed origins', async (t) => {
  const s = await start({ models: [{ name: 'base', dir: models.dirs['baseline']! }], apiKeys: { keys: [KEY, 'z'.repeat(24)] }, rateLimit: { max: 3, windowMs: 60_000 }, corsOrigins: ['https://dash.example'] });
  t.after(() => s.close());
  const get = (key: string, origin?: string) => call(`${s.base}/v1/models`, { headers: { authorization: `Bearer ${key}`, ...(origin ? { origin } : {}) } });
  for (let i = 0; i < 3; i++) assert.equal((await get(KEY)).status, 200);
  const limited = await get(KEY);
  assert.equal(limited.status, 429);
  assert.equal(limited.json.error.code, 'rate_limited');
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal((await get('z'.repeat(24))).status, 200, 'another key has its own budget');
  const allowed = await get('z'.repeat(24), 'https://dash.example');
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://dash.example');
  const other = await get('z'.repeat(24), 'https://evil.example');
  assert.equal(other.headers.get('access-control-allow-origin'), null);

  const plain = await start({ models: [{ name: 'base', dir: models.dirs['baseline']! }] });
  t.after(() => plain.close());
  const noCors = await call(`${plain.base}/v1/models`, { headers: { origin: 'https://dash.example' } });
  assert.equal(noCors.headers.get('access-control-allow-origin'), null, 'CORS off unless origins are listed');
});

test('overload: past the bounded queue 503 + Retry-After, and the server keeps answering', async (t) => {
  const s = await start({ models: [{ name: 'base', dir: models.dirs['baseline']! }], batching: { maxQueue: 8, maxBatchSize: 64, maxWaitMs: 300 } });
  t.after(() => s.close());
  const url = `${s.base}/v1/models/base/predict`;
  const recs = records(20);
  const rs = await Promise.all(recs.map((r) => postJson(url, r)));
  const statuses = rs.map((r) => r.status);
  assert.ok(statuses.includes(200) && statuses.includes(503), `some served, some refused: ${statuses.join(',')}`);
  assert.ok(statuses.every((x) => x === 200 || x === 503));
  const busy = rs.find((r) => r.status === 503)!;
  assert.equal(busy.json.error.code, 'overloaded');
  assert.equal(busy.headers.get('retry-after'), '1');
  assert.equal((await postJson(url, recs[0])).status, 200);

  const slow = await start({ models: [{ name: 'base', dir: models.dirs['baseline']! }], batching: { maxWaitMs: 300, timeoutMs: 50 } });
  t.after(() => slow.close());
  const timedOut = await postJson(`${slow.base}/v1/models/base/predict`, recs[0]);
  assert.equal(timedOut.status, 503, 'a request that waited past its timeout');
  assert.equal(timedOut.json.error.code, 'timeout');
});

test('without keys only loopback is served: a non-loopback host is refused at bind, and a request on a non-loopback address gets 403', async (t) => {
  const { assertBindAllowed } = await import('../../src/serve/server.js');
  assert.throws(() => assertBindAllowed('0.0.0.0', false, false), /refusing to listen on 0\.0\.0\.0 without API keys/);
  assert.doesNotThrow(() => assertBindAllowed('0.0.0.0', true, false));
  assert.doesNotThrow(() => assertBindAllowed('0.0.0.0', false, true));
  assert.doesNotThrow(() => assertBindAllowed('::1', false, false));
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (!external) {
    console.log('# skipped the request part: this machine has no non-loopback IPv4 address');
    t.skip('no non-loopback IPv4 address');
    return;
  }
  // an embedding app that listened on every interface without keys (the CLI refuses to)
  const s = await createServer({ models: [{ name: 'base', dir: models.dirs['baseline']! }] });
  t.after(() => s.close());
  const addr = await s.listen({ host: '0.0.0.0', port: 0 });
  const port = new URL(addr).port;
  const outside = await call(`http://${external}:${port}/v1/models`);
  assert.equal(outside.status, 403);
  assert.equal(outside.json.error.code, 'auth_required');
  assert.equal((await call(`http://127.0.0.1:${port}/v1/models`)).status, 200);
  assert.equal((await call(`http://${external}:${port}/healthz`)).status, 200, 'probes answer');
});

test('reload: in-flight requests finish on the old model, new ones use the new; a broken directory is refused and the old keeps serving', async (t) => {
  const dir = join(models.root, 'reloadable');
  cpSync(models.dirs['baseline']!, dir, { recursive: true });
  const s = await start({ models: [{ name: 'm', dir }], adminKeys: { keys: [ADMIN] }, batching: { maxWaitMs: 400 } });
  t.after(() => s.close());
  const url = `${s.base}/v1/models/m/predict`;
  const auth = { authorization: `Bearer ${ADMIN}` };
  const rec = one();
  const before = await postJson(url, rec, auth);
  assert.equal(before.json.generation, 1);

  // a request waiting in the old model's batch while the directory is swapped for another model
  const inFlight = postJson(url, rec, auth);
  await new Promise((r) => setTimeout(r, 50));
  rmSync(dir, { recursive: true });
  cpSync(models.dirs['fusemoe-laplace']!, dir, { recursive: true });
  const reload = await call(`${s.base}/v1/admin/reload`, { method: 'POST', headers: auth });
  assert.equal(reload.status, 200, reload.text);
  assert.deepEqual(reload.json.reloaded, [{ name: 'm', generation: 2 }]);
  const old = await inFlight;
  assert.equal(old.status, 200);
  assert.equal(old.json.generation, 1, 'the in-flight request finished on the old model');
  assert.equal(old.json.predictions[0].risk, before.json.predictions[0].risk);
  const after = await postJson(`${url}?explain=true`, rec, auth);
  assert.equal(after.json.generation, 2);
  assert.ok(after.json.predictions[0].explanation, 'the new model (FuseMoE) answers');
  assert.equal((await call(`${s.base}/v1/models/m`, { headers: auth })).json.type, 'fusemoe');

  // an incomplete run directory is refused; the current model keeps serving
  writeFileSync(join(dir, 'INCOMPLETE'), 'interrupted\n');
  const refused = await call(`${s.base}/v1/admin/reload`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ models: ['m'] }) });
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.json.error.code, 'reload_refused');
  assert.match(refused.json.error.message, /incomplete run/);
  assert.ok(!refused.text.includes(models.root), 'no path in the refusal');
  const still = await postJson(url, rec, auth);
  assert.equal(still.status, 200);
  assert.equal(still.json.generation, 2);
  rmSync(join(dir, 'INCOMPLETE'));
  // a broken weights file is refused too
  writeFileSync(join(dir, 'model', 'weights.safetensors'), 'not safetensors');
  const broken = await s.app.fleximodal!.reload();
  assert.equal(broken.refused.length, 1);
  assert.equal((await postJson(url, rec, auth)).json.generation, 2);
  assert.match((await call(`${s.base}/metrics`, { headers: auth })).text, /fleximodal_model_reloads_total\{model="m",result="refused"\} 2/);
});

test('admin route is 403 when no admin key is configured', async (t) => {
  const s = await start({ models: [{ name: 'base', dir: models.dirs['baseline']! }] });
  t.after(() => s.close());
  const r = await call(`${s.base}/v1/admin/reload`, { method: 'POST' });
  assert.equal(r.status, 403);
  assert.equal(r.json.error.code, 'admin_disabled');
});

test('createServer mounts as a plugin in an existing Fastify app under a prefix', async (t) => {
  const Fastify = (await import('fastify')).default;
  const { fleximodalServe } = await import('../../src/serve/server.js');
  const app = Fastify();
  app.get('/other', async () => ({ mine: true }));
  await app.register(fleximodalServe, { prefix: '/ml', models: [{ name: 'base', dir: models.dirs['baseline']! }] });
  t.after(() => app.close());
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  assert.deepEqual((await call(`${base}/other`)).json, { mine: true });
  assert.equal((await call(`${base}/ml/healthz`)).status, 200);
  const r = await postJson(`${base}/ml/v1/models/base/predict`, records(2));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.predictions.length, 2);
  const bad = await postJson(`${base}/ml/v1/models/base/predict`, '{', {}, true);
  assert.equal(bad.json.error.code, 'malformed_json');
});

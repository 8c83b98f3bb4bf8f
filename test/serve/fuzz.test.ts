/**
 * Fuzzing the running server (127.0.0.1, bounded runs, fixed seed) with fast-check: arbitrary and
 * mutated bodies, content types, headers, query strings, model names and NDJSON with broken lines.
 * No 5xx other than 503, every error in the JSON error shape, and the server keeps answering.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { initEngine } from '../../src/engine/backend.js';
import { trainModels, records } from './fixtures.js';
import { start, call, postJson, type Started } from './http.js';

let models: Awaited<ReturnType<typeof trainModels>>;
let s: Started;
const RUNS = 150;
const SEED = 20;

before(async () => {
  await initEngine({ backend: 'wasm' });
  models = await trainModels(['fusemoe-laplace']);
  s = await start({ models: [{ name: 'moe', dir: models.dirs['fusemoe-laplace']! }], logger: false, bodyLimit: 64 * 1024, batching: { maxQueue: 256 } });
});
after(async () => {
  await s?.close();
  models?.cleanup();
});

const valid = records(6, 5);

/** A valid record with one field (at any depth) replaced by an arbitrary JSON value, or deleted. */
const mutatedRecord = fc
  .tuple(fc.constantFrom(...valid), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }))
  .map(([rec, picks, value]) => {
    const copy = structuredClone(rec) as Record<string, unknown>;
    let node: Record<string, unknown> = copy;
    for (let i = 0; i < picks.length; i++) {
      const keys = Object.keys(node);
      if (!keys.length) break;
      const k = keys[picks[i]! % keys.length]!;
      const next = node[k];
      if (i === picks.length - 1 || !next || typeof next !== 'object') {
        if (value === undefined) delete node[k];
        else node[k] = value;
        break;
      }
      node = next as Record<string, unknown>;
    }
    return copy;
  });

const body = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
  fc.string({ maxLength: 200 }),
  mutatedRecord.map((r) => JSON.stringify(r)),
  fc.array(mutatedRecord, { minLength: 1, maxLength: 4 }).map((a) => JSON.stringify(a)),
  // NDJSON with some lines cut short
  fc.array(fc.tuple(mutatedRecord, fc.boolean(), fc.nat()), { minLength: 1, maxLength: 4 }).map((lines) => lines.map(([r, cut, at]) => (cut ? JSON.stringify(r).slice(0, at % 40) : JSON.stringify(r))).join('\n')),
);

const contentType = fc.oneof(
  { arbitrary: fc.constantFrom('application/json', 'application/x-ndjson'), weight: 6 },
  fc.constantFrom('application/json', 'application/x-ndjson', 'application/json; charset=utf-8', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', ''),
  fc.stringMatching(/^[a-z]{1,8}\/[a-z+.-]{1,12}$/),
);

const query = fc.oneof({ arbitrary: fc.constant(''), weight: 3 }, fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }).map((d) => new URLSearchParams(d).toString()));

const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,40}$/);
const headers = fc.dictionary(fc.constantFrom('authorization', 'accept', 'x-forwarded-for', 'origin', 'content-encoding', 'transfer-encoding-x', 'x-request-id'), headerValue, { maxKeys: 3 });

const path = fc.oneof(
  { arbitrary: fc.constantFrom('/v1/models/moe/predict', '/v1/models/moe/predict?explain=true'), weight: 6 },
  fc.string({ maxLength: 20 }).map((n) => `/v1/models/${encodeURIComponent(n)}/predict`),
  fc.constantFrom('/v1/models', '/v1/models/moe', '/healthz', '/readyz', '/metrics', '/v1/admin/reload', '/', '/v1/models/moe/predict/', '/%', '/v1/models/%ZZ/predict'),
);

test(`fuzz: ${RUNS} arbitrary requests, no 5xx except 503, errors in the contract's shape, the server keeps answering`, async () => {
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('POST', 'POST', 'POST', 'POST', 'POST', 'GET', 'PUT'), path, query, contentType, headers, body, async (method, p, q, ct, hs, b) => {
      const init: RequestInit = { method, headers: { ...hs, ...(ct ? { 'content-type': ct } : {}) } };
      if (method !== 'GET') init.body = b;
      let r;
      try {
        r = await call(`${s.base}${p}${q ? `${p.includes('?') ? '&' : '?'}${q}` : ''}`, init);
      } catch (e) {
        // fetch refused to send it (an invalid header for the client): not a server answer
        if (e instanceof TypeError && !/fetch failed/.test(e.message)) return;
        throw e;
      }
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
      assert.ok(r.status < 500 || r.status === 503, `${method} ${p}?${q} [${ct}] → ${r.status} ${r.text.slice(0, 200)}`);
      if (r.status >= 400) {
        assert.equal(typeof r.json?.error?.code, 'string', `error shape: ${r.text.slice(0, 200)}`);
        assert.ok(!/\bat .*\.js:\d+|node_modules|\/tmp\//.test(r.text), `no internals: ${r.text.slice(0, 200)}`);
      }
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  console.log(`fuzz statuses: ${[...seen].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}×${v}`).join(' ')}`);
  assert.equal((await call(`${s.base}/healthz`)).status, 200);
  const ok = await postJson(`${s.base}/v1/models/moe/predict?explain=true`, valid);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.predictions.length, valid.length);
});

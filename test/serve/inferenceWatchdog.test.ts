/**
 * The stuck-thread watchdog of src/serve/inferenceThread.ts: a thread that does not answer a batch
 * within batchTimeoutMs is ended — its batch gets 503 inference_unavailable, one warn line says
 * why — and started again; a thread that answers in time is left alone. The threads are a
 * stand-in (test/serve/silentInferenceThread.ts) that never answers, or answers after a delay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceThread } from '../../src/serve/inferenceThread.js';
import { ApiError } from '../../src/serve/httpErrors.js';

const entry = new URL('./silentInferenceThread.js', import.meta.url);

test('a batch not answered within batchTimeoutMs: 503 inference_unavailable, one warn line, the thread restarts', { timeout: 30_000 }, async (t) => {
  const logs: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const th = await InferenceThread.start({ name: 'm', dir: 'stuck', entry, batchTimeoutMs: 150, restartIntervalMs: 0, log: (level, fields, message) => logs.push({ level, message, fields }) });
  t.after(() => th.close());
  const t0 = performance.now();
  const err = await th.answer([{ samples: [] }], false).then(
    () => assert.fail('a stuck batch must not resolve'),
    (e: unknown) => e,
  );
  const waited = performance.now() - t0;
  assert.ok(err instanceof ApiError, String(err));
  assert.equal(err.statusCode, 503);
  assert.equal(err.code, 'inference_unavailable');
  assert.ok(waited >= 140 && waited < 5_000, `rejected after the timeout, not before: ${waited.toFixed(0)} ms`);
  assert.deepEqual(
    logs.map((l) => [l.level, l.message]),
    [['warn', 'inference thread did not answer a batch in time; ending it (its requests get 503) and restarting it']],
    'one warn line, not also the crash line',
  );
  assert.equal(logs[0]!.fields['batchTimeoutMs'], 150);
  const t1 = Date.now();
  while (!th.available) {
    assert.ok(Date.now() - t1 < 10_000, 'restarted');
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(logs.at(-1)!.message, 'inference thread restarted');
  // the restarted thread is watched too
  await assert.rejects(th.answer([{ samples: [] }], false), (e: unknown) => e instanceof ApiError && e.statusCode === 503);
});

test('a thread that answers within batchTimeoutMs is left alone; 0 turns the watchdog off', { timeout: 30_000 }, async (t) => {
  const logs: string[] = [];
  const slow = await InferenceThread.start({ name: 'm', dir: 'answer-after-100', entry, batchTimeoutMs: 2_000, log: (_l, _f, m) => logs.push(m) });
  t.after(() => slow.close());
  assert.deepEqual(await slow.answer([{ samples: [] }, { samples: [] }], false), [{ predictions: [] }, { predictions: [] }]);
  assert.ok(slow.available);
  const off = await InferenceThread.start({ name: 'm', dir: 'answer-after-300', entry, batchTimeoutMs: 0, log: (_l, _f, m) => logs.push(m) });
  t.after(() => off.close());
  assert.deepEqual(await off.answer([{ samples: [] }], false), [{ predictions: [] }]);
  assert.deepEqual(logs, [], 'no thread was ended');
});

test('close() while a batch is stuck: the batch gets 503 and nothing restarts', { timeout: 30_000 }, async () => {
  const logs: string[] = [];
  const th = await InferenceThread.start({ name: 'm', dir: 'stuck', entry, batchTimeoutMs: 60_000, log: (_l, _f, m) => logs.push(m) });
  const pending = th.answer([{ samples: [] }], false);
  await th.close();
  await assert.rejects(pending, (e: unknown) => e instanceof ApiError && e.statusCode === 503);
  assert.equal(th.available, false);
  assert.deepEqual(logs, []);
});

/**
 * The micro-batcher with a recording runner: coalescing, the batch-size cap, kinds never mixed,
 * the bounded queue, timeouts, failure isolation and drain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher } from '../../src/serve/microBatcher.js';
import type { Sample } from '../../src/data/schema.js';
import type { Prediction } from '../../src/serve/predictor.js';
import { ApiError } from '../../src/serve/httpErrors.js';

const sample = (id: string): Sample => ({ id, modalities: {}, label: NaN });
const samples = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => sample(`${prefix}${i}`));

/** A runner that records each batch (ids, explain) and answers risk = position in the batch. */
function recorder(fail?: (ids: string[]) => boolean) {
  const batches: { ids: string[]; explain: boolean }[] = [];
  const run = (s: Sample[], explain: boolean): Prediction[] => {
    const ids = s.map((x) => x.id);
    batches.push({ ids, explain });
    if (fail?.(ids)) throw new Error('bad batch');
    return s.map((x, i) => ({ id: x.id, risk: i, probs: {} }));
  };
  return { batches, run };
}

test('concurrent requests run in one forward pass and each gets its own rows, in order', async () => {
  const r = recorder();
  const b = new MicroBatcher(r.run, { maxWaitMs: 20, maxBatchSize: 64 });
  const out = await Promise.all([b.submit(samples('a', 2), false), b.submit(samples('b', 3), false), b.submit(samples('c', 1), false)]);
  assert.equal(r.batches.length, 1);
  assert.deepEqual(r.batches[0]!.ids, ['a0', 'a1', 'b0', 'b1', 'b2', 'c0']);
  assert.deepEqual(out.map((o) => o.map((p) => p.id)), [['a0', 'a1'], ['b0', 'b1', 'b2'], ['c0']]);
  assert.deepEqual(out[1]!.map((p) => p.risk), [2, 3, 4], 'rows of the shared batch');
});

test('batches are capped at maxBatchSize (a larger single request runs alone) and kinds are never mixed', async () => {
  const r = recorder();
  const b = new MicroBatcher(r.run, { maxWaitMs: 20, maxBatchSize: 4 });
  await Promise.all([b.submit(samples('a', 3), false), b.submit(samples('b', 3), false), b.submit(samples('x', 2), true), b.submit(samples('big', 9), false)]);
  for (const batch of r.batches) assert.ok(batch.ids.length <= 4 || batch.ids.every((id) => id.startsWith('big')), JSON.stringify(batch));
  for (const batch of r.batches) assert.ok(batch.ids.every((id) => id.startsWith('x') === batch.explain), 'explain and plain never share a batch');
  assert.equal(r.batches.flatMap((x) => x.ids).length, 17, 'every sample ran once');
});

test('past maxQueue a request is refused at once with 503 + Retry-After; a request waiting past its timeout gets 503', async () => {
  const r = recorder();
  const b = new MicroBatcher(r.run, { maxWaitMs: 50, maxBatchSize: 100, maxQueue: 5 });
  const first = b.submit(samples('a', 4), false);
  await assert.rejects(b.submit(samples('b', 2), false), (e: ApiError) => e.statusCode === 503 && e.code === 'overloaded' && e.headers['retry-after'] === '1');
  assert.equal(b.depth, 4);
  assert.equal((await first).length, 4);
  assert.equal(b.depth, 0);
  const slow = new MicroBatcher(r.run, { maxWaitMs: 60, timeoutMs: 10 });
  await assert.rejects(slow.submit(samples('t', 1), false), (e: ApiError) => e.statusCode === 503 && e.code === 'timeout');
});

test("one request breaking a batch fails alone; the others are answered", async () => {
  const r = recorder((ids) => ids.includes('bad0'));
  const b = new MicroBatcher(r.run, { maxWaitMs: 20 });
  const [good, bad, other] = await Promise.allSettled([b.submit(samples('g', 2), false), b.submit(samples('bad', 1), false), b.submit(samples('o', 1), false)]);
  assert.equal(good.status, 'fulfilled');
  assert.equal(bad.status, 'rejected');
  assert.equal(other.status, 'fulfilled');
  assert.deepEqual((other as PromiseFulfilledResult<Prediction[]>).value.map((p) => p.risk), [0], 're-run alone');
});

test('batching off runs each request alone at once; drain runs whatever waits', async () => {
  const r = recorder();
  const off = new MicroBatcher(r.run, { enabled: false });
  await Promise.all([off.submit(samples('a', 2), false), off.submit(samples('b', 2), false)]);
  assert.equal(r.batches.length, 2);
  const r2 = recorder();
  const b = new MicroBatcher(r2.run, { maxWaitMs: 10_000 });
  const p = b.submit(samples('w', 2), false);
  b.drain();
  assert.equal((await p).length, 2);
  assert.equal(r2.batches.length, 1);
});

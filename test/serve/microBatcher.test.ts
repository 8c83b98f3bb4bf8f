/**
 * The micro-batcher with a recording runner: coalescing, the batch-size cap, kinds never mixed,
 * the bounded queue, timeouts, per-request outcomes, at most one batch in flight (the next one
 * accumulates meanwhile and is sent when the first is answered), batching off, drain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher, type Settled } from '../../src/serve/microBatcher.js';
import { ApiError } from '../../src/serve/httpErrors.js';

/** A request: its record ids. */
type Req = string[];
const req = (prefix: string, n: number): Req => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/**
 * A runner that records each batch (ids, explain) and answers each request with the positions of
 * its records in the batch; a request whose ids `fail` selects gets its own error. With `gate`,
 * each batch waits for the test to release it (a long forward pass).
 */
function recorder(opts: { fail?: (ids: string[]) => boolean; gate?: boolean } = {}) {
  const batches: { ids: string[]; explain: boolean }[] = [];
  const gates: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run = async (items: Req[], explain: boolean): Promise<Settled<number[]>[]> => {
    batches.push({ ids: items.flat(), explain });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (opts.gate) await new Promise<void>((r) => gates.push(r));
    inFlight--;
    let at = 0;
    return items.map((ids) => {
      const rows = ids.map((_, i) => at + i);
      at += ids.length;
      return opts.fail?.(ids) ? { ok: false, error: new Error(`bad ${ids[0]}`) } : { ok: true, value: rows };
    });
  };
  return { batches, run, gates, maxInFlight: () => maxInFlight };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const submit = (b: MicroBatcher<Req, number[]>, r: Req, explain = false) => b.submit(r, r.length, explain);

test('concurrent requests run in one batch and each gets its own rows, in order', async () => {
  const r = recorder();
  const b = new MicroBatcher(r.run, { maxWaitMs: 20, maxBatchSize: 64 });
  const out = await Promise.all([submit(b, req('a', 2)), submit(b, req('b', 3)), submit(b, req('c', 1))]);
  assert.equal(r.batches.length, 1);
  assert.deepEqual(r.batches[0]!.ids, ['a0', 'a1', 'b0', 'b1', 'b2', 'c0']);
  assert.deepEqual(out, [[0, 1], [2, 3, 4], [5]], 'rows of the shared batch');
});

test('batches are capped at maxBatchSize (a larger single request runs alone) and kinds are never mixed', async () => {
  const r = recorder();
  const b = new MicroBatcher(r.run, { maxWaitMs: 20, maxBatchSize: 4 });
  await Promise.all([submit(b, req('a', 3)), submit(b, req('b', 3)), submit(b, req('x', 2), true), submit(b, req('big', 9))]);
  for (const batch of r.batches) assert.ok(batch.ids.length <= 4 || batch.ids.every((id) => id.startsWith('big')), JSON.stringify(batch));
  for (const batch of r.batches) assert.ok(batch.ids.every((id) => id.startsWith('x') === batch.explain), 'explain and plain never share a batch');
  assert.equal(r.batches.flatMap((x) => x.ids).length, 17, 'every record ran once');
});

test('past maxQueue a request is refused at once with 503 + Retry-After; a request waiting past its timeout gets 503', async () => {
  const r = recorder();
  const b = new MicroBatcher(r.run, { maxWaitMs: 50, maxBatchSize: 100, maxQueue: 5 });
  const first = submit(b, req('a', 4));
  await assert.rejects(submit(b, req('b', 2)), (e: ApiError) => e.statusCode === 503 && e.code === 'overloaded' && e.headers['retry-after'] === '1');
  assert.equal(b.depth, 4);
  assert.equal((await first).length, 4);
  assert.equal(b.depth, 0);
  const slow = new MicroBatcher(r.run, { maxWaitMs: 60, timeoutMs: 10 });
  await assert.rejects(submit(slow, req('t', 1)), (e: ApiError) => e.statusCode === 503 && e.code === 'timeout');
});

test('each request gets its own outcome: an error answer rejects only its request; a failed runner rejects the whole batch', async () => {
  const r = recorder({ fail: (ids) => ids.includes('bad0') });
  const b = new MicroBatcher(r.run, { maxWaitMs: 20 });
  const [good, bad, other] = await Promise.allSettled([submit(b, req('g', 2)), submit(b, req('bad', 1)), submit(b, req('o', 1))]);
  assert.equal(r.batches.length, 1, 'one batch');
  assert.deepEqual((good as PromiseFulfilledResult<number[]>).value, [0, 1]);
  assert.match(String((bad as PromiseRejectedResult).reason), /bad bad0/);
  assert.deepEqual((other as PromiseFulfilledResult<number[]>).value, [3]);
  const dead = new MicroBatcher<Req, number[]>(async () => Promise.reject(new ApiError(503, 'inference_unavailable', 'down')), { maxWaitMs: 5 });
  const both = await Promise.allSettled([submit(dead, req('a', 1)), submit(dead, req('b', 1))]);
  assert.deepEqual(both.map((x) => x.status === 'rejected' && (x.reason as ApiError).code), ['inference_unavailable', 'inference_unavailable']);
});

test('at most one batch in flight: requests arriving meanwhile accumulate and go as the next batch once the first is answered', async () => {
  const r = recorder({ gate: true });
  const b = new MicroBatcher(r.run, { maxWaitMs: 1, maxBatchSize: 64 });
  const first = submit(b, req('a', 2));
  await tick(20);
  assert.equal(r.batches.length, 1, 'the first batch is in flight');
  assert.ok(b.busy);
  const later = [submit(b, req('b', 1)), submit(b, req('c', 3)), submit(b, req('d', 1))];
  await tick(30); // far past maxWaitMs: still not sent while the first computes
  assert.equal(r.batches.length, 1, 'no second batch while one is in flight');
  assert.equal(b.depth, 5, 'the next batch accumulates');
  r.gates.shift()!();
  assert.deepEqual(await first, [0, 1]);
  await tick(10);
  assert.equal(r.batches.length, 2, 'the accumulated requests went at once, as one batch');
  assert.deepEqual(r.batches[1]!.ids, ['b0', 'c0', 'c1', 'c2', 'd0']);
  r.gates.shift()!();
  assert.deepEqual(await Promise.all(later), [[0], [1, 2, 3], [4]]);
  assert.equal(r.maxInFlight(), 1);
});

test('batching off: each request its own batch, one in flight, still bounded; drain answers whatever waits', async () => {
  const r = recorder({ gate: true });
  const off = new MicroBatcher(r.run, { enabled: false, maxQueue: 3 });
  const a = submit(off, req('a', 2));
  await tick(10);
  const b2 = submit(off, req('b', 2));
  const c = submit(off, req('c', 1));
  await assert.rejects(submit(off, req('d', 1)), (e: ApiError) => e.code === 'overloaded', 'bounded in records (3 waiting)');
  r.gates.shift()!();
  await a;
  await tick(10);
  assert.deepEqual(r.batches.map((x) => x.ids), [['a0', 'a1'], ['b0', 'b1']], 'one request per batch');
  r.gates.shift()!();
  await tick(10);
  r.gates.shift()!();
  assert.deepEqual(await Promise.all([b2, c]), [[0, 1], [0]]);
  assert.equal(r.maxInFlight(), 1);

  const r2 = recorder();
  const w = new MicroBatcher(r2.run, { maxWaitMs: 10_000 });
  const p = submit(w, req('w', 2));
  await w.drain();
  assert.deepEqual(await p, [0, 1]);
  assert.equal(r2.batches.length, 1);
});

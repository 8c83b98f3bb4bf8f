/**
 * Micro-batching: concurrent requests for one model are coalesced into one forward pass.
 *
 * A request waits at most `maxWaitMs` (or until `maxBatchSize` records are queued) and then runs
 * together with every other queued request of the same kind (with / without explanation) in one
 * call of the (async) runner; each request gets back exactly its own answer. At most ONE batch is
 * in flight per model: while the runner computes (in the model's inference thread), the next
 * batch accumulates, and it is sent as soon as the previous one is answered. The queue is bounded
 * in records: past `maxQueue` a request is refused at once (503 + Retry-After) instead of growing
 * memory, and a request still queued after its `timeoutMs` is refused the same way. With batching
 * off every request is its own batch (still one in flight, still bounded).
 */
import { overloaded } from './httpErrors.js';

/** Settings of the micro-batcher. */
export interface BatchingOptions {
  /** Coalesce concurrent requests (default true). */
  enabled?: boolean;
  /** Most records in one forward pass (default 64). A larger single request runs alone. */
  maxBatchSize?: number;
  /** Longest a request waits for others before its batch runs, ms (default 2). */
  maxWaitMs?: number;
  /** Most records waiting; past it requests get 503 + Retry-After (default 1024). */
  maxQueue?: number;
  /** A request still waiting after this many ms gets 503 (default 10000). */
  timeoutMs?: number;
}

/** One request's outcome from the runner: its value or its own error. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Runs one batch: the requests in, one outcome per request out (in order). A rejection fails
 * every request of the batch (e.g. the inference thread died).
 */
export type BatchRunner<T, R> = (items: T[], explain: boolean) => Promise<Settled<R>[]>;

interface Pending<T, R> {
  item: T;
  size: number;
  explain: boolean;
  deadline: number;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/** Observers of batches (metrics). */
export interface BatchObserver {
  /** A batch was answered: records, requests, seconds of the round trip. */
  onBatch?(size: number, requests: number, seconds: number): void;
}

export class MicroBatcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private queuedRecords = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  /** The batch being computed (at most one). */
  private inFlight: Promise<void> | null = null;
  readonly opts: Required<BatchingOptions>;

  constructor(
    private readonly run: BatchRunner<T, R>,
    opts: BatchingOptions = {},
    private readonly observer: BatchObserver = {},
  ) {
    this.opts = {
      enabled: opts.enabled ?? true,
      maxBatchSize: Math.max(1, opts.maxBatchSize ?? 64),
      maxWaitMs: Math.max(0, opts.maxWaitMs ?? 2),
      maxQueue: Math.max(1, opts.maxQueue ?? 1024),
      timeoutMs: Math.max(1, opts.timeoutMs ?? 10_000),
    };
  }

  /** Records waiting for a forward pass (not counting the batch in flight). */
  get depth(): number {
    return this.queuedRecords;
  }

  /** Whether a batch is being computed. */
  get busy(): boolean {
    return this.inFlight !== null;
  }

  /** Answer `item` (`size` records) in a batch with other waiting requests of the same kind. */
  submit(item: T, size: number, explain: boolean): Promise<R> {
    if (this.queuedRecords + size > this.opts.maxQueue) {
      return Promise.reject(overloaded('overloaded', `the prediction queue is full (${this.queuedRecords} records waiting); retry later`));
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, size, explain, deadline: Date.now() + this.opts.timeoutMs, resolve, reject });
      this.queuedRecords += size;
      if (!this.opts.enabled || this.queuedRecords >= this.opts.maxBatchSize) this.scheduleNow();
      else if (!this.timer && !this.immediate) this.timer = setTimeout(() => this.flush(), this.opts.maxWaitMs);
    });
  }

  private scheduleNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.immediate ??= setImmediate(() => this.flush());
  }

  /** Send one batch from the head of the queue (requests of the head's kind, up to maxBatchSize records), unless one is in flight. */
  private flush(): void {
    this.timer = null;
    this.immediate = null;
    if (this.inFlight) return; // sent when the batch in flight is answered
    const now = Date.now();
    // requests that waited past their timeout are refused, not run
    this.queue = this.queue.filter((q) => {
      if (q.deadline >= now) return true;
      this.queuedRecords -= q.size;
      q.reject(overloaded('timeout', 'the request waited too long for a forward pass; retry later'));
      return false;
    });
    if (!this.queue.length) return;
    const explain = this.queue[0]!.explain;
    const taken: Pending<T, R>[] = [];
    let size = 0;
    this.queue = this.queue.filter((q) => {
      if (q.explain !== explain || (taken.length && (!this.opts.enabled || size + q.size > this.opts.maxBatchSize))) return true;
      taken.push(q);
      size += q.size;
      return false;
    });
    this.queuedRecords -= size;
    this.inFlight = this.runBatch(taken, explain, size).finally(() => {
      this.inFlight = null;
      // what queued meanwhile has waited for this batch already: send it now
      if (this.queue.length) this.scheduleNow();
    });
  }

  private async runBatch(taken: Pending<T, R>[], explain: boolean, size: number): Promise<void> {
    const t0 = performance.now();
    let out: Settled<R>[];
    try {
      out = await this.run(
        taken.map((p) => p.item),
        explain,
      );
    } catch (e) {
      for (const p of taken) p.reject(e);
      return;
    }
    this.observer.onBatch?.(size, taken.length, (performance.now() - t0) / 1000);
    taken.forEach((p, i) => {
      const o = out[i];
      if (!o) p.reject(new Error('the batch runner gave no answer for a request'));
      else if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }

  /** Run everything still queued now (shutdown / reload) and wait until every waiting request has its answer. */
  async drain(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    while (this.inFlight || this.queue.length) {
      if (this.inFlight) await this.inFlight.catch(() => {});
      else this.flush();
    }
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
  }
}

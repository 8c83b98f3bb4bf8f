/**
 * Micro-batching: concurrent requests for one model are coalesced into one forward pass.
 *
 * A request's samples wait at most `maxWaitMs` (or until `maxBatchSize` samples are queued) and
 * then run together with every other queued request of the same kind (with / without explanation)
 * in one `predictSamples` call; each request gets back exactly its own rows. The queue is bounded
 * in samples: past `maxQueue` a request is refused at once (503 + Retry-After) instead of growing
 * memory, and a request still queued after its `timeoutMs` is refused the same way. With batching
 * off every request runs alone, at once.
 *
 * The forward pass is synchronous (TensorFlow.js on WASM / CPU), so one batch runs at a time; the
 * next one is scheduled with setImmediate so that sockets are served in between.
 */
import type { Sample } from '../data/schema.js';
import type { Prediction } from './predictor.js';
import { overloaded } from './httpErrors.js';

/** Settings of the micro-batcher. */
export interface BatchingOptions {
  /** Coalesce concurrent requests (default true). */
  enabled?: boolean;
  /** Most samples in one forward pass (default 64). A larger single request runs alone. */
  maxBatchSize?: number;
  /** Longest a request waits for others before its batch runs, ms (default 2). */
  maxWaitMs?: number;
  /** Most samples waiting; past it requests get 503 + Retry-After (default 1024). */
  maxQueue?: number;
  /** A request still waiting after this many ms gets 503 (default 10000). */
  timeoutMs?: number;
}

/** Runs one batch: samples in, one prediction per sample out. */
export type BatchRunner = (samples: Sample[], explain: boolean) => Prediction[];

interface Pending {
  samples: Sample[];
  explain: boolean;
  deadline: number;
  resolve: (p: Prediction[]) => void;
  reject: (e: unknown) => void;
}

/** Observers of batches (metrics). */
export interface BatchObserver {
  onBatch?(size: number, requests: number, seconds: number): void;
}

export class MicroBatcher {
  private queue: Pending[] = [];
  private queuedSamples = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  readonly opts: Required<BatchingOptions>;

  constructor(
    private readonly run: BatchRunner,
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

  /** Samples waiting for a forward pass. */
  get depth(): number {
    return this.queuedSamples;
  }

  /** Predict `samples` (in one batch with other waiting requests when batching is on). */
  submit(samples: Sample[], explain: boolean): Promise<Prediction[]> {
    if (!samples.length) return Promise.resolve([]);
    if (!this.opts.enabled) {
      const t0 = performance.now();
      const out = this.run(samples, explain);
      this.observer.onBatch?.(samples.length, 1, (performance.now() - t0) / 1000);
      return Promise.resolve(out);
    }
    if (this.queuedSamples + samples.length > this.opts.maxQueue) {
      return Promise.reject(overloaded('overloaded', `the prediction queue is full (${this.queuedSamples} samples waiting); retry later`));
    }
    return new Promise<Prediction[]>((resolve, reject) => {
      this.queue.push({ samples, explain, deadline: Date.now() + this.opts.timeoutMs, resolve, reject });
      this.queuedSamples += samples.length;
      if (this.queuedSamples >= this.opts.maxBatchSize) this.scheduleNow();
      else if (!this.timer && !this.immediate) this.timer = setTimeout(() => this.flush(), this.opts.maxWaitMs);
    });
  }

  private scheduleNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.immediate ??= setImmediate(() => this.flush());
  }

  /** Run one batch from the head of the queue (requests of the head's kind, up to maxBatchSize samples). */
  private flush(): void {
    this.timer = null;
    this.immediate = null;
    const now = Date.now();
    // requests that waited past their timeout are refused, not run
    for (const p of this.queue.filter((q) => q.deadline < now)) p.reject(overloaded('timeout', 'the request waited too long for a forward pass; retry later'));
    this.queue = this.queue.filter((q) => {
      if (q.deadline < now) this.queuedSamples -= q.samples.length;
      return q.deadline >= now;
    });
    if (!this.queue.length) return;
    const explain = this.queue[0]!.explain;
    const taken: Pending[] = [];
    let size = 0;
    this.queue = this.queue.filter((q) => {
      if (q.explain !== explain || (taken.length && size + q.samples.length > this.opts.maxBatchSize)) return true;
      taken.push(q);
      size += q.samples.length;
      return false;
    });
    this.queuedSamples -= size;
    this.runBatch(taken, explain, size);
    if (this.queue.length) this.scheduleNow();
  }

  private runBatch(taken: Pending[], explain: boolean, size: number): void {
    const t0 = performance.now();
    let out: Prediction[];
    try {
      out = this.run(
        taken.flatMap((p) => p.samples),
        explain,
      );
    } catch (e) {
      // one request's samples broke the batch (e.g. a non-finite output): run each alone so the others still get answers
      if (taken.length === 1) taken[0]!.reject(e);
      else
        for (const p of taken) {
          try {
            p.resolve(this.run(p.samples, explain));
          } catch (e2) {
            p.reject(e2);
          }
        }
      return;
    }
    this.observer.onBatch?.(size, taken.length, (performance.now() - t0) / 1000);
    let at = 0;
    for (const p of taken) {
      p.resolve(out.slice(at, at + p.samples.length));
      at += p.samples.length;
    }
  }

  /** Run everything still queued now (shutdown / reload): every waiting request gets its answer. */
  drain(): void {
    while (this.queue.length) this.flush();
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }
}

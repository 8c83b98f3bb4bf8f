/**
 * Host side of a served model's inference thread (worker side: src/serve/inferenceThreadEntry.ts):
 * one persistent worker thread per loaded model version that holds the weights and runs the
 * forward passes (of requests the host has validated: src/serve/answerRequests.ts), so the server's event loop keeps accepting, parsing and
 * answering sockets while a batch computes.
 *
 * Requests and answers are matched by id. A thread that ends without being asked to (a crash,
 * out of memory, killed) fails its pending batches with 503 `inference_unavailable`, says so in
 * one warn line, and is started again — at most once per `restartIntervalMs` (default 5 s) — from
 * the same directory; while it is down the model is not ready. A thread that does not answer a
 * batch within `batchTimeoutMs` (default 60 s: stuck, not dead) is ended the same way, so a wedged
 * forward pass cannot hold the model's requests forever. `close()` ends the thread and waits for
 * it. The worker holds the process open only while a batch is pending.
 */
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../engine/backend.js';
import type { ModelMeta } from '../models/modelFiles.js';
import { ApiError } from './httpErrors.js';
import { LoadRefused, loadFailureMessage } from './loadFailure.js';
import type { InferenceRequest, RequestAnswer } from './answerRequests.js';
import { deserializeError, type SerializedError } from '../worker/protocol.js';

/** What the worker is started with (workerData). */
export interface ThreadOptions {
  dir: string;
  backend?: BackendName;
}

/** What the host needs of the loaded model (ModelInfo, the route): no weights. */
export type ThreadModelMeta = Pick<ModelMeta, 'spec' | 'model' | 'ranges' | 'fleximodal'>;

/** Worker → host. */
export type ThreadMessage =
  | { kind: 'ready'; meta: ThreadModelMeta; explain: boolean; loadSeconds: number }
  /** `message`: path-free (loadFailureMessage); `error`: the full error, for the operator starting the server. */
  | { kind: 'failed'; message: string; error: SerializedError }
  | { kind: 'answers'; id: number; answers: RequestAnswer[] }
  | { kind: 'batchError'; id: number; error: SerializedError };

/** Host → worker: one batch. */
export interface HostMessage {
  id: number;
  requests: InferenceRequest[];
  explain: boolean;
}

/** The loaded model, as the thread reported it once ready. */
export interface ThreadReady {
  meta: ThreadModelMeta;
  explain: boolean;
  loadSeconds: number;
}

/** Log sink of the thread's life events (the server's logger). */
export type ThreadLog = (level: 'warn' | 'info', fields: Record<string, unknown>, message: string) => void;

export interface InferenceThreadOptions extends ThreadOptions {
  /** The model's name (log lines, messages). */
  name: string;
  log?: ThreadLog;
  /** Least time between two starts of the thread (restart rate limit), ms; default 5000. */
  restartIntervalMs?: number;
  /** A batch not answered within this many ms ends (and restarts) the thread; its requests get 503. Default 60000; 0 = never. */
  batchTimeoutMs?: number;
  /** The worker script (default: inferenceThreadEntry.js); tests substitute one that never answers. */
  entry?: URL;
}

const ENTRY = new URL('./inferenceThreadEntry.js', import.meta.url);
/** Default of InferenceThreadOptions.batchTimeoutMs. */
export const DEFAULT_BATCH_TIMEOUT_MS = 60_000;

/** 503 for the requests of a model whose inference thread is down. */
export function inferenceUnavailable(name: string): ApiError {
  return new ApiError(503, 'inference_unavailable', `the inference thread of model '${name}' stopped; it is restarting, retry later`, null, undefined, { 'retry-after': '5' });
}

interface PendingBatch {
  resolve: (a: RequestAnswer[]) => void;
  reject: (e: unknown) => void;
  /** The stuck-thread watchdog of this batch (null: none). */
  watchdog: NodeJS.Timeout | null;
}

/** Start one worker on `opts` and wait for it to be ready (rejects with LoadRefused when it does not load). */
function spawn(opts: ThreadOptions & { entry?: URL }): Promise<{ worker: Worker; ready: ThreadReady }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(opts.entry ?? ENTRY, { workerData: { dir: opts.dir, backend: opts.backend } satisfies ThreadOptions });
    let settled = false;
    const fail = (message: string, error?: SerializedError) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(new LoadRefused(message, error));
    };
    worker.once('message', (m: ThreadMessage) => {
      if (m.kind === 'ready') {
        settled = true;
        worker.removeAllListeners('error');
        worker.removeAllListeners('exit');
        resolve({ worker, ready: { meta: m.meta, explain: m.explain, loadSeconds: m.loadSeconds } });
      } else if (m.kind === 'failed') fail(m.message, m.error);
      else fail('the inference thread did not load the model');
    });
    worker.once('error', (e) => fail(loadFailureMessage(e)));
    worker.once('exit', (code) => fail(`the inference thread exited (code ${code}) while loading the model`));
  });
}

export class InferenceThread {
  private worker: Worker | null;
  private readonly pending = new Map<number, PendingBatch>();
  private nextId = 1;
  private closing = false;
  private lastStart: number;
  private restartTimer: NodeJS.Timeout | null = null;
  private restarting: Promise<void> | null = null;
  private readonly fingerprint: string;
  /** Set while a thread the watchdog ended is exiting (its exit is then expected, not a crash). */
  private stuck = false;

  private constructor(
    private readonly opts: InferenceThreadOptions,
    worker: Worker,
    readonly ready: ThreadReady,
  ) {
    this.worker = worker;
    this.lastStart = Date.now();
    this.fingerprint = JSON.stringify([ready.meta.spec, ready.meta.model, ready.meta.fleximodal]);
    this.attach(worker);
  }

  /** Start the thread: it loads and warms up the model (rejects with a path-free LoadRefused when the directory does not load). */
  static async start(opts: InferenceThreadOptions): Promise<InferenceThread> {
    const { worker, ready } = await spawn(opts);
    return new InferenceThread(opts, worker, ready);
  }

  /** Whether a thread is up to answer (false while it restarts). */
  get available(): boolean {
    return this.worker !== null;
  }

  private attach(worker: Worker): void {
    worker.unref();
    worker.on('message', (m: ThreadMessage) => {
      if (m.kind !== 'answers' && m.kind !== 'batchError') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (p.watchdog) clearTimeout(p.watchdog);
      if (!this.pending.size) worker.unref();
      if (m.kind === 'answers') p.resolve(m.answers);
      else p.reject(deserializeError(m.error));
    });
    worker.on('error', () => {}); // 'exit' follows and says what matters
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = null;
      for (const p of this.pending.values()) {
        if (p.watchdog) clearTimeout(p.watchdog);
        p.reject(inferenceUnavailable(this.opts.name));
      }
      this.pending.clear();
      if (this.closing) return;
      if (!this.stuck) this.opts.log?.('warn', { model: this.opts.name, exitCode: code }, 'inference thread stopped unexpectedly; its requests got 503; restarting it');
      this.stuck = false;
      this.scheduleRestart();
    });
  }

  private scheduleRestart(): void {
    if (this.closing || this.restartTimer) return;
    const wait = Math.max(0, this.lastStart + (this.opts.restartIntervalMs ?? 5_000) - Date.now());
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.restarting = this.restart().finally(() => (this.restarting = null));
    }, wait);
    this.restartTimer.unref();
  }

  private async restart(): Promise<void> {
    this.lastStart = Date.now();
    let started: { worker: Worker; ready: ThreadReady };
    try {
      started = await spawn(this.opts);
    } catch (e) {
      if (!this.closing) {
        this.opts.log?.('warn', { model: this.opts.name, reason: loadFailureMessage(e) }, 'inference thread restart failed; trying again');
        this.scheduleRestart();
      }
      return;
    }
    const same = JSON.stringify([started.ready.meta.spec, started.ready.meta.model, started.ready.meta.fleximodal]) === this.fingerprint;
    if (this.closing || !same) {
      await started.worker.terminate();
      if (!same) this.opts.log?.('warn', { model: this.opts.name }, 'the model directory changed since this version was loaded; the version stays unavailable until the model is reloaded');
      return;
    }
    this.worker = started.worker;
    this.attach(started.worker);
    this.opts.log?.('info', { model: this.opts.name }, 'inference thread restarted');
  }

  /** Answer one batch of requests in the thread (rejects with 503 inference_unavailable when the thread is down or dies meanwhile). */
  answer(requests: InferenceRequest[], explain: boolean): Promise<RequestAnswer[]> {
    const worker = this.worker;
    if (!worker) return Promise.reject(inferenceUnavailable(this.opts.name));
    const id = this.nextId++;
    const limit = this.opts.batchTimeoutMs ?? DEFAULT_BATCH_TIMEOUT_MS;
    return new Promise<RequestAnswer[]>((resolve, reject) => {
      const watchdog = limit > 0 ? setTimeout(() => this.endStuck(worker, id, limit), limit) : null;
      watchdog?.unref();
      this.pending.set(id, { resolve, reject, watchdog });
      worker.ref();
      worker.postMessage({ id, requests, explain } satisfies HostMessage);
    });
  }

  /** The watchdog: batch `id` got no answer within `limit` ms — end the thread (its batches get 503) and restart it. */
  private endStuck(worker: Worker, id: number, limit: number): void {
    if (this.worker !== worker || !this.pending.has(id) || this.closing) return;
    this.stuck = true;
    this.opts.log?.('warn', { model: this.opts.name, batchTimeoutMs: limit }, 'inference thread did not answer a batch in time; ending it (its requests get 503) and restarting it');
    void worker.terminate();
  }

  /** End the thread abruptly, as a crash would (pending batches get 503, then it restarts): for tests and drills. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  /** End the thread (no restart) and wait until it has exited. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await this.restarting;
    await this.worker?.terminate();
  }
}

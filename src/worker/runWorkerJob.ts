/**
 * Host side of one worker job: start a worker thread on src/worker/entry.ts, forward its progress
 * and log messages, turn an AbortSignal into the shared abort flag, and settle once — with the
 * result, an AbortError, or a FlexiModalError carrying the worker's message. The worker is
 * terminated (and awaited) before the promise settles, so nothing of it outlives the call.
 */
import { Worker } from 'node:worker_threads';
import { FlexiModalError } from '../errors.js';
import { deserializeError, type PredictJob, type PredictProgress, type TrainJob, type TrainProgress, type WorkerMessage } from './protocol.js';

export interface WorkerJobOptions<P> {
  signal?: AbortSignal;
  onProgress?: (event: P) => void;
  log: (line: string) => void;
  /**
   * After an abort, how long the worker may take to reach its next check (the end of the current
   * optimizer step or batch) before it is terminated. Default 30 000 ms.
   */
  abortTimeoutMs?: number;
}

/** How a job ended (the caller decides what an abort means for its outputs). */
export type WorkerOutcome =
  | { kind: 'done'; result: unknown }
  /** `forced`: the worker did not stop in time and was terminated; `error`: the host's progress handler threw it. */
  | { kind: 'aborted'; at: string; forced: boolean; error?: Error };

const ENTRY = new URL('./entry.js', import.meta.url);

/** Run `job` in a fresh worker thread; resolves with how it ended, rejects with a FlexiModalError. */
export function runWorkerJob<P extends TrainProgress | PredictProgress>(job: TrainJob | PredictJob, opts: WorkerJobOptions<P>): Promise<WorkerOutcome> {
  const abortFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(abortFlag);
  if (opts.signal?.aborted) return Promise.resolve({ kind: 'aborted', at: 'before it started', forced: false });
  return new Promise<WorkerOutcome>((resolve, reject) => {
    const worker = new Worker(ENTRY, { workerData: { ...job, abortFlag } });
    let outcome: { ok: WorkerOutcome } | { err: Error } | null = null;
    /** An error of the host's progress handler: the worker is asked to stop, and this is the result. */
    let handlerError: Error | null = null;
    let forceTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      Atomics.store(flag, 0, 1);
      if (forceTimer) return;
      forceTimer = setTimeout(() => {
        if (outcome) return;
        outcome = { ok: { kind: 'aborted', at: `(no answer within ${opts.abortTimeoutMs ?? 30_000} ms; the worker was terminated)`, forced: true, ...(handlerError ? { error: handlerError } : {}) } };
        void worker.terminate();
      }, opts.abortTimeoutMs ?? 30_000);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (o: { ok: WorkerOutcome } | { err: Error }) => {
      if (!outcome) outcome = handlerError ? { err: handlerError } : o;
      // the worker has said its last word: end the thread; the promise settles on 'exit'
      void worker.terminate();
    };
    worker.on('message', (m: WorkerMessage) => {
      if (outcome) return;
      switch (m.kind) {
        case 'progress':
          if (handlerError) return;
          try {
            opts.onProgress?.(m.event as P);
          } catch (e) {
            // a throwing progress handler stops the job like an abort (the worker releases what it
            // holds, e.g. the run directory's lock) and becomes the job's error
            handlerError = e instanceof Error ? e : new Error(String(e));
            onAbort();
          }
          return;
        case 'log':
          opts.log(m.line);
          return;
        case 'done':
          return settle({ ok: { kind: 'done', result: m.result } });
        case 'aborted':
          return settle({ ok: { kind: 'aborted', at: m.at, forced: false } });
        case 'error':
          return settle({ err: deserializeError(m.error) });
      }
    });
    worker.on('error', (e) => settle({ err: new FlexiModalError(`the worker thread failed: ${e.message}`, { where: 'fleximodal worker', hint: 'see the message; run the same job with runExperiment / Predictor in-process to get the full stack' }) }));
    worker.on('exit', (code) => {
      clearTimeout(forceTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      const o = outcome ?? { err: new FlexiModalError(`the worker thread exited (code ${code}) without a result`, { where: 'fleximodal worker', hint: 'it may have run out of memory; retry with fewer samples or a smaller model' }) };
      if ('ok' in o) resolve(o.ok);
      else reject(o.err);
    });
  });
}

/**
 * What the host and a fleximodal worker thread (src/worker/entry.ts) tell each other: the job
 * (passed as `workerData`, with a SharedArrayBuffer abort flag the worker polls between steps),
 * and the messages back (progress, log lines, the result, an error). Errors cross the thread
 * boundary as plain objects and are rebuilt as FlexiModalError with message, where and hint intact.
 */
import type { RunConfig } from '../config/schema.js';
import type { RunDirMode } from '../run/runDirectory.js';
import type { BackendName } from '../engine/backend.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import { FlexiModalError } from '../errors.js';
import type { StepEndInfo } from '../train/callbacks.js';

/** A training progress event: one per optimizer step, one per finished epoch (in this order per model). */
export type TrainProgress =
  | ({
      type: 'step';
      /** The experiment seed whose model is training. */
      seed: number;
    } & StepEndInfo)
  | {
      type: 'epoch';
      seed: number;
      label: string;
      epoch: number;
      epochs: number;
      /** Optimizer steps done at the end of this epoch. */
      step: number;
      /** Mean training loss of the epoch. */
      loss: number;
      /** Validation metrics of the epoch (e.g. auroc, auprc, loss; NaN where undefined). */
      metrics: Record<string, number>;
    };

/** Batch prediction progress: samples predicted so far, of the total. */
export interface PredictProgress {
  type: 'batch';
  done: number;
  total: number;
}

/** A training job: the experiment runExperiment would run, minus the host-side callbacks. */
export interface TrainJob {
  kind: 'train';
  config: RunConfig;
  baseDir: string;
  outDir: string;
  seeds?: number[];
  runDir?: RunDirMode;
  saveModels?: boolean;
}

/** A batch prediction job. */
export interface PredictJob {
  kind: 'predict';
  modelDir: string;
  records: (Sample | Record<string, unknown>)[];
  explain?: boolean;
  emptySamples?: 'flag' | 'refuse';
  spec?: DatasetSpec;
  backend?: BackendName;
  batchSize: number;
}

export type WorkerJob = (TrainJob | PredictJob) & {
  /** Int32Array view [1]: 1 = the host asked to stop. */
  abortFlag: SharedArrayBuffer;
};

/** A plain-object error that survives postMessage. */
export interface SerializedError {
  name: string;
  /** The full message (FlexiModalError: "where: message — Fix: hint"). */
  message: string;
  where?: string;
  hint?: string;
  stack?: string;
}

/** Worker → host. */
export type WorkerMessage =
  | { kind: 'progress'; event: TrainProgress | PredictProgress }
  | { kind: 'log'; line: string }
  | { kind: 'done'; result: unknown }
  | { kind: 'aborted'; at: string }
  | { kind: 'error'; error: SerializedError };

/** The error thrown inside the worker when the abort flag is seen. */
export class WorkerAbort extends Error {
  constructor(readonly at: string) {
    super(`aborted ${at}`);
    this.name = 'WorkerAbort';
  }
}

/** Turn any thrown value into a plain object for postMessage. */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof FlexiModalError) return { name: e.name, message: e.message, where: e.where, hint: e.hint, stack: e.stack };
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

/**
 * The host-side error for a worker's serialized error: always a FlexiModalError whose `message`,
 * `where` and `hint` are the worker's (a non-FlexiModal error keeps its message; its original name
 * and the worker's stack are in `cause`).
 */
export function deserializeError(s: SerializedError): FlexiModalError {
  const err = new FlexiModalError(s.message);
  // The message was composed in the worker already: keep it verbatim, with the parts it came from.
  Object.defineProperty(err, 'where', { value: s.where, enumerable: true });
  Object.defineProperty(err, 'hint', { value: s.hint, enumerable: true });
  if (s.name !== 'FlexiModalError') Object.defineProperty(err, 'cause', { value: { name: s.name, stack: s.stack }, enumerable: false });
  if (s.stack) err.stack = `FlexiModalError: ${s.message}\n    (thrown in a fleximodal worker thread)\n${s.stack.split('\n').slice(1).join('\n')}`;
  return err;
}

/**
 * Rejection value of an aborted worker job. `name` is 'AbortError' (like fetch and timers/promises);
 * `outDir` (training) is the run directory, left resumable (`train --resume`, or `runDir: 'resume'`).
 */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(
    message: string,
    readonly outDir?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AbortError';
  }
}

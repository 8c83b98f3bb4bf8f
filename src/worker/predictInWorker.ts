/**
 * `predictInWorker`: predict a large batch of records in a worker thread (the model is loaded
 * there, with its own tensor engine), so the host's event loop never waits for the model. For a
 * model the host already holds, `Predictor.predictAsync` (same thread, yielding between batches)
 * avoids the worker's start-up and model load; bench/host-loop.ts measures both.
 */
import { resolve } from 'node:path';
import type { BackendName } from '../engine/backend.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import type { Prediction, PredictOptions } from '../serve/predictor.js';
import { runWorkerJob } from './runWorkerJob.js';
import { AbortError, type PredictProgress } from './protocol.js';

export interface PredictInWorkerOptions extends PredictOptions {
  /** Samples per forward pass (default 64). */
  batchSize?: number;
  /** The records' spec, matched by name against the model's (see Predictor.parse). */
  spec?: DatasetSpec;
  backend?: BackendName;
  /** Stops after the current batch; the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** After every batch. */
  onProgress?: (event: PredictProgress) => void;
}

/** Load the model in `modelDir` in a worker thread and predict `records` (JSONL sample objects or parsed Samples), in order. */
export async function predictInWorker(modelDir: string, records: (Sample | Record<string, unknown>)[], opts: PredictInWorkerOptions = {}): Promise<Prediction[]> {
  const outcome = await runWorkerJob<PredictProgress>(
    {
      kind: 'predict',
      modelDir: resolve(modelDir),
      records,
      explain: opts.explain,
      emptySamples: opts.emptySamples,
      spec: opts.spec,
      backend: opts.backend,
      batchSize: Math.max(1, Math.floor(opts.batchSize ?? 64)),
    },
    { signal: opts.signal, onProgress: opts.onProgress, log: (l) => process.stderr.write(l + '\n') },
  );
  if (outcome.kind === 'done') return outcome.result as Prediction[];
  if (outcome.error) throw outcome.error;
  throw new AbortError(`prediction aborted ${outcome.at}`, undefined, { cause: opts.signal?.reason });
}

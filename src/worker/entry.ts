/**
 * The worker-thread side of trainInWorker / predictInWorker: runs one job (workerData) with this
 * thread's own tensor engine and module instances, reports progress and log lines by message,
 * polls the shared abort flag after every optimizer step (training) or batch (prediction), and
 * ends with exactly one 'done', 'aborted' or 'error' message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runExperiment } from '../run/experiment.js';
import { Predictor, type Prediction } from '../serve/predictor.js';
import type { TrainerCallback } from '../train/callbacks.js';
import { serializeError, WorkerAbort, type PredictJob, type TrainJob, type TrainProgress, type WorkerJob, type WorkerMessage } from './protocol.js';

const job = workerData as WorkerJob;
const abortFlag = new Int32Array(job.abortFlag);
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const aborted = () => Atomics.load(abortFlag, 0) === 1;

/** Progress events and the abort check for the models of one experiment seed. */
function progressCallback(seed: number, epochs: number): TrainerCallback {
  let label = `seed ${seed}`;
  let step = 0;
  return {
    name: 'worker-progress',
    onStepEnd(info) {
      label = info.label;
      step = info.step;
      const event: TrainProgress = { type: 'step', seed, label, epoch: info.epoch, epochs: info.epochs, step: info.step, stepInEpoch: info.stepInEpoch, stepsPerEpoch: info.stepsPerEpoch, loss: info.loss, epochLoss: info.epochLoss };
      post({ kind: 'progress', event });
      // thrown here, the last epoch's checkpoint is the resume point (see TrainerCallback.onStepEnd)
      if (aborted()) throw new WorkerAbort(`in ${label}, epoch ${info.epoch}, step ${info.step}`);
    },
    onEpochEnd(info) {
      post({ kind: 'progress', event: { type: 'epoch', seed, label, epoch: info.epoch, epochs, step, loss: info.trainLoss, metrics: info.valMetrics } });
    },
  };
}

async function runTrain(j: TrainJob): Promise<unknown> {
  const result = await runExperiment(j.config, {
    baseDir: j.baseDir,
    outDir: j.outDir,
    seeds: j.seeds,
    runDir: j.runDir,
    saveModels: j.saveModels,
    progress: false,
    log: (line) => post({ kind: 'log', line }),
    callbacks: (seed) => [progressCallback(seed, j.config.train.epochs)],
    // the host decides what an aborted or failed run leaves behind (TrainInWorkerOptions.keepIncomplete)
    keepIncomplete: true,
  });
  if (aborted()) post({ kind: 'log', line: 'abort requested after the run had completed; its result is returned' });
  return result;
}

async function runPredict(j: PredictJob): Promise<Prediction[]> {
  const predictor = await Predictor.load(j.modelDir, { backend: j.backend });
  try {
    const out: Prediction[] = [];
    for (let i = 0; i < j.records.length; i += j.batchSize) {
      if (aborted()) throw new WorkerAbort(`after ${i} of ${j.records.length} samples`);
      const chunk = j.records.slice(i, i + j.batchSize);
      out.push(...predictor.predict(chunk, { explain: j.explain, emptySamples: j.emptySamples, spec: j.spec, firstIndex: i }));
      post({ kind: 'progress', event: { type: 'batch', done: Math.min(j.records.length, i + j.batchSize), total: j.records.length } });
    }
    return out;
  } finally {
    predictor.dispose();
  }
}

try {
  const result = job.kind === 'train' ? await runTrain(job) : await runPredict(job);
  post({ kind: 'done', result });
} catch (e) {
  if (e instanceof WorkerAbort) post({ kind: 'aborted', at: e.at });
  else post({ kind: 'error', error: serializeError(e) });
}

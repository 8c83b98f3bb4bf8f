/**
 * The worker side of a served model's inference thread (host side: src/serve/inferenceThread.ts):
 * loads the model directory with this thread's own tensor engine, warms it up, says 'ready' (or
 * 'failed' with a message without file paths), then answers batches of validated requests with
 * `answerRequests` — input bounds, one forward pass, explanations — one at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Predictor } from './predictor.js';
import { answerRequests, warmUp } from './answerRequests.js';
import { loadFailureMessage } from './loadFailure.js';
import { serializeError } from '../worker/protocol.js';
import type { HostMessage, ThreadMessage, ThreadOptions } from './inferenceThread.js';

const opts = workerData as ThreadOptions;
const post = (m: ThreadMessage) => parentPort!.postMessage(m);

let predictor: Predictor;
try {
  const t0 = performance.now();
  predictor = await Predictor.load(opts.dir, { backend: opts.backend });
  const explain = warmUp(predictor);
  const { spec, model, ranges, fleximodal } = predictor.meta;
  post({ kind: 'ready', meta: { spec, model, ranges, fleximodal }, explain, loadSeconds: (performance.now() - t0) / 1000 });
} catch (e) {
  post({ kind: 'failed', message: loadFailureMessage(e), error: serializeError(e) });
  process.exit(0);
}

parentPort!.on('message', (m: HostMessage) => {
  try {
    post({ kind: 'answers', id: m.id, answers: answerRequests(predictor.model, predictor.meta, m.requests, m.explain) });
  } catch (e) {
    post({ kind: 'batchError', id: m.id, error: serializeError(e) });
  }
});

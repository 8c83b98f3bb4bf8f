/**
 * A stand-in inference thread for the watchdog test (test/serve/inferenceWatchdog.test.ts): it says
 * 'ready' like src/serve/inferenceThreadEntry.ts, then never answers a batch — a stuck forward
 * pass. Started with the directory `answer-after-<ms>` (the only thing a thread is given), it
 * answers each batch (with no predictions) after that delay instead.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HostMessage, ThreadMessage } from '../../src/serve/inferenceThread.js';

// only as a worker: the test runner also loads every file under dist/test as a test file
const port = parentPort;
if (port) {
  const post = (m: ThreadMessage) => port.postMessage(m);
  const meta = { spec: { name: 'silent', modalities: [], task: { kind: 'binary', name: 'y' }, horizonHours: 1 }, model: { type: 'baseline' }, fleximodal: '0' } as unknown as Extract<ThreadMessage, { kind: 'ready' }>['meta'];
  post({ kind: 'ready', meta, explain: false, loadSeconds: 0 });
  const delay = /^answer-after-(\d+)$/.exec((workerData as { dir: string }).dir);
  const answerAfterMs = delay ? Number(delay[1]) : undefined;
  port.on('message', (m: HostMessage) => {
    if (answerAfterMs === undefined) return; // stuck: never answers
    setTimeout(() => post({ kind: 'answers', id: m.id, answers: m.requests.map(() => ({ predictions: [] })) }), answerAfterMs);
  });
}

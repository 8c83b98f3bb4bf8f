/** worker_threads entry of the rate-study pool: runs the units it is sent and posts the results. */
import { parentPort } from 'node:worker_threads';
import { runUnit, type StudyConfig } from './rateUnit.js';

interface Task {
  id: number;
  cfg: StudyConfig;
  n: number;
  rep: number;
}

parentPort?.on('message', (task: Task) => {
  try {
    const res = runUnit(task.cfg, task.n, task.rep);
    parentPort!.postMessage({ id: task.id, ok: true, res });
  } catch (e) {
    parentPort!.postMessage({ id: task.id, ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) });
  }
});

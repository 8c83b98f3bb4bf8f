/**
 * Child-process entry of the benchmark's workers (local pool and queue workers; started by
 * src/benchmark/cellChild.ts): receives `{ type: 'run', cell, dir, rerun, logFile }` over IPC, runs
 * the cell (src/benchmark/cellRun.ts) with its log appended to `logFile`, and answers
 * `{ type: 'result', result }`. It exits when its parent goes away: training is synchronous, so the
 * IPC disconnect is only seen between cells; the parent's pid is therefore also checked after every
 * epoch (an orphan is re-parented), and a cell whose parent is gone stops there, resumable from its
 * checkpoint. An entry point like the CLI: the process is its own, so it installs the handlers.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { runExitHooks } from '../io/exitHooks.js';
import { runCell } from '../benchmark/cellRun.js';
import type { CellResultMessage, RunCellMessage } from '../benchmark/cellMessages.js';

if (process.send) {
  const parent = process.ppid;
  const orphaned = () => (process.ppid !== parent ? `its parent process ${parent} is gone` : null);
  process.once('exit', runExitHooks); // this child process is ours: library cleanup at exit
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: RunCellMessage) => {
    if (msg?.type !== 'run') return;
    mkdirSync(dirname(msg.logFile), { recursive: true });
    const log = (line: string) => appendFileSync(msg.logFile, line + '\n');
    log(`=== cell ${msg.cell.id} (pid ${process.pid}, ${new Date().toISOString()}) ===`);
    void runCell(msg.cell, msg.dir, { rerun: msg.rerun, log, abortWhen: orphaned }).then((result) => {
      log(`=== ${result.status}${result.error ? `: ${result.error}` : ''} (${result.seconds.toFixed(1)} s) ===`);
      if (orphaned() || !process.connected) process.exit(0);
      process.send!({ type: 'result', result } satisfies CellResultMessage);
    });
  });
}

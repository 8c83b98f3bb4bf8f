/**
 * A child process that runs benchmark cells one at a time (src/cli/benchmarkCell.ts), so
 * that training — synchronous, CPU-bound — never blocks the parent's event loop (the queue
 * worker must keep renewing its job locks) and several cells run in parallel on several cores.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CellResult } from './cellRun.js';
import type { CellResultMessage, RunCellMessage } from './cellMessages.js';
import type { CellSpec } from './plan.js';

const ENTRY = fileURLToPath(new URL('../cli/benchmarkCell.js', import.meta.url));

/** One child process; `run` sends it a cell and resolves with the cell's result (a failure if the child dies). */
export class CellChild {
  private child: ChildProcess | null = null;

  /** `outputLog`: where the child's own stdout / stderr go (engine messages outside a cell's log). */
  constructor(private readonly outputLog: string) {}

  private start(): ChildProcess {
    mkdirSync(dirname(this.outputLog), { recursive: true });
    const child = fork(ENTRY, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env } });
    const out = createWriteStream(this.outputLog, { flags: 'a' });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    child.on('exit', () => {
      if (this.child === child) this.child = null;
    });
    this.child = child;
    return child;
  }

  /** The pid of the running child (null when none). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Run one cell in the child (starting it if needed). */
  run(cell: CellSpec, dir: string, rerun: boolean, logFile: string): Promise<CellResult> {
    const child = this.child ?? this.start();
    return new Promise((resolvePromise) => {
      const onMessage = (msg: CellResultMessage) => {
        if (msg?.type !== 'result' || msg.result.id !== cell.id) return;
        cleanup();
        resolvePromise(msg.result);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        cleanup();
        resolvePromise({ id: cell.id, status: 'failed', error: `the cell's process ended (${signal ?? `exit code ${code}`}) before it finished; see ${logFile}`, seconds: 0 });
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ type: 'run', cell, dir, rerun, logFile } satisfies RunCellMessage);
    });
  }

  /** End the child (it also ends by itself when this process exits). */
  stop(): void {
    const c = this.child;
    this.child = null;
    if (c && c.exitCode === null) {
      c.disconnect?.();
      c.kill();
    }
  }
}

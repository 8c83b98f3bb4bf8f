/**
 * What a benchmark worker and its cell child process (src/cli/benchmarkCell.ts) tell each other
 * over IPC: the cell to run, and its result.
 */
import type { CellResult } from './cellRun.js';
import type { CellSpec } from './plan.js';

/** The message a parent sends. */
export interface RunCellMessage {
  type: 'run';
  cell: CellSpec;
  dir: string;
  rerun: boolean;
  logFile: string;
}

/** The answer. */
export interface CellResultMessage {
  type: 'result';
  result: CellResult;
}

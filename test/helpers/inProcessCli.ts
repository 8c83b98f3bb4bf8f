/**
 * Run the `fleximodal` CLI inside the test process: the commander program is built from the same
 * command registrations as src/cli/main.ts, and errors go through the CLI's own error contract
 * (describeCliError), so the exit code and the message are those a user would see. Saves the
 * 1.2-1.4 s start-up of a child process per call; use a child process only where the process is the
 * point (exit status of the real binary, EPIPE, signals).
 */
import { Command } from 'commander';
import { registerDemoCommand } from '../../src/cli/demo.js';
import { registerTrainCommand } from '../../src/cli/train.js';
import { registerEvaluateCommand } from '../../src/cli/evaluate.js';
import { registerPredictCommand } from '../../src/cli/predict.js';
import { registerCompareCommand } from '../../src/cli/compare.js';
import { registerFinetuneCommand } from '../../src/cli/finetune.js';
import { registerSimulateCommands } from '../../src/cli/simulate.js';
import { registerDataCommand } from '../../src/cli/data.js';
import { registerConvertCommand } from '../../src/cli/convert.js';
import { describeCliError } from '../../src/cli/errorHandler.js';

/** What a CLI call left: `status` is the exit code the real binary would use. */
export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `fleximodal ...args` in this process, with `cwd` as the working directory for the call.
 * stdout is copied to the real stdout (it is also the test runner's channel to its parent, so it is
 * never swallowed): the captured `stdout` may therefore hold runner output too; filter the lines
 * you check (see `jsonLines`). Calls must not overlap (the working directory is process-wide).
 */
export async function runCli(args: string[], cwd: string = process.cwd()): Promise<CliResult> {
  const program = new Command().name('fleximodal').exitOverride().option('--verbose');
  let stdout = '';
  let stderr = '';
  program.configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  for (const register of [
    registerDemoCommand,
    registerTrainCommand,
    registerEvaluateCommand,
    registerPredictCommand,
    registerCompareCommand,
    registerFinetuneCommand,
    registerSimulateCommands,
    registerDataCommand,
    registerConvertCommand,
  ]) {
    register(program);
  }
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  const home = process.cwd();
  process.stdout.write = ((s: string | Uint8Array, ...rest: unknown[]) => ((stdout += String(s)), (realOut as (...a: unknown[]) => boolean)(s, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  process.chdir(cwd);
  try {
    await program.parseAsync(['node', 'fleximodal', ...args]);
    return { status: 0, stdout, stderr };
  } catch (e) {
    const d = describeCliError(e, args.includes('--verbose'));
    return { status: d.exitCode, stdout, stderr: stderr + d.text };
  } finally {
    process.chdir(home);
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
}

/** The JSON object lines of captured stdout (prediction lines), without the test runner's output. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  // a line may start after a chunk of the runner's own (binary, newline-free) output
  return stdout
    .split('\n')
    .map((l) => l.slice(Math.max(0, l.indexOf('{"id"'))))
    .filter((l) => l.startsWith('{"id"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

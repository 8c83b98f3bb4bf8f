/**
 * `fleximodal worker --queue redis://HOST:PORT [--concurrency N]`: runs benchmark cells from the
 * queue that `fleximodal benchmark --queue …` fills, and returns each cell's run directory
 * (src/benchmark/queue.ts). Stops on SIGINT / SIGTERM after closing the queue connection.
 */
import type { Command } from 'commander';
import { FlexiModalError } from '../errors.js';
import { startWorker } from '../benchmark/queue.js';

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (!Number.isInteger(x) || x < 1) throw new FlexiModalError(`${name} must be a positive integer, got '${text}'`, { where: name });
  return x;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run benchmark cells from a BullMQ queue (see `benchmark --queue`); the data must be at the same paths as on the coordinator')
    .requiredOption('--queue <url>', 'Redis URL, e.g. redis://127.0.0.1:6379')
    .option('--concurrency <n>', 'cells at the same time (one child process each)', '1')
    .option('--work-dir <dir>', 'temporary run directories (default: the OS temp dir)')
    .option('--lock-ms <n>', 'job lock duration: a worker silent this long is taken for dead and its cell retried elsewhere', '30000')
    .option('--stalled-ms <n>', 'interval of the stalled-job check', '15000')
    .action(async (o: { queue: string; concurrency: string; workDir?: string; lockMs: string; stalledMs: string }) => {
      const w = await startWorker({ url: o.queue, concurrency: positiveInt('--concurrency', o.concurrency), workDir: o.workDir, lockMs: positiveInt('--lock-ms', o.lockMs), stalledMs: positiveInt('--stalled-ms', o.stalledMs) });
      await new Promise<void>((resolveStop) => {
        const stop = () => resolveStop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await w.close();
    });
}

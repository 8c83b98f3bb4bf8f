/**
 * `fleximodal serve --model DIR [--model NAME=DIR ...] [--host 127.0.0.1] [--port 8080]`
 * Serve trained models over HTTP (src/serve/server.ts, docs/SERVE.md). SIGTERM / SIGINT: stop
 * accepting, finish the requests in flight, exit 0 (1 when the deadline forced connections
 * closed). SIGHUP: reload every model directory (a broken one is refused, the old model serves on).
 */
import { pino } from 'pino';
import { uninstallInterruptHandlers } from './interruptHandlers.js';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { FlexiModalError } from '../errors.js';
import { createServer, assertBindAllowed } from '../serve/server.js';
import { readApiKeys } from '../serve/apiKeys.js';
import type { ModelSource } from '../serve/modelRegistry.js';

/** Env variables read for keys (comma- or newline-separated). */
export const API_KEYS_ENV = 'FLEXIMODAL_API_KEYS';
export const ADMIN_KEYS_ENV = 'FLEXIMODAL_ADMIN_KEYS';

/** `--model` values: `DIR` (named after the run directory) or `NAME=DIR`. */
export function modelSources(specs: string[], emptySamples?: 'flag' | 'refuse'): ModelSource[] {
  if (!specs.length) throw new FlexiModalError('no model given', { where: '--model', hint: 'pass --model <run dir> or --model NAME=<run dir>' });
  return specs.map((s) => {
    const eq = s.indexOf('=');
    const dir = eq > 0 ? s.slice(eq + 1) : s;
    const abs = resolve(dir);
    const name = eq > 0 ? s.slice(0, eq) : basename(abs) === 'model' ? basename(dirname(abs)) : basename(abs);
    return { name, dir, ...(emptySamples ? { emptySamples } : {}) };
  });
}

const int = (v: string, flag: string, min = 0): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new FlexiModalError(`${flag} must be an integer ≥ ${min}, got '${v}'`, { where: flag });
  return n;
};

interface ServeCliOptions {
  model: string[];
  host: string;
  port: string;
  apiKeyFile?: string;
  adminKeyFile?: string;
  insecureNoAuth?: boolean;
  corsOrigin: string[];
  rateLimit?: string;
  batching: boolean;
  inferenceThread: boolean;
  maxBatchSize: string;
  maxWaitMs: string;
  maxQueue: string;
  requestTimeoutMs: string;
  inferenceTimeoutMs: string;
  bodyLimit: string;
  maxRecords: string;
  emptySamples?: string;
  shutdownDeadlineMs: string;
  backend: string;
  logLevel: string;
}

export function registerServeCommand(program: Command): void {
  const collect = (v: string, acc: string[]) => [...acc, v];
  program
    .command('serve')
    .description('serve trained models over HTTP (prediction, model info, health, metrics; docs/SERVE.md)')
    .option('-m, --model <dir|name=dir>', 'a run directory (or its model/) to serve, optionally NAME=DIR; repeatable', collect, [])
    .option('--host <host>', 'address to listen on (non-loopback needs API keys or --insecure-no-auth)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--api-key-file <file>', `API keys, one per line (also read: $${API_KEYS_ENV}, comma-separated)`)
    .option('--admin-key-file <file>', `keys that may also reload models (also read: $${ADMIN_KEYS_ENV})`)
    .option('--insecure-no-auth', 'allow a non-loopback --host without API keys')
    .option('--cors-origin <origin>', 'allow this browser origin (repeatable; none: CORS off)', collect, [])
    .option('--rate-limit <n>', 'requests per minute per key (0: off; default 600 with keys, off without)')
    .option('--no-batching', 'run every request alone (no micro-batching)')
    .option('--no-inference-thread', "run the forward passes on the server's thread (default: each model in its own inference thread)")
    .option('--max-batch-size <n>', 'most samples per forward pass', '64')
    .option('--max-wait-ms <n>', 'longest a request waits for others to batch with', '2')
    .option('--max-queue <n>', 'most samples waiting; past it requests get 503 + Retry-After', '1024')
    .option('--request-timeout-ms <n>', 'a request waiting longer for a forward pass gets 503', '10000')
    .option('--inference-timeout-ms <n>', "a model's inference thread that does not answer a batch in this time is restarted (its requests get 503; 0: never)", '60000')
    .option('--body-limit <bytes>', 'largest request body', String(1024 * 1024))
    .option('--max-records <n>', 'most records in one request', '1024')
    .option('--empty-samples <policy>', "records with no modality: flag or refuse (default: the run config's emptySamples)")
    .option('--shutdown-deadline-ms <n>', 'on SIGTERM/SIGINT, longest wait for requests in flight', '10000')
    .option('--backend <name>', 'tensor backend: wasm (default) or cpu', 'wasm')
    .option('--log-level <level>', 'pino log level (fatal, error, warn, info, debug, silent)', 'info')
    .action(async (o: ServeCliOptions) => {
      if (o.emptySamples !== undefined && o.emptySamples !== 'flag' && o.emptySamples !== 'refuse') {
        throw new FlexiModalError(`--empty-samples must be flag or refuse, got '${o.emptySamples}'`, { where: '--empty-samples' });
      }
      const models = modelSources(o.model, o.emptySamples as 'flag' | 'refuse' | undefined);
      const apiKeys = { file: o.apiKeyFile, env: API_KEYS_ENV };
      const adminKeys = { file: o.adminKeyFile, env: ADMIN_KEYS_ENV };
      const keysEnabled = readApiKeys(apiKeys, 'API key').length + readApiKeys(adminKeys, 'admin key').length > 0;
      assertBindAllowed(o.host, keysEnabled, !!o.insecureNoAuth);
      const port = int(o.port, '--port');
      const deadline = int(o.shutdownDeadlineMs, '--shutdown-deadline-ms', 1);
      const app = await createServer({
        models,
        backend: o.backend === 'cpu' ? 'cpu' : 'wasm',
        apiKeys,
        adminKeys,
        insecureNoAuth: !!o.insecureNoAuth,
        corsOrigins: o.corsOrigin,
        ...(o.rateLimit !== undefined ? { rateLimit: { max: int(o.rateLimit, '--rate-limit'), windowMs: 60_000 } } : {}),
        batching: {
          enabled: o.batching,
          maxBatchSize: int(o.maxBatchSize, '--max-batch-size', 1),
          maxWaitMs: int(o.maxWaitMs, '--max-wait-ms'),
          maxQueue: int(o.maxQueue, '--max-queue', 1),
          timeoutMs: int(o.requestTimeoutMs, '--request-timeout-ms', 1),
        },
        inferenceThread: o.inferenceThread,
        inferenceTimeoutMs: int(o.inferenceTimeoutMs, '--inference-timeout-ms'),
        bodyLimit: int(o.bodyLimit, '--body-limit', 1),
        maxRecords: int(o.maxRecords, '--max-records', 1),
        // log lines to stdout, written asynchronously (lines written while a write is in flight go out
        // together; flushed at exit): a synchronous write per line costs the event loop ≈ 20 µs per request
        logger: o.logLevel === 'silent' ? false : { level: o.logLevel, stream: pino.destination({ dest: 1, sync: false }) },
      });
      const address = await app.listen({ host: o.host, port });
      process.stderr.write(`fleximodal serve: listening on ${address} (models: ${models.map((m) => m.name).join(', ')}${keysEnabled ? '' : '; no API keys: loopback only'})\n`);

      let closing = false;
      const shutdown = (signal: string) => {
        if (closing) return;
        closing = true;
        process.stderr.write(`fleximodal serve: ${signal}: finishing requests in flight (deadline ${deadline} ms)\n`);
        const timer = setTimeout(() => {
          process.stderr.write('fleximodal serve: shutdown deadline passed; closing the remaining connections\n');
          app.server.closeAllConnections();
          process.exit(1);
        }, deadline);
        app.close().then(
          () => {
            clearTimeout(timer);
            process.stderr.write('fleximodal serve: stopped\n');
            process.exit(0);
          },
          () => process.exit(1),
        );
      };
      // this command's own shutdown replaces the CLI's interrupt handlers (src/io/interrupt.ts)
      uninstallInterruptHandlers();
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGHUP', () => {
        app.fleximodal!.reload().then(
          (r) => process.stderr.write(`fleximodal serve: SIGHUP: reloaded ${r.reloaded.map((i) => `${i.name} (generation ${i.generation})`).join(', ') || 'nothing'}${r.refused.length ? `; refused ${r.refused.map((f) => `${f.name}: ${f.message}`).join('; ')}` : ''}\n`),
          () => process.stderr.write('fleximodal serve: SIGHUP: reload failed; the previous models keep serving\n'),
        );
      });
    });
}

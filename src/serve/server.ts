/**
 * The HTTP prediction server (Fastify 5): a plugin that mounts into any Fastify app, and
 * `createServer()` that builds a stand-alone app around it with safe defaults.
 *
 * Routes (relative to the plugin's prefix):
 *   POST /v1/models/:name/predict   one record, an array of records, or NDJSON; ?explain=true
 *   GET  /v1/models                 every served model's description
 *   GET  /v1/models/:name           one model's description
 *   POST /v1/admin/reload           reload model directories (admin key)
 *   GET  /healthz  /readyz  /metrics
 * Errors: `{ "error": { "code", "message", "path" } }` (src/serve/httpErrors.ts). docs/SERVE.md.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { ModelRegistry, type ModelSource, type ModelInfo, type LoadFailure } from './modelRegistry.js';
import type { BatchingOptions } from './microBatcher.js';
import { ServerMetrics } from './metrics.js';
import { ApiKeyring, readApiKeys, isLoopbackHost, type ApiKeySources } from './apiKeys.js';
import { ApiError, toErrorResponse } from './httpErrors.js';
import type { BackendName } from '../engine/backend.js';
import { FlexiModalError } from '../errors.js';

export const NDJSON = 'application/x-ndjson';

/** Options of the serving plugin. */
export interface ServeOptions {
  /** Models to serve (name → run directory). */
  models: ModelSource[];
  backend?: BackendName;
  /** Micro-batching (on by default): max batch size, max wait, queue bound, per-request timeout. */
  batching?: BatchingOptions;
  /** API keys (bearer tokens). None given: the server answers only on loopback addresses. */
  apiKeys?: ApiKeySources;
  /** Keys that may also call the admin routes (reload). None given: the admin routes answer 403. */
  adminKeys?: ApiKeySources;
  /** Serve without keys on a non-loopback address (explicitly insecure). */
  insecureNoAuth?: boolean;
  /** CORS origins allowed (none: CORS off). */
  corsOrigins?: string[];
  /** Requests per key (per client address without keys) per window; 0 = off. Default: 600 per minute with keys, off without. */
  rateLimit?: { max: number; windowMs?: number };
  /** Most records in one request (default 1024; more: 413). */
  maxRecords?: number;
  /** Largest request body in bytes (default 1 MiB; more: 413). */
  bodyLimit?: number;
  /**
   * Each model runs its forward passes in its own inference thread (default true), so the event
   * loop keeps serving sockets while a batch computes; false: on the server's thread (docs/SERVE.md).
   */
  inferenceThread?: boolean;
  /**
   * An inference thread that does not answer a batch within this many ms (stuck, not dead) is ended
   * and restarted; the batch's requests get 503 inference_unavailable. Default 60000; 0 = never.
   * Without inference threads a forward pass cannot be interrupted.
   */
  inferenceTimeoutMs?: number;
  /** Receives the server's handle (reload, readiness, metrics) once the models are loaded. */
  onHandle?: (h: ServeHandle) => void;
}

/** What the embedding application can do with a running server. */
export interface ServeHandle {
  registry: ModelRegistry;
  metrics: ServerMetrics;
  keys: ApiKeyring;
  /** Reload model directories (default all): see ModelRegistry.reload. */
  reload(names?: string[]): Promise<{ reloaded: ModelInfo[]; refused: LoadFailure[] }>;
  /** False while closing. */
  readonly ready: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Id of the API key that authenticated the request (`key-<n>`), or null. */
    fleximodalKey: string | null;
    fleximodalAdmin: boolean;
  }
  interface FastifyInstance {
    fleximodal?: ServeHandle;
  }
}

const recordSchema = {
  type: 'object',
  required: ['id', 'modalities'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 512 },
    subject: { type: 'string' },
    label: {},
    modalities: { type: 'object' },
  },
} as const;

const predictSchema = {
  params: { type: 'object', properties: { name: { type: 'string', maxLength: 64 } }, required: ['name'] },
  querystring: { type: 'object', properties: { explain: { type: 'string', enum: ['true', 'false', '1', '0', ''] } }, additionalProperties: false },
  body: { anyOf: [recordSchema, { type: 'array', minItems: 1, items: recordSchema }] },
} as const;

/** Routes that answer without a key (probes). */
const OPEN_ROUTES = new Set(['/healthz', '/readyz']);
/** Whether a request is for a probe route (under any prefix). */
const isOpenRoute = (req: FastifyRequest): boolean => {
  const route = req.routeOptions.url ?? '';
  return OPEN_ROUTES.has(route.slice(route.lastIndexOf('/')));
};

/** Send an error in the contract's shape. */
function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const r = toErrorResponse(err);
  if (r.internal) reply.log.error({ code: (err as { code?: string })?.code ?? (err as Error)?.name ?? 'unknown' }, 'internal error');
  for (const [k, v] of Object.entries(r.headers)) reply.header(k, v);
  if (r.status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(r.status).type('application/json').send(r.body);
}

/**
 * The serving plugin: `app.register(fleximodalServe, { models: [{ name, dir }], prefix: '/ml' })`.
 * Loads and warms up every model before the app is ready (a model that does not load is an error).
 */
export const fleximodalServe: FastifyPluginAsync<ServeOptions> = async (app, opts) => {
  const keys = new ApiKeyring(readApiKeys(opts.apiKeys ?? {}, 'API key'), readApiKeys(opts.adminKeys ?? {}, 'admin key'));
  let registry: ModelRegistry | undefined;
  const metrics = new ServerMetrics(() => registry?.queueDepth() ?? {});
  registry = await ModelRegistry.load(opts.models, {
    backend: opts.backend,
    batching: opts.batching,
    observerFor: (n) => metrics.batchObserver(n),
    inferenceThread: opts.inferenceThread ?? true,
    inferenceTimeoutMs: opts.inferenceTimeoutMs,
    log: (level, fields, message) => app.log[level](fields, message),
  });
  const reg = registry;
  for (const n of reg.names()) metrics.loadSeconds.set({ model: n }, reg.get(n).info.loadSeconds);
  let ready = true;
  const maxRecords = opts.maxRecords ?? 1024;
  const bodyLimit = opts.bodyLimit ?? 1024 * 1024;

  const handle: ServeHandle = {
    registry: reg,
    metrics,
    keys,
    async reload(names) {
      const r = await reg.reload(names);
      for (const i of r.reloaded) {
        metrics.reloads.inc({ model: i.name, result: 'reloaded' });
        metrics.loadSeconds.set({ model: i.name }, i.loadSeconds);
        app.log.info({ model: i.name, generation: i.generation }, 'model reloaded');
      }
      for (const f of r.refused) {
        metrics.reloads.inc({ model: f.name, result: 'refused' });
        app.log.warn({ model: f.name, reason: f.message }, 'reload refused; the previous version keeps serving');
      }
      return r;
    },
    get ready() {
      return ready;
    },
  };
  app.decorate('fleximodal', handle);
  opts.onHandle?.(handle);

  app.addHook('preClose', async () => {
    ready = false;
  });
  app.addHook('onClose', async () => {
    await reg.close(); // every inference thread has exited when this resolves
  });

  // content types: JSON (Fastify's own parser, prototype poisoning refused) and NDJSON; anything else 415
  app.removeContentTypeParser(['text/plain']);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  app.addContentTypeParser(NDJSON, { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    const records: unknown[] = [];
    const lines = String(body).split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/\r$/, '');
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        done(new ApiError(400, 'malformed_ndjson', `line ${i + 1} is not valid JSON (each line must be one complete record object)`, `line ${i + 1}`), undefined);
        return;
      }
    }
    if (!records.length) {
      done(new ApiError(400, 'empty_body', 'the NDJSON body holds no record'), undefined);
      return;
    }
    done(null, records);
  });

  app.decorateRequest('fleximodalKey', null);
  app.decorateRequest('fleximodalAdmin', false);
  app.setErrorHandler((err, _req, reply) => sendError(reply, err));

  // metrics of every request of this plugin
  const started = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (req) => {
    started.set(req, performance.now());
    metrics.inFlight.inc();
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.inFlight.dec();
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    const t0 = started.get(req);
    if (t0 !== undefined) metrics.latency.observe({ route }, (performance.now() - t0) / 1000);
  });

  // authentication: bearer keys; without keys, only loopback addresses are served
  app.addHook('onRequest', async (req) => {
    if (isOpenRoute(req)) return;
    if (!keys.enabled) {
      const local = req.socket?.localAddress;
      if (!opts.insecureNoAuth && local && !isLoopbackHost(local)) {
        throw new ApiError(403, 'auth_required', 'this server has no API keys and answers only on loopback addresses; configure keys to serve other hosts');
      }
      return;
    }
    const who = keys.verify(req.headers.authorization);
    if (!who) throw new ApiError(401, 'unauthorized', 'missing or invalid API key: send Authorization: Bearer <key>', 'header.authorization');
    req.fleximodalKey = who.id;
    req.fleximodalAdmin = who.admin;
  });

  const limit = opts.rateLimit ?? (keys.enabled ? { max: 600, windowMs: 60_000 } : { max: 0 });
  if (limit.max > 0) {
    await app.register(rateLimit, {
      max: limit.max,
      timeWindow: limit.windowMs ?? 60_000,
      hook: 'preParsing',
      keyGenerator: (req) => req.fleximodalKey ?? req.ip,
      allowList: (req) => isOpenRoute(req),
      errorResponseBuilder: (_req, ctx) => new ApiError(429, 'rate_limited', `rate limit of ${ctx.max} requests per ${ctx.after} reached for this key; retry after the Retry-After seconds`, null, undefined, { 'retry-after': String(Math.ceil(ctx.ttl / 1000)) }),
    });
  }
  if (opts.corsOrigins?.length) await app.register(cors, { origin: opts.corsOrigins, methods: ['GET', 'POST'], allowedHeaders: ['authorization', 'content-type'] });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!ready) return sendError(reply, new ApiError(503, 'not_ready', 'the server is shutting down', null, undefined, { 'retry-after': '1' }));
    const down = reg.names().filter((n) => !reg.get(n).available);
    if (down.length) return sendError(reply, new ApiError(503, 'not_ready', `the inference thread of ${down.map((n) => `'${n}'`).join(', ')} is restarting`, null, down, { 'retry-after': '5' }));
    return { status: 'ready', models: reg.names().map((n) => ({ name: n, generation: reg.get(n).info.generation })) };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/v1/models', async () => ({ models: reg.names().map((n) => reg.get(n).info) }));
  app.get<{ Params: { name: string } }>('/v1/models/:name', { schema: { params: predictSchema.params } }, async (req) => reg.get(req.params.name).info);

  app.post<{ Params: { name: string }; Querystring: { explain?: string }; Body: unknown }>('/v1/models/:name/predict', { schema: predictSchema, bodyLimit }, async (req, reply) => {
    const explain = req.query.explain === 'true' || req.query.explain === '1';
    const ndjson = (req.headers['content-type'] ?? '').toLowerCase().startsWith(NDJSON);
    const single = !Array.isArray(req.body);
    const records = single ? [req.body] : (req.body as unknown[]);
    if (records.length > maxRecords) throw new ApiError(413, 'too_many_records', `${records.length} records in one request; at most ${maxRecords}`);
    return reg.use(req.params.name, async (v) => {
      if (explain && !v.info.explain) throw new ApiError(400, 'explain_unsupported', `model type '${v.info.type}' has no explanations (as with \`predict --explain\`); drop ?explain=true`, 'query.explain');
      // names check, record validation, empty-sample policy here; the forward pass in the model's inference thread (src/serve/answerRequests.ts)
      const predictions = await v.predict(records, single && !ndjson, explain);
      if (ndjson) return reply.type(NDJSON).send(predictions.map((p) => JSON.stringify(p)).join('\n') + '\n');
      return { model: req.params.name, generation: v.info.generation, predictions };
    });
  });

  app.post<{ Body: { models?: string[] } | undefined }>(
    '/v1/admin/reload',
    { schema: { body: { anyOf: [{ type: 'null' }, { type: 'object', properties: { models: { type: 'array', items: { type: 'string' }, maxItems: 100 } }, additionalProperties: false }] } } },
    async (req, reply) => {
      if (!keys.adminEnabled) throw new ApiError(403, 'admin_disabled', 'no admin key is configured: start the server with --admin-key-file or FLEXIMODAL_ADMIN_KEYS');
      if (!req.fleximodalAdmin) throw new ApiError(403, 'forbidden', 'this key may not reload models (use an admin key)', 'header.authorization');
      const names = req.body?.models;
      for (const n of names ?? []) reg.get(n);
      const r = await handle.reload(names);
      if (r.refused.length) {
        return reply
          .code(409)
          .send({ error: { code: 'reload_refused', message: r.refused.map((f) => `${f.name}: ${f.message}`).join('; ') + ' — the previous version keeps serving', path: null, names: r.refused.map((f) => f.name) }, reloaded: r.reloaded.map((i) => ({ name: i.name, generation: i.generation })) });
      }
      return { reloaded: r.reloaded.map((i) => ({ name: i.name, generation: i.generation })) };
    },
  );
};

/** Options of `createServer`: the plugin's, plus the stand-alone app's logger and timeouts. */
export interface CreateServerOptions extends ServeOptions {
  /** pino logger options (Fastify's logger); false = no log. One line per request ('request completed': method, path, status, milliseconds), nothing of the body. */
  logger?: false | { level?: string; stream?: NodeJS.WritableStream | DestinationStream };
  /** Idle keep-alive connections are closed after this many ms (default 5000). */
  keepAliveTimeoutMs?: number;
  /** The request headers must arrive within this many ms (default 10000). */
  headersTimeoutMs?: number;
  /** The whole request must arrive within this many ms (default 30000). */
  requestTimeoutMs?: number;
}

/**
 * Fastify's request log lines, one per request instead of two: no 'incoming request' line, and the
 * 'request completed' line carries the request (method and path, by the serializer below). At the
 * serving rates of docs/SERVE.md a log line costs about as much as a small model's prediction.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/** pino options that keep keys, record values, paths and stack traces out of the log. */
export function safeLoggerOptions(o: { level?: string; stream?: NodeJS.WritableStream | DestinationStream }): FastifyServerOptions['logger'] {
  return {
    level: o.level ?? 'info',
    ...(o.stream ? { stream: o.stream } : {}),
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, path: String(req.url ?? '').split('?')[0]!.slice(0, 200) }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: (e: { name?: string; code?: string; statusCode?: number }) => ({ type: e?.name, code: e?.code, statusCode: e?.statusCode }),
    },
  } as unknown as FastifyServerOptions['logger'];
}

/**
 * A stand-alone Fastify app serving `opts.models` (loaded and warmed up when this resolves), not
 * yet listening: `const app = await createServer({ models: [{ name: 'fusemoe', dir: 'runs/demo/fusemoe' }] });
 * await app.listen({ host: '127.0.0.1', port: 8080 })`. More routes may be added before listen.
 */
export async function createServer(opts: CreateServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger === undefined || opts.logger === false ? false : safeLoggerOptions(opts.logger),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5_000,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    connectionTimeout: 0,
    return503OnClosing: true,
    logController: new OneLinePerRequest(),
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    // errors raised before routing (a URL that does not decode, a bad Content-Type header) in the same shape
    frameworkErrors: (err, _req, reply) => {
      sendError(reply, err);
    },
  });
  app.server.headersTimeout = opts.headersTimeoutMs ?? 10_000;
  app.setNotFoundHandler((_req, reply) => sendError(reply, new ApiError(404, 'not_found', 'no such route; see docs/SERVE.md')));
  app.setErrorHandler((err, _req, reply) => sendError(reply, err));
  let handle: ServeHandle | undefined;
  await app.register(fleximodalServe, { ...opts, onHandle: (h) => ((handle = h), opts.onHandle?.(h)) });
  app.decorate('fleximodal', handle);
  return app;
}

/** Refuse to bind a non-loopback host without API keys unless explicitly insecure. */
export function assertBindAllowed(host: string, keysEnabled: boolean, insecureNoAuth: boolean): void {
  if (keysEnabled || insecureNoAuth || isLoopbackHost(host)) return;
  throw new FlexiModalError(`refusing to listen on ${host} without API keys (anyone who can reach it could use the models)`, {
    where: '--host',
    hint: 'configure keys (--api-key-file or FLEXIMODAL_API_KEYS), bind 127.0.0.1, or pass --insecure-no-auth if the network is yours to trust',
  });
}

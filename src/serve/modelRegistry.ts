/**
 * The models a server serves, by name, and their reload without a restart.
 *
 * Each loaded model is a `ModelVersion`: its input check (src/serve/answerRequests.ts, on the
 * event loop), its inference thread (src/serve/inferenceThread.ts: the weights and the forward
 * passes off the server's event loop; or, with threads off, the Predictor on this thread), its own
 * micro-batcher and a count of the requests using it. A request takes the current version when it
 * starts and keeps it to the end,
 * so a reload swaps the version new requests get while requests in flight finish on the old one
 * (which is freed — its thread ended — once the last of them is done; the new version's thread has
 * loaded and warmed up before the swap). A directory that does not load (refused or
 * incomplete run directory — the rules of `evaluate` —, broken files, weights that do not fit) is
 * refused and the old version keeps serving.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Predictor, type Prediction } from './predictor.js';
import { MicroBatcher, type BatchingOptions, type BatchObserver } from './microBatcher.js';
import { modelDirOf, type ModelMeta } from '../models/persist.js';
import type { BackendName } from '../engine/backend.js';
import { ApiError } from './httpErrors.js';
import { answerError, answerRequests, RequestValidator, warmUp, type InferenceRequest, type RequestAnswer } from './answerRequests.js';
import { InferenceThread, type ThreadLog, type ThreadModelMeta } from './inferenceThread.js';
import { loadFailureMessage } from './loadFailure.js';
import { packageVersion } from '../run/versions.js';
import { FlexiModalError } from '../errors.js';

/** One model to serve. */
export interface ModelSource {
  /** Name in the URL (`/v1/models/<name>/predict`). */
  name: string;
  /** A run directory or its model/ directory written by `fleximodal train`. */
  dir: string;
  /** Records with no modality: 'flag' (prior risk, marked "noModality": true) or 'refuse' (422). Default: the run config's `emptySamples`, else 'flag'. */
  emptySamples?: 'flag' | 'refuse';
}

/** What `GET /v1/models/:name` says about a model (no file path). */
export interface ModelInfo {
  name: string;
  type: string;
  task: ModelMeta['spec']['task'];
  /** Multiclass classes or multilabel labels; binary: the task name. */
  classes: string[];
  horizonHours: number;
  modalities: {
    name: string;
    kind: string;
    /** Time-series variables / static features, with the plausible range the model's training data were read with, where one is set (units are not recorded in model.json). */
    variables?: { name: string; range?: [number | null, number | null] }[];
    dim?: number;
  }[];
  /** Mean over seeds of each test-split metric of the run (null when the run directory has no metrics.json). */
  testMetrics: Record<string, number | null> | null;
  /** sha256 of the run config (config.json) or, without one, of the model config. */
  configHash: string;
  /** fleximodal version that trained the model / that serves it. */
  fleximodal: { trained: string; serving: string };
  emptySamples: 'flag' | 'refuse';
  /** Whether `?explain=true` gives explanations (as `predict --explain`). */
  explain: boolean;
  loadedAt: string;
  loadSeconds: number;
  /** 1 at start, +1 per successful reload. */
  generation: number;
}

/** The run directory of a model directory (itself, `..` for run/model, `../../..` for run/seeds/<s>/model), or null. */
function runDirOf(dir: string): string | null {
  const modelDir = modelDirOf(dir);
  for (const d of [dir, dirname(modelDir), dirname(dirname(dirname(modelDir)))]) if (existsSync(join(d, 'metrics.json'))) return d;
  return null;
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function modelInfo(src: ModelSource, meta: ThreadModelMeta, emptySamples: 'flag' | 'refuse', explain: boolean, loadSeconds: number, generation: number): ModelInfo {
  const { spec, model, ranges } = meta;
  const runDir = runDirOf(src.dir);
  const metrics = runDir ? readJson(join(runDir, 'metrics.json')) : null;
  const test = metrics?.['test'] as Record<string, { mean?: number | null }> | undefined;
  const runConfig = runDir ? readJson(join(runDir, 'config.json')) : null;
  const t = spec.task;
  const named = (names: string[]) => names.map((n) => (ranges?.[n] ? { name: n, range: ranges[n] } : { name: n }));
  return {
    name: src.name,
    type: model.type,
    task: t,
    classes: t.kind === 'multiclass' ? t.classes : t.kind === 'multilabel' ? t.labels : [t.name],
    horizonHours: spec.horizonHours,
    modalities: spec.modalities.map((m) =>
      m.kind === 'timeseries' ? { name: m.name, kind: m.kind, variables: named(m.variables) } : m.kind === 'static' ? { name: m.name, kind: m.kind, variables: named(m.features) } : { name: m.name, kind: m.kind, dim: m.dim },
    ),
    testMetrics: test ? Object.fromEntries(Object.entries(test).map(([k, v]) => [k, typeof v?.mean === 'number' ? v.mean : null])) : null,
    configHash: createHash('sha256')
      .update(JSON.stringify(runConfig ?? model))
      .digest('hex'),
    fleximodal: { trained: meta.fleximodal, serving: packageVersion() },
    emptySamples,
    explain,
    loadedAt: new Date().toISOString(),
    loadSeconds,
    generation,
  };
}

/** Where a model version runs its forward passes: its inference thread, or (threads off) this thread. */
interface InferenceEngine {
  answer(requests: InferenceRequest[], explain: boolean): Promise<RequestAnswer[]>;
  /** False while the inference thread is down (restarting). */
  readonly available: boolean;
  close(): Promise<void>;
}

/** A loaded model and the requests using it. */
export class ModelVersion {
  private inFlight = 0;
  private retired = false;
  private freed: Promise<void> | null = null;
  private freedResolve!: () => void;
  private readonly whenFreed = new Promise<void>((r) => (this.freedResolve = r));
  readonly batcher: MicroBatcher<InferenceRequest, Prediction[]>;

  constructor(
    private readonly engine: InferenceEngine,
    readonly info: ModelInfo,
    batching: BatchingOptions,
    observer: BatchObserver,
    /** The input check of this version (the model's spec, ranges and empty-sample policy). */
    private readonly validator: RequestValidator,
    /** The inference thread (null when the model runs on the server's thread). */
    readonly thread: InferenceThread | null = null,
  ) {
    this.batcher = new MicroBatcher<InferenceRequest, Prediction[]>(
      async (requests, explain) => (await engine.answer(requests, explain)).map((a) => ('error' in a ? { ok: false, error: answerError(a.error) } : { ok: true, value: a.predictions })),
      batching,
      observer,
    );
  }

  /** Whether this version can answer now (false while its inference thread restarts). */
  get available(): boolean {
    return this.engine.available;
  }

  /**
   * Validate one request's records here (throws its 422 ApiError: names, record, no modality),
   * then predict them in a batch with other requests; rejects with 503 (queue full, timeout,
   * thread down). `single`: the body was one record object (error paths have no `[i]`). The
   * caller holds the version: see `ModelRegistry.use`.
   */
  predict(records: unknown[], single: boolean, explain: boolean): Promise<Prediction[]> {
    const samples = this.validator.samples(records, single);
    return this.batcher.submit({ samples }, samples.length, explain);
  }

  acquire(): void {
    this.inFlight++;
  }

  release(): void {
    this.inFlight--;
    if (this.retired && this.inFlight === 0) void this.free();
  }

  /** No new requests: free the model (and end its inference thread) once the requests in flight are done; resolves then. */
  retire(): Promise<void> {
    this.retired = true;
    if (this.inFlight === 0) void this.free();
    return this.whenFreed;
  }

  private free(): Promise<void> {
    this.freed ??= (async () => {
      await this.batcher.drain();
      await this.engine.close();
    })().finally(() => this.freedResolve());
    return this.freed;
  }
}

/** Settings the registry loads models with. */
export interface RegistryOptions {
  backend?: BackendName;
  batching?: BatchingOptions;
  /** Observer of each model's batches (metrics), by model name. */
  observerFor?: (name: string) => BatchObserver;
  /** Each model in its own inference thread (default true); false: the forward passes on this thread too (validation is always on this thread). */
  inferenceThread?: boolean;
  /** Log sink of the inference threads' life events (died, restarted). */
  log?: ThreadLog;
  /** An inference thread that does not answer a batch within this many ms is ended and restarted (default 60000; 0 = never). */
  inferenceTimeoutMs?: number;
}

/** A load or reload that failed: the message (no file path), for the log and the admin route. */
export interface LoadFailure {
  name: string;
  message: string;
}

export { loadFailureMessage } from './loadFailure.js';

export class ModelRegistry {
  private readonly current = new Map<string, ModelVersion>();
  private readonly sources = new Map<string, ModelSource>();

  private constructor(private readonly opts: RegistryOptions) {}

  /** Load and warm up every model (throws the first load error: a server does not start half-loaded). */
  static async load(sources: ModelSource[], opts: RegistryOptions = {}): Promise<ModelRegistry> {
    if (!sources.length) throw new FlexiModalError('no model to serve', { hint: 'pass --model <run dir> (or models: [...] to createServer)' });
    const r = new ModelRegistry(opts);
    for (const s of sources) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s.name)) {
        throw new FlexiModalError(`model name '${s.name}' is not URL-safe`, { where: `--model ${s.name}=…`, hint: 'use letters, digits, ".", "_" and "-" (at most 64)' });
      }
      if (r.sources.has(s.name)) throw new FlexiModalError(`model name '${s.name}' is given twice`, { where: '--model', hint: 'give each model its own NAME=DIR' });
      r.sources.set(s.name, s);
    }
    try {
      for (const s of sources) r.current.set(s.name, await r.loadVersion(s, 1));
    } catch (e) {
      await r.close();
      throw e;
    }
    return r;
  }

  /** Load (in the model's inference thread, unless threads are off) and warm up one version of `src`. */
  private async loadVersion(src: ModelSource, generation: number): Promise<ModelVersion> {
    const t0 = performance.now();
    const runDir = runDirOf(src.dir);
    const cfgPolicy = runDir ? readJson(join(runDir, 'config.json'))?.['emptySamples'] : undefined;
    const policy = src.emptySamples ?? (cfgPolicy === 'refuse' ? 'refuse' : 'flag');
    const ctx = { name: src.name, emptySamples: policy };
    const observer = this.opts.observerFor?.(src.name) ?? {};
    if (this.opts.inferenceThread ?? true) {
      const thread = await InferenceThread.start({ name: src.name, dir: src.dir, backend: this.opts.backend, log: this.opts.log, batchTimeoutMs: this.opts.inferenceTimeoutMs });
      const info = modelInfo(src, thread.ready.meta, policy, thread.ready.explain, (performance.now() - t0) / 1000, generation);
      const engine = { answer: (r: InferenceRequest[], explain: boolean) => thread.answer(r, explain), close: () => thread.close(), get available() { return thread.available; } };
      return new ModelVersion(engine, info, this.opts.batching ?? {}, observer, new RequestValidator(thread.ready.meta.spec, thread.ready.meta.ranges, ctx), thread);
    }
    const p = await Predictor.load(src.dir, { backend: this.opts.backend });
    try {
      const explains = warmUp(p);
      const info = modelInfo(src, p.meta, policy, explains, (performance.now() - t0) / 1000, generation);
      const engine = { answer: async (r: InferenceRequest[], explain: boolean): Promise<RequestAnswer[]> => answerRequests(p.model, p.meta, r, explain), close: async () => p.dispose(), available: true };
      return new ModelVersion(engine, info, this.opts.batching ?? {}, observer, new RequestValidator(p.meta.spec, p.meta.ranges, ctx));
    } catch (e) {
      p.dispose();
      throw e;
    }
  }

  /** Names of the served models, in the order given. */
  names(): string[] {
    return [...this.sources.keys()];
  }

  /** The current version of `name` (404 when there is none). */
  get(name: string): ModelVersion {
    const v = this.current.get(name);
    if (!v) throw new ApiError(404, 'model_not_found', `no model named '${name.slice(0, 64)}' is served; GET /v1/models lists them`, 'name');
    return v;
  }

  /** Run `fn` on the current version of `name`, which stays alive until `fn` settles (a reload meanwhile does not free it). */
  async use<T>(name: string, fn: (v: ModelVersion) => Promise<T> | T): Promise<T> {
    const v = this.get(name);
    v.acquire();
    try {
      return await fn(v);
    } finally {
      v.release();
    }
  }

  /** Samples waiting in every model's batcher. */
  queueDepth(): Record<string, number> {
    return Object.fromEntries([...this.current].map(([n, v]) => [n, v.batcher.depth]));
  }

  /**
   * Load the directories of `names` (default all) again and swap them in; each one that fails is
   * refused and its old version keeps serving.
   */
  async reload(names: string[] = this.names()): Promise<{ reloaded: ModelInfo[]; refused: LoadFailure[] }> {
    const reloaded: ModelInfo[] = [];
    const refused: LoadFailure[] = [];
    for (const name of names) {
      const src = this.sources.get(name);
      const old = this.current.get(name);
      if (!src || !old) {
        refused.push({ name, message: 'no such model' });
        continue;
      }
      let next: ModelVersion;
      try {
        next = await this.loadVersion(src, old.info.generation + 1);
      } catch (e) {
        refused.push({ name, message: loadFailureMessage(e) });
        continue;
      }
      this.current.set(name, next);
      void old.retire();
      reloaded.push(next.info);
    }
    return { reloaded, refused };
  }

  /** Run what is queued and free every model (requests still holding a version free it when done); resolves once every version is freed and its inference thread has exited. */
  close(): Promise<void> {
    const freed = [...this.current.values()].map((v) => v.retire());
    this.current.clear();
    return Promise.all(freed).then(() => {});
  }
}

/**
 * WASM threads under Node.
 *
 * tfjs-backend-wasm disables threads under Node (its worker is a Blob URL, which
 * `worker_threads` cannot start). The threaded-SIMD binary itself runs fine under
 * `worker_threads` when we build the Emscripten module ourselves:
 *  - the pthread worker script (shipped as a string in wasm-out/…worker.js) is written to a
 *    `.cjs` file in the OS temp dir and handed to Emscripten through `locateFile`;
 *  - `mainScriptUrlOrBlob` is the path of the threaded factory script, which the workers load
 *    with their `importScripts` shim (fs.readFileSync + indirect eval);
 *  - Emscripten pre-spawns its pool of 8 workers and `unref()`s them, so the process still exits;
 *  - the XNNPACK thread count is set explicitly (`setThreadsCount`) before the backend is made.
 * The result is registered as the 'wasm' backend (same kernels, same results bit for bit).
 */
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import type * as WasmBackendModule from '@tensorflow/tfjs-backend-wasm';
import { tf } from './tf.js';
import { guardWasmFactory } from './hostProcess.js';

const require = createRequire(import.meta.url);
// CommonJS load (see src/engine/tf.ts).
const wasmBackend = require('@tensorflow/tfjs-backend-wasm') as typeof WasmBackendModule;

interface NodeWorkerLike {
  ref(): unknown;
  unref(): unknown;
}

interface ThreadedModule {
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: unknown[]) => unknown;
  tfjs?: Record<string, unknown>;
  PThread?: { terminateAllThreads(): void; unusedWorkers: NodeWorkerLike[]; runningWorkers: NodeWorkerLike[] };
}

/**
 * Emscripten `ref()`s a worker while it runs a pthread; XNNPACK's pool threads run for the
 * life of the process, so a threaded process would never exit on its own. Keep every pool
 * worker unref'd (they only ever work while the main thread waits for them).
 */
function keepWorkersUnrefd(module: ThreadedModule): void {
  const pt = module.PThread;
  if (!pt) return;
  for (const w of [...pt.unusedWorkers, ...pt.runningWorkers]) {
    w.ref = () => w;
    w.unref();
  }
}

/** Files of the threaded-SIMD build inside node_modules. */
function threadedFiles(): { js: string; wasm: string; workerSource: string } {
  const pkgDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const js = join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const wasm = join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.wasm');
  const workerMod = require(join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // The shipped string has raw newlines inside JS string literals (tfjs escapes them too).
  return { js, wasm, workerSource: workerMod.wasmWorkerContents.replace(/\n/g, "\\n") };
}

/** Writes the pthread worker script once (content-addressed file name) and returns its path. */
function workerScriptPath(source: string): string {
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'fleximodal-wasm');
  const file = join(dir, `tfjs-wasm-worker-${hash}.cjs`);
  if (!existsSync(file) || readFileSync(file, 'utf8') !== source) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, source);
    // Atomic publish so concurrent processes never see a half-written script.
    require('node:fs').renameSync(tmp, file);
  }
  return file;
}

/**
 * Instantiates the threaded-SIMD Emscripten module allowing `threads` XNNPACK threads.
 *
 * The C++ side caps the pool at `emscripten_num_logical_cores() / 2` (it assumes
 * hyper-threading), read once from `os.cpus().length` while the module's static constructors
 * run; on a 2-core machine that caps it at 1. We report 2·threads logical cores for exactly that
 * window and restore `os.cpus` right after.
 */
async function instantiateThreaded(threads: number): Promise<ThreadedModule> {
  if (process.env['FLEXIMODAL_WASM_THREADS_FAIL'] === '1') {
    throw new Error('threaded wasm disabled by FLEXIMODAL_WASM_THREADS_FAIL=1 (testing the fallback)');
  }
  const { js, wasm, workerSource } = threadedFiles();
  // A worker script that does not compile would crash the process from inside the worker
  // (uncaught), so check it here, where a failure can still fall back to 1 thread.
  new Script(workerSource, { filename: 'tfjs-wasm-worker.cjs' });
  const workerPath = workerScriptPath(workerSource);
  const factory = require(js) as (cfg: Record<string, unknown>) => Promise<ThreadedModule>;
  const os = require('node:os') as { cpus: () => unknown[] };
  const realCpus = os.cpus;
  os.cpus = () => {
    const real = realCpus.call(os);
    const want = 2 * threads;
    return Array.from({ length: want }, (_, i) => real[i % Math.max(1, real.length)]);
  };
  let module: ThreadedModule;
  let timer: NodeJS.Timeout | undefined;
  try {
    const ready = factory({
      locateFile: (path: string, prefix: string) => {
        if (path.endsWith('.worker.js')) return workerPath;
        if (path.endsWith('.wasm')) return wasm;
        return prefix + path;
      },
      mainScriptUrlOrBlob: js,
    });
    // Workers that never report 'loaded' would leave the promise pending forever.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('threaded wasm did not start within 20 s')), 20_000);
      timer.unref();
    });
    module = await Promise.race([ready, timeout]);
  } finally {
    os.cpus = realCpus;
    if (timer) clearTimeout(timer);
  }
  keepWorkersUnrefd(module);
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/** Threads the current wasm backend runs with (1 when single-threaded). */
export function wasmThreadsInUse(): number {
  return wasmBackend.getThreadsCount();
}

type FactoryEntry = { factory: () => unknown; priority: number };

let stockFactory: FactoryEntry | undefined;

function factoryRegistry(): Record<string, FactoryEntry | undefined> {
  return (tf.engine() as unknown as { registryFactory: Record<string, FactoryEntry | undefined> }).registryFactory;
}

/** Has the wasm backend already been initialised in this process? */
export function wasmBackendExists(): boolean {
  return (tf.engine() as unknown as { registry: Record<string, unknown> }).registry['wasm'] !== undefined;
}

/**
 * Registers a threaded 'wasm' backend factory (must run before the wasm backend is first
 * initialised). Returns false, changing nothing, if the wasm backend already exists.
 */
export function registerThreadedWasmFactory(threads: number): boolean {
  if (wasmBackendExists()) return false;
  stockFactory ??= factoryRegistry()['wasm'];
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    guardWasmFactory(async () => {
      const module = await instantiateThreaded(threads);
      wasmBackend.setThreadsCount(threads);
      const backend = new wasmBackend.BackendWasm(module as never);
      keepWorkersUnrefd(module);
      return backend;
    }),
    2,
  );
  return true;
}

/** Puts the stock (single-threaded) wasm backend factory back, e.g. after a threaded failure. */
export function registerStockWasmFactory(): void {
  if (stockFactory === undefined) return;
  tf.removeBackend('wasm');
  wasmBackend.setThreadsCount(1);
  tf.registerBackend('wasm', stockFactory.factory as never, stockFactory.priority);
}

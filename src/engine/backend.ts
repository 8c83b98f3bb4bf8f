/**
 * Backend selection: WASM by default, the pure-JS CPU backend as fallback; on wasm the engine's
 * fast kernels (src/engine/fastKernels.ts) and, optionally, wasm threads under Node
 * (src/engine/threads.ts).
 */
import { createRequire } from 'node:module';
import { tf } from './tf.js';

// CommonJS load (see src/engine/tf.ts): registers the 'wasm' backend factory; nothing starts yet.
createRequire(import.meta.url)('@tensorflow/tfjs-backend-wasm');
import { registerCpuBatchMatMul } from './kernels/cpuBatchMatMul.js';
import { registerBatchMatMulGrad } from './kernels/batchMatMulGrad.js';
import { registerFastKernels, registerMissingKernelsOnly, unregisterFastKernels, useNativeMatMul } from './fastKernels.js';
import { blasStatus, openBlas, type BlasSetting, type BlasStatus } from './blas.js';
import { resolveThreads, type ThreadsSetting } from './autoThreads.js';
import { registerStockWasmFactory, registerThreadedWasmFactory, wasmBackendExists, wasmThreadsInUse } from './threads.js';
import { guardWasmFactory } from './hostProcess.js';

// The stock 'wasm' factory, registered by the import above, wrapped so that instantiating the
// wasm module installs no process handler (src/engine/hostProcess.ts) — also when the backend is
// started implicitly by a tf call before initEngine().
{
  const registry = (tf.engine() as unknown as { registryFactory: Record<string, { factory: () => unknown; priority: number } | undefined> }).registryFactory;
  const stock = registry['wasm'];
  if (stock && !(tf.engine() as unknown as { registry: Record<string, unknown> }).registry['wasm']) {
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', guardWasmFactory(stock.factory) as never, stock.priority);
  }
}

export type BackendName = 'wasm' | 'cpu';

export interface EngineOptions {
  /** Which tfjs backend to use. Default 'wasm'. */
  backend?: BackendName;
  /**
   * Number of wasm threads (1 = no workers), or 'auto' (src/engine/autoThreads.ts: what won when
   * measured). Default 1. Fixed by the first wasm initialisation of the process; if threads
   * cannot start, the engine warns and runs with 1. With the native BLAS active, it is also the
   * BLAS thread count ('auto': the cores free of other jobs).
   */
  threads?: ThreadsSetting;
  /**
   * Native BLAS for BatchMatMul (wasm backend with fast kernels only): 'auto' (default: use a
   * system OpenBLAS/BLIS/MKL when the addon is built and a library is found, else wasm), 'off',
   * or a library path. Never fails: `engineSummary()` says which path is active and why.
   */
  blas?: BlasSetting;
  /**
   * Register the engine's fast wasm kernels. Default true. `false` restores stock tfjs-wasm;
   * 'missing-only' keeps stock kernels but adds the ones wasm lacks (UnsortedSegmentSum,
   * Conv2DBackpropFilter) — the benchmark's "stock" baseline.
   */
  fastKernels?: boolean | 'missing-only';
}

/** Initialise the tensor engine (idempotent; may be called again to switch); returns the backend name. */
export async function initEngine(opts: EngineOptions = {}): Promise<BackendName> {
  const backend = opts.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new Error(`engine: unknown backend '${String(backend)}'. Use 'wasm' or 'cpu'.`);
  }
  const fk = opts.fastKernels ?? true;
  // The BLAS opens first: 'auto' threads depend on whether it is active.
  const blasWanted = backend === 'wasm' && fk === true ? (opts.blas ?? 'auto') : 'off';
  const plan = resolveThreads(opts.threads ?? 1, () => openBlas(blasWanted, 1).active);
  const threads = plan.wasm;
  openBlas(blasWanted, plan.blas);
  // Backend-independent: a BatchMatMul gradient that handles broadcast batch dims; the cpu
  // kernel's general batch broadcasting (stock tfjs returns a wrong result there).
  registerBatchMatMulGrad();
  registerCpuBatchMatMul();
  if (backend === 'wasm') {
    if (threads > 1 && !wasmBackendExists()) registerThreadedWasmFactory(threads);
    let ok = false;
    let why = '';
    try {
      ok = await tf.setBackend('wasm');
    } catch (e) {
      ok = false;
      why = ` (${(e as Error).message})`;
    }
    if (!ok && threads > 1) {
      console.warn(`engine: wasm with ${threads} threads failed to start${why}; falling back to 1 thread.`);
      registerStockWasmFactory();
      ok = await tf.setBackend('wasm');
    }
    if (!ok) throw new Error(`engine: could not initialise backend 'wasm'. Try --backend cpu.`);
    if (threads !== wasmThreadsInUse() && threads > 1 && opts.threads !== 'auto') {
      console.warn(
        `engine: wasm runs with ${wasmThreadsInUse()} thread(s); the thread count is fixed when wasm ` +
          `first starts in a process (asked for ${threads}).`,
      );
    }
    useNativeMatMul(blasStatus().active);
    if (fk === true) registerFastKernels();
    else if (fk === 'missing-only') registerMissingKernelsOnly();
    else unregisterFastKernels();
  } else if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`engine: could not initialise backend '${backend}'.`);
  }
  await tf.ready();
  return backend;
}

/**
 * One line for the run log: backend, threads, and which matmul path is active (with how to
 * enable the native BLAS when it is not).
 */
export function engineSummary(): string {
  const backend = tf.getBackend();
  if (backend !== 'wasm') return `engine: ${backend}`;
  const t = engineThreads();
  return `engine: wasm, ${t} thread${t === 1 ? '' : 's'}; ${blasStatus().line.replace(/^engine: /, '')}`;
}

/** The native BLAS status (see src/engine/blas.ts). */
export function engineBlas(): BlasStatus {
  return blasStatus();
}

/** Threads the wasm backend runs with (1 if single-threaded or not started). */
export function engineThreads(): number {
  return wasmBackendExists() ? wasmThreadsInUse() : 1;
}

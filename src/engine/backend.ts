/**
 * Backend selection: WASM by default, the pure-JS CPU backend as fallback; on wasm the engine's
 * fast kernels (src/engine/fastKernels.ts) and, optionally, wasm threads under Node
 * (src/engine/threads.ts).
 */
import { tf } from './tf.js';
import '@tensorflow/tfjs-backend-wasm';
import { registerBatchMatMulGrad } from './kernels/batchMatMulGrad.js';
import { registerFastKernels, registerMissingKernelsOnly, unregisterFastKernels } from './fastKernels.js';
import { registerStockWasmFactory, registerThreadedWasmFactory, wasmBackendExists, wasmThreadsInUse } from './threads.js';

export type BackendName = 'wasm' | 'cpu';

export interface EngineOptions {
  /** Which tfjs backend to use. Default 'wasm'. */
  backend?: BackendName;
  /**
   * Number of wasm threads (1 = no workers). Default 1. Fixed by the first wasm initialisation
   * of the process; if threads cannot start, the engine warns and runs with 1.
   */
  threads?: number;
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
  const threads = Math.max(1, Math.floor(opts.threads ?? 1));
  // Backend-independent: a BatchMatMul gradient that handles broadcast batch dims.
  registerBatchMatMulGrad();
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
    if (threads !== wasmThreadsInUse() && threads > 1) {
      console.warn(
        `engine: wasm runs with ${wasmThreadsInUse()} thread(s); the thread count is fixed when wasm ` +
          `first starts in a process (asked for ${threads}).`,
      );
    }
    const fk = opts.fastKernels ?? true;
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

/** Threads the wasm backend runs with (1 if single-threaded or not started). */
export function engineThreads(): number {
  return wasmBackendExists() ? wasmThreadsInUse() : 1;
}

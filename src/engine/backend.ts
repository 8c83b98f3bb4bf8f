/**
 * Backend selection: WASM by default, the pure-JS CPU backend as fallback.
 * (The engine module extends this with fast kernels and wasm threads.)
 */
import { tf } from './tf.js';
import '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'wasm' | 'cpu';

export interface EngineOptions {
  /** Which tfjs backend to use. Default 'wasm'. */
  backend?: BackendName;
  /** Number of wasm threads (1 = no workers). Default 1. */
  threads?: number;
}

/** Initialise the tensor engine once per process; returns the active backend name. */
export async function initEngine(opts: EngineOptions = {}): Promise<BackendName> {
  const backend = opts.backend ?? 'wasm';
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`engine: could not initialise backend '${backend}'. Try --backend cpu.`);
  }
  await tf.ready();
  return backend;
}

/**
 * `engine.threads: "auto"`: how many wasm and BLAS threads to run with.
 *
 * Measured on the 2-core machines this project runs on (docs/ENGINE.md, "Threads"):
 * - with the native BLAS active, the matrix products (≈65 % of a training step) run in BLAS,
 *   whose own threads use every core; wasm threads then only add start-up (≈300 ms, 8 workers)
 *   and contend with the BLAS threads, so wasm stays at 1 thread;
 * - without BLAS, wasm threads pay on an idle machine (2 threads: 1.45× on the reference step),
 *   so 'auto' takes every available core (at most 4: XNNPACK's matmul stops scaling).
 */
import { availableParallelism } from 'node:os';

export type ThreadsSetting = number | 'auto';

/** Threads for the wasm backend and for the native BLAS. */
export interface ThreadPlan {
  wasm: number;
  blas: number;
}

/** Cores this process may use. */
export function coreCount(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Resolves `engine.threads`. A number is used for both wasm and BLAS; 'auto' asks
 * `blasActive()` (which may open the library) and picks per the measurements above.
 */
export function resolveThreads(setting: ThreadsSetting, blasActive: () => boolean): ThreadPlan {
  if (setting !== 'auto') {
    const n = Math.max(1, Math.floor(setting));
    return { wasm: n, blas: n };
  }
  const cores = coreCount();
  if (blasActive()) return { wasm: 1, blas: cores };
  return { wasm: Math.min(cores, 4), blas: 1 };
}

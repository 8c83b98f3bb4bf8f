/**
 * `engine.threads: "auto"`: how many wasm and BLAS threads to run with.
 *
 * Measured on the shared 2-core machines this project runs on (docs/ENGINE.md, "Threads"):
 * - threads pay only on free cores: on an idle machine wasm with 2 threads is 1.45× faster on the
 *   reference MoE step, but with other jobs on the cores 2 threads were slower than 1 (0.7–0.8×),
 *   and OpenBLAS with 2 threads burnt twice the CPU time for no gain (its threads spin while
 *   they wait for each other). So 'auto' counts the cores that are free when the engine starts:
 *   cores − the 1-minute load average, at least 1;
 * - with the native BLAS active, the matrix products run in BLAS: BLAS gets the free cores and
 *   wasm stays at 1 thread (wasm threads add ≈300 ms start-up and 8 workers, and would contend
 *   with the BLAS threads).
 */
import { availableParallelism, loadavg } from 'node:os';

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

/** Cores not busy with other jobs: cores − 1-minute load average (rounded), in [1, cores]. */
export function freeCores(cores = coreCount(), load = loadavg()[0] ?? 0): number {
  return Math.min(cores, Math.max(1, Math.round(cores - load)));
}

/**
 * Resolves `engine.threads`. A number is used for both wasm and BLAS; 'auto' asks
 * `blasActive()` (which may open the library) and picks per the measurements above (wasm at most
 * 4 threads: XNNPACK's matmul stops scaling).
 */
export function resolveThreads(setting: ThreadsSetting, blasActive: () => boolean, free = freeCores()): ThreadPlan {
  if (setting !== 'auto') {
    const n = Math.max(1, Math.floor(setting));
    return { wasm: n, blas: n };
  }
  if (blasActive()) return { wasm: 1, blas: free };
  return { wasm: Math.min(free, 4), blas: 1 };
}

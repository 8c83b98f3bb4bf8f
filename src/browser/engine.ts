/**
 * The tensor engine in a web page: TensorFlow.js on its WASM backend, with the `.wasm` binaries
 * fetched from the site itself (a path relative to the page; never a CDN), and the engine's fast
 * wasm kernels (src/engine/fastKernelSet.ts: pure JS over the wasm heap, the same ones Node
 * uses). The Node-only parts of src/engine/backend.ts — native BLAS addon, wasm threads through
 * worker_threads, the cpu fallback — are not part of the browser build.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../engine/tf.js';
import { FAST_KERNELS, installWasmKernels } from '../engine/fastKernelSet.js';
import { FlexiModalError } from '../errors.js';

/** Options of `initBrowserEngine`. */
export interface BrowserEngineOptions {
  /**
   * Where the tfjs-backend-wasm binaries (`tfjs-backend-wasm.wasm`, `-simd.wasm`,
   * `-threaded-simd.wasm`) are served, relative to the page or absolute; ends with '/'.
   * Default './wasm/' (the layout `fleximodal export --format web` writes).
   */
  wasmPaths?: string;
  /** Install the engine's fast wasm kernels (default true; false = stock tfjs-wasm kernels). */
  fastKernels?: boolean;
}

/** What `initBrowserEngine` set up. */
export interface BrowserEngineInfo {
  backend: 'wasm';
  fastKernels: boolean;
}

let started: Promise<BrowserEngineInfo> | null = null;

/**
 * Start the wasm backend once per page (later calls return the first call's result: tfjs fixes
 * the wasm location when the backend first starts).
 */
export function initBrowserEngine(opts: BrowserEngineOptions = {}): Promise<BrowserEngineInfo> {
  started ??= start(opts);
  return started;
}

async function start(opts: BrowserEngineOptions): Promise<BrowserEngineInfo> {
  const prefix = opts.wasmPaths ?? './wasm/';
  setWasmPaths(prefix.endsWith('/') ? prefix : `${prefix}/`);
  let ok = false;
  let why = '';
  try {
    ok = await tf.setBackend('wasm');
  } catch (e) {
    why = ` (${(e as Error).message})`;
  }
  if (!ok) {
    started = null;
    throw new FlexiModalError(`could not start the TensorFlow.js wasm backend${why}`, {
      where: `wasm binaries at ${prefix}`,
      hint: 'serve the tfjs-backend-wasm *.wasm files at that path (with Content-Type application/wasm) and open the page over http(s), not file://',
    });
  }
  await tf.ready();
  const fast = opts.fastKernels ?? true;
  if (fast) installWasmKernels(FAST_KERNELS);
  return { backend: 'wasm', fastKernels: fast };
}

/** Names of the engine's fast wasm kernels registered right now (all of them after a default start). */
export function fastKernelsInUse(): string[] {
  return FAST_KERNELS.filter((c) => tf.getKernel(c.kernelName, 'wasm')?.kernelFunc === c.kernelFunc).map((c) => c.kernelName);
}

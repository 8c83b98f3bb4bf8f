/**
 * The optional native BLAS path of the wasm engine.
 *
 * A small Node-API addon (native/blas, built by `npm install` when a C compiler is present) opens a
 * system BLAS at run time (dlopen of OpenBLAS / BLIS / MKL; `cblas_sgemm` via dlsym) and runs
 * single-precision products directly on the wasm heap. Nothing here is required: when the addon
 * did not build or no library is found, the engine keeps its wasm matmul and `blasStatus().line`
 * says so and how to enable the faster path.
 *
 * Process-global (like the wasm backend): one library per process, opened by `openBlas`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's exports (native/blas/src/blas.c). */
export interface BlasAddon {
  open(path: string, threads: number): {
    ok: boolean;
    error: string | null;
    path?: string;
    core?: string | null;
    config?: string | null;
    threadSetter?: boolean;
  };
  setThreads(n: number): boolean;
  /** C_i = op(A_i)·op(B_i) for each (a, b, c) byte-offset triple, row-major, on `heap`. */
  gemm(heap: Uint8Array, m: number, n: number, k: number, transA: boolean, transB: boolean, offsets: Uint32Array): void;
}

/** `engine.blas`: 'auto' (search the usual sonames), 'off', or a library path. */
export type BlasSetting = 'auto' | 'off' | string;

/** What the engine's matmul runs on, and why. */
export interface BlasStatus {
  active: boolean;
  /** Library opened (path or soname), when active. */
  library?: string;
  /** OpenBLAS core kernels in use (e.g. 'SkylakeX'), when the library reports it. */
  core?: string;
  /** OPENBLAS_CORETYPE set by the engine from the CPU flags (undefined when left alone). */
  coreTypeSet?: string;
  threads?: number;
  /** Why the native path is not active. */
  reason?: string;
  /** One line for the run log. */
  line: string;
}

/** Sonames tried by `engine.blas: "auto"`, in order. */
export const BLAS_SONAMES: readonly string[] = [
  'libopenblas.so.0',
  'libopenblasp.so.0',
  'libopenblas.so',
  'libblis.so.4',
  'libblis.so.3',
  'libblis.so',
  'libmkl_rt.so.2',
  'libmkl_rt.so',
  'libopenblas.dylib',
];

export const ENABLE_HINT = 'apt-get install libopenblas0-pthread';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository / package root (this file is src/engine/blas.ts or dist/src/engine/blas.js). */
function packageRoot(): string {
  let d = here;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'native'))) return d;
    d = dirname(d);
  }
  return resolve(here, '..', '..', '..');
}

/** Path of the built addon (it may not exist; FLEXIMODAL_BLAS_ADDON overrides it, e.g. in tests). */
export function addonPath(): string {
  const override = process.env['FLEXIMODAL_BLAS_ADDON'];
  if (override !== undefined && override !== '') return resolve(override);
  return join(packageRoot(), 'native', 'blas', 'build', 'Release', 'fleximodal_blas.node');
}

let addon: BlasAddon | null | undefined;
let addonError = '';

/** The addon, or null when it was not built (or fails to load). */
export function loadAddon(): BlasAddon | null {
  if (addon !== undefined) return addon;
  const p = addonPath();
  if (!existsSync(p)) {
    addonError = `the native addon was not built (${p} missing; rebuild with \`npm rebuild fleximodal\` (in this repository: \`npm run build:native\`), needs a C compiler, and a BLAS: ${ENABLE_HINT})`;
    addon = null;
    return addon;
  }
  try {
    addon = createRequire(import.meta.url)(p) as BlasAddon;
  } catch (e) {
    addonError = `the native addon failed to load: ${(e as Error).message}`;
    addon = null;
  }
  return addon;
}

/**
 * OPENBLAS_CORETYPE for this CPU, or undefined to let OpenBLAS decide. Debian's OpenBLAS 0.3.21
 * does not recognise recent CPUs (it picks Haswell or even SSE3 "Prescott" kernels on AVX-512
 * machines), so the core type is taken from the CPU flags: AVX-512 (F, BW, VL, DQ) → SKYLAKEX,
 * AVX2 + FMA → HASWELL.
 */
export function coreTypeFromCpuFlags(cpuinfo: string): string | undefined {
  const line = cpuinfo.split('\n').find((l) => l.startsWith('flags'));
  if (line === undefined) return undefined;
  const flags = new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f))) return 'SKYLAKEX';
  if (flags.has('avx2') && flags.has('fma')) return 'HASWELL';
  return undefined;
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

let status: BlasStatus | undefined;
/** OPENBLAS_CORETYPE as set by this module (kept for later status lines). */
let coreTypeChosen: string | undefined;

function inactive(reason: string): BlasStatus {
  return { active: false, reason, line: `engine: matmul on wasm — native BLAS off: ${reason}` };
}

/**
 * Opens the native BLAS once per process. `setting` 'off' keeps the wasm path; 'auto' tries
 * BLAS_SONAMES; anything else is a library path. `threads` sets the BLAS thread count (also on
 * later calls). Never throws: a missing addon or library gives an inactive status with the reason.
 */
export function openBlas(setting: BlasSetting, threads: number): BlasStatus {
  if (setting === 'off') return (status = inactive('engine.blas is "off"'));
  if (status?.active && (setting === 'auto' || setting === status.library)) {
    loadAddon()!.setThreads(threads);
    status = { ...status, threads, line: activeLine(status.library!, status.core, status.coreTypeSet, threads) };
    return status;
  }
  const a = loadAddon();
  if (a === null) return (status = inactive(`${addonError}; the wasm matmul is used`));
  if (process.env.OPENBLAS_CORETYPE === undefined) {
    coreTypeChosen = coreTypeFromCpuFlags(readCpuinfo());
    // Read by OpenBLAS when the library is loaded: must be set before dlopen.
    if (coreTypeChosen !== undefined) process.env.OPENBLAS_CORETYPE = coreTypeChosen;
  }
  const coreTypeSet = coreTypeChosen;
  const candidates = setting === 'auto' ? BLAS_SONAMES : [setting];
  const errors: string[] = [];
  for (const lib of candidates) {
    const r = a.open(lib, threads);
    if (r.ok) {
      const core = r.core ?? undefined;
      status = { active: true, library: lib, core, coreTypeSet, threads, line: activeLine(lib, core, coreTypeSet, threads) };
      return status;
    }
    errors.push(`${lib}: ${r.error}`);
  }
  const reason =
    setting === 'auto'
      ? `no BLAS library found (tried ${candidates.join(', ')}); for the faster path: ${ENABLE_HINT}`
      : `engine.blas "${setting}" could not be loaded (${errors[0]}); set engine.blas to "auto" or a path to libopenblas.so.0 (${ENABLE_HINT})`;
  return (status = inactive(reason));
}

function activeLine(lib: string, core: string | undefined, coreTypeSet: string | undefined, threads: number): string {
  const coreText = core ? `, ${core} kernels${coreTypeSet ? ` (OPENBLAS_CORETYPE=${coreTypeSet} from the CPU flags)` : ''}` : '';
  return `engine: matmul on native BLAS (${lib}${coreText}, ${threads} thread${threads === 1 ? '' : 's'})`;
}

/** The current BLAS status (inactive until `openBlas` succeeded). */
export function blasStatus(): BlasStatus {
  return status ?? inactive('not initialised');
}

/** The addon when the native path is active, else null. */
export function activeBlas(): BlasAddon | null {
  return status?.active ? loadAddon() : null;
}

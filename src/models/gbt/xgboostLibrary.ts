/**
 * The XGBoost C library (libxgboost, e.g. Debian's `libxgboost0`), opened at run time through the
 * `koffi` FFI package. Both are optional: nothing is loaded until a gradient-boosted-tree model is
 * trained or loaded, and their absence is reported with what to install.
 *
 * Library search: the path given to `openXGBoost`, else FLEXIMODAL_XGBOOST_LIB, else the usual
 * sonames (XGBOOST_SONAMES). Only the stable C API of XGBoost ≥ 1.4 is used (tested with 1.7.4).
 */
import { createRequire } from 'node:module';
import { FlexiModalError } from '../../errors.js';

/** Sonames tried when no path is given, in order. */
export const XGBOOST_SONAMES: readonly string[] = ['libxgboost.so.0', 'libxgboost.so', 'libxgboost.so.2', 'libxgboost.dylib'];

/** How to get the library. */
export const XGBOOST_HINT =
  'install the XGBoost C library (Debian/Ubuntu: `apt-get install libxgboost0`), or set FLEXIMODAL_XGBOOST_LIB to the path of libxgboost.so';

/** An opaque handle (DMatrixHandle / BoosterHandle) as koffi returns it. */
export type Handle = unknown;

/** The C functions used, bound with koffi. Each returns 0 on success, -1 on failure (see XGBGetLastError). */
export interface XGBoostApi {
  /** Library opened (soname or path). */
  library: string;
  /** "major.minor.patch" */
  version: string;
  XGBGetLastError(): string;
  XGDMatrixCreateFromMat(data: Float32Array, nrow: number, ncol: number, missing: number, out: [Handle]): number;
  XGDMatrixSetFloatInfo(h: Handle, field: string, data: Float32Array, len: number): number;
  XGDMatrixFree(h: Handle): number;
  XGBoosterCreate(dmats: Handle[], len: number, out: [Handle]): number;
  XGBoosterFree(h: Handle): number;
  XGBoosterSetParam(h: Handle, name: string, value: string): number;
  XGBoosterUpdateOneIter(h: Handle, iter: number, dtrain: Handle): number;
  XGBoosterEvalOneIter(h: Handle, iter: number, dmats: Handle[], names: string[], len: number, out: [string | null]): number;
  XGBoosterPredictFromDMatrix(h: Handle, dmat: Handle, config: string, shape: [Handle], dim: [number], result: [Handle]): number;
  XGBoosterSaveModelToBuffer(h: Handle, config: string, len: [number | bigint], out: [Handle]): number;
  XGBoosterLoadModelFromBuffer(h: Handle, buf: Uint8Array, len: number): number;
  XGBoosterSlice(h: Handle, begin: number, end: number, step: number, out: [Handle]): number;
  XGBoosterBoostedRounds(h: Handle, out: [number]): number;
  /** Copy `bytes` bytes of library-owned memory at `ptr`. */
  copyBytes(ptr: Handle, bytes: number): Uint8Array;
  /** Read `n` uint64 values at `ptr` (shapes). */
  readShape(ptr: Handle, n: number): number[];
}

interface Koffi {
  load(path: string): { func(proto: string): (...args: unknown[]) => unknown };
  view(ptr: unknown, len: number): ArrayBuffer;
  decode(ptr: unknown, type: string, len: number): unknown;
}

const cache = new Map<string, XGBoostApi | FlexiModalError>();

/** The library candidates for `path` (or the environment / the default sonames). */
function candidates(path?: string): string[] {
  if (path !== undefined && path !== '') return [path];
  const env = process.env['FLEXIMODAL_XGBOOST_LIB'];
  if (env !== undefined && env !== '') return [env];
  return [...XGBOOST_SONAMES];
}

/**
 * Open the XGBoost C library (once per path per process). Throws a FlexiModalError naming what is
 * missing — the koffi package or the library — and how to install it.
 */
export function openXGBoost(path?: string): XGBoostApi {
  const tried = candidates(path);
  const key = tried.join('|');
  const hit = cache.get(key);
  if (hit instanceof FlexiModalError) throw hit;
  if (hit) return hit;
  const result = tryOpen(tried);
  cache.set(key, result);
  if (result instanceof FlexiModalError) throw result;
  return result;
}

/** True when `openXGBoost()` would succeed (for tests and status lines); never throws. */
export function xgboostAvailable(path?: string): { ok: true; library: string; version: string } | { ok: false; reason: string } {
  try {
    const api = openXGBoost(path);
    return { ok: true, library: api.library, version: api.version };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

function tryOpen(tried: string[]): XGBoostApi | FlexiModalError {
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (e) {
    return new FlexiModalError(`gradient-boosted trees need the optional npm package koffi (FFI), which is not installed (${(e as Error).message.split('\n')[0]})`, {
      where: 'config key model.type "xgboost"',
      hint: 'install it with `npm install koffi` (an optional dependency of fleximodal), and the XGBoost C library: `apt-get install libxgboost0`',
    });
  }
  // XGBoost's OpenMP threads spin at barriers by default, which stalls boosting by 10× and more
  // on an oversubscribed machine (measured: 2 threads on 2 busy cores); read by libgomp at load.
  if (process.env['OMP_WAIT_POLICY'] === undefined) process.env['OMP_WAIT_POLICY'] = 'PASSIVE';
  const errors: string[] = [];
  for (const lib of tried) {
    let handle: ReturnType<Koffi['load']>;
    try {
      handle = koffi.load(lib);
    } catch (e) {
      errors.push(`${lib}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    try {
      return bind(koffi, handle, lib);
    } catch (e) {
      errors.push(`${lib}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return new FlexiModalError(`the XGBoost C library could not be loaded (tried ${errors.join('; ')})`, {
    where: 'config key model.type "xgboost"',
    hint: XGBOOST_HINT,
  });
}

function bind(koffi: Koffi, lib: ReturnType<Koffi['load']>, name: string): XGBoostApi {
  const f = (proto: string) => lib.func(proto) as (...args: unknown[]) => number;
  const version = lib.func('void XGBoostVersion(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)');
  const [ma, mi, pa]: [number][] = [[0], [0], [0]];
  version(ma, mi, pa);
  const v = `${ma[0]}.${mi[0]}.${pa[0]}`;
  if (ma[0] < 1 || (ma[0] === 1 && mi[0] < 4)) throw new Error(`XGBoost ${v} is too old (need ≥ 1.4 for XGBoosterPredictFromDMatrix)`);
  const lastError = lib.func('const char *XGBGetLastError()') as () => string | null;
  return {
    library: name,
    version: v,
    XGBGetLastError: () => lastError() ?? '',
    XGDMatrixCreateFromMat: f('int XGDMatrixCreateFromMat(const float *data, uint64_t nrow, uint64_t ncol, float missing, _Out_ void **out)'),
    XGDMatrixSetFloatInfo: f('int XGDMatrixSetFloatInfo(void *h, const char *field, const float *arr, uint64_t len)'),
    XGDMatrixFree: f('int XGDMatrixFree(void *h)'),
    XGBoosterCreate: f('int XGBoosterCreate(void **dmats, uint64_t len, _Out_ void **out)'),
    XGBoosterFree: f('int XGBoosterFree(void *h)'),
    XGBoosterSetParam: f('int XGBoosterSetParam(void *h, const char *name, const char *value)'),
    XGBoosterUpdateOneIter: f('int XGBoosterUpdateOneIter(void *h, int iter, void *dtrain)'),
    XGBoosterEvalOneIter: f('int XGBoosterEvalOneIter(void *h, int iter, void **dmats, const char **names, uint64_t len, _Out_ const char **out)'),
    XGBoosterPredictFromDMatrix: f('int XGBoosterPredictFromDMatrix(void *h, void *dmat, const char *config, _Out_ void **shape, _Out_ uint64_t *dim, _Out_ void **result)'),
    XGBoosterSaveModelToBuffer: f('int XGBoosterSaveModelToBuffer(void *h, const char *config, _Out_ uint64_t *len, _Out_ void **out)'),
    XGBoosterLoadModelFromBuffer: f('int XGBoosterLoadModelFromBuffer(void *h, const void *buf, uint64_t len)'),
    XGBoosterSlice: f('int XGBoosterSlice(void *h, int begin, int end, int step, _Out_ void **out)'),
    XGBoosterBoostedRounds: f('int XGBoosterBoostedRounds(void *h, _Out_ int *out)'),
    copyBytes: (ptr, bytes) => new Uint8Array(koffi.view(ptr, bytes).slice(0)),
    readShape: (ptr, n) => (koffi.decode(ptr, 'uint64_t', n) as (number | bigint)[]).map(Number),
  };
}

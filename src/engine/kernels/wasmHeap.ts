/**
 * Low-level helpers for kernels that work directly on the tfjs-backend-wasm heap.
 *
 * Rules (see ENGINE-NOTES "Memory"):
 * - allocate every output first (`backend.makeOutput`), then take views: a heap growth
 *   replaces the underlying ArrayBuffer and silently empties earlier views;
 * - never write an input tensor's memory in place (the native matmul caches packed weights by
 *   tensor id);
 * - an "alias" is a native tensor id registered on a sub-range of existing memory: it lets us call
 *   the backend's own C++ kernels on a slice without copying. Aliases never own memory; release
 *   them with `releaseAlias` (the C++ side only forgets the id and runs its disposal callbacks).
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

/** The subset of the wasm Emscripten module that the kernels use. */
export interface WasmModuleLike {
  HEAPU8: Uint8Array;
  wasmMemory?: WebAssembly.Memory;
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: unknown[]) => unknown;
  tfjs: {
    registerTensor: (id: number, size: number, memoryOffset: number) => void;
    disposeData: (id: number) => void;
  };
}

interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: DataType;
  refCount: number;
}

/** The subset of `BackendWasm` that the kernels use (its fields are public in JS). */
export interface WasmBackendLike {
  wasm: WasmModuleLike;
  dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  readSync(dataId: object): unknown;
}

/** The current heap buffer (re-read on every call: it changes when the heap grows). */
export function heapBuffer(backend: WasmBackendLike): ArrayBufferLike {
  const mem = backend.wasm.wasmMemory;
  return mem ? mem.buffer : backend.wasm.HEAPU8.buffer;
}

/** Byte offset of a tensor's data in the heap. */
export function byteOffset(backend: WasmBackendLike, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (d === undefined) throw new Error('engine: tensor data not found on the wasm backend');
  return d.memoryOffset;
}

/** The native (C++) tensor id of a tensor. */
export function nativeId(backend: WasmBackendLike, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (d === undefined) throw new Error('engine: tensor data not found on the wasm backend');
  return d.id;
}

export type HeapArray = Float32Array | Int32Array | Uint8Array;

/** A typed view of `size` elements at `offset` bytes (take it after every allocation). */
export function viewAt(backend: WasmBackendLike, dtype: DataType, offset: number, size: number): HeapArray {
  const buf = heapBuffer(backend);
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, offset, size);
    case 'int32':
      return new Int32Array(buf, offset, size);
    case 'bool':
      return new Uint8Array(buf, offset, size);
    default:
      throw new Error(`engine: dtype '${dtype}' is not supported by the fast wasm kernels`);
  }
}

/** A typed view of a whole tensor's data. */
export function view(backend: WasmBackendLike, t: TensorInfo): HeapArray {
  return viewAt(backend, t.dtype, byteOffset(backend, t), sizeOf(t.shape));
}

/** A typed view of the whole heap in the given dtype (index = byteOffset / bytesPerElement). */
export function heapOf(backend: WasmBackendLike, dtype: DataType): HeapArray {
  const buf = heapBuffer(backend);
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'bool':
      return new Uint8Array(buf);
    default:
      throw new Error(`engine: dtype '${dtype}' is not supported by the fast wasm kernels`);
  }
}

/** Bytes per element of a numeric dtype. */
export function bytesPer(dtype: DataType): number {
  return dtype === 'bool' ? 1 : 4;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape (in elements). */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Registers a zero-copy native alias of `size` elements at `offset` bytes; returns its id. */
export function makeAlias(backend: WasmBackendLike, offset: number, size: number): number {
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, size, offset);
  return id;
}

/** Forgets a native alias (does not free memory). */
export function releaseAlias(backend: WasmBackendLike, id: number): void {
  backend.wasm.tfjs.disposeData(id);
}

/** Encodes a shape as the byte array the cwrapped C++ kernels take. */
export function shapeBytes(shape: readonly number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

/** Frees an intermediate TensorInfo made inside a kernel. */
export function disposeInfo(backend: WasmBackendLike, t: TensorInfo): void {
  backend.disposeData(t.dataId);
}

/**
 * Copies `n` elements inside the heap from element index `src` to `dst` (both in units of the
 * view's element size). Uses `copyWithin` for long runs and a loop for short ones.
 */
export function copyRun(h: HeapArray, dst: number, src: number, n: number): void {
  if (n >= 32) {
    h.copyWithin(dst, src, src + n);
  } else {
    for (let i = 0; i < n; i++) h[dst + i] = h[src + i]!;
  }
}

/**
 * BatchMatMul on the native BLAS (src/engine/blas.ts) for tfjs-backend-wasm.
 *
 * The operands stay on the wasm heap: the addon gets a byte view of the whole heap and one
 * (a, b, c) byte-offset triple per product, and `cblas_sgemm` reads A, B and writes C in place —
 * transposes are BLAS flags (no transposed copies), any batch broadcasting (numpy rules on the
 * outer dims) is an offset pattern. A broadcast B with an untransposed A is folded into one
 * [batch·m, k]×[k, n] product. Products below `blasMinWork` multiply-adds (m·n·k·batch), and
 * non-float32 inputs, go to the wasm kernel (`batchMatMul.ts`), which is faster when the N-API
 * call overhead dominates.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { activeBlas } from '../blas.js';
import { batchMatMulConfig, matMulDims } from './batchMatMul.js';
import { broadcastOffsets } from './broadcastOffsets.js';
import { byteOffset, heapBuffer, sizeOf, type WasmBackendLike } from './wasmHeap.js';

/**
 * Smallest product (m·n·k·batch multiply-adds) sent to BLAS. Below it the wasm kernel wins on
 * this kind of machine (N-API call + BLAS set-up ≈ a few µs): measured with
 * `node dist/bench/engine.js --micro-blas`.
 */
export let blasMinWork = 32 * 1024;

/** Changes the size gate (tests use 0 to force every product through BLAS). */
export function setBlasMinWork(n: number): void {
  blasMinWork = n;
}

let calls = 0;

/** Number of products sent to BLAS so far (tests check that the native path really ran). */
export function blasCallCount(): number {
  return calls;
}

let heapView: Uint8Array | null = null;

/** A byte view of the whole heap (re-made when the heap grew). */
function heapBytes(backend: WasmBackendLike): Uint8Array {
  const buf = heapBuffer(backend);
  if (heapView === null || heapView.buffer !== buf || heapView.byteLength !== buf.byteLength) heapView = new Uint8Array(buf);
  return heapView;
}

type MatMulArgs = {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: WasmBackendLike;
  attrs: { transposeA: boolean; transposeB: boolean };
};

const wasmBatchMatMul = batchMatMulConfig.kernelFunc as unknown as (args: MatMulArgs) => TensorInfo;

function blasBatchMatMul(args: MatMulArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs;
  const blas = activeBlas();
  if (blas === null || a.dtype !== 'float32' || b.dtype !== 'float32') return wasmBatchMatMul(args);
  const tA = !!attrs.transposeA;
  const tB = !!attrs.transposeB;
  const { m, k, n, outerA, outerB, outer } = matMulDims(a, b, tA, tB);
  const batch = sizeOf(outer);
  // Empty products (the wasm kernel zero-fills k = 0) and small ones stay on wasm.
  if (m * n * k * batch === 0 || m * n * k * batch < blasMinWork) return wasmBatchMatMul(args);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  // Offsets after the allocation (a heap growth moves nothing, but replaces the buffer).
  const aOff = byteOffset(backend, a);
  const bOff = byteOffset(backend, b);
  const cOff = byteOffset(backend, out);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  let offsets: Uint32Array;
  let rows = m;
  if (batchB === 1 && !tA && batchA === batch) {
    // One product: [batch·m, k] × op(B).
    rows = batch * m;
    offsets = new Uint32Array([aOff, bOff, cOff]);
  } else {
    offsets = broadcastOffsets(outerA, outerB, outer, aOff, bOff, cOff, m * k * 4, k * n * 4, m * n * 4);
  }
  blas.gemm(heapBytes(backend), rows, n, k, tA, tB, offsets);
  calls += offsets.length / 3;
  return out;
}

/** Kernel config: BatchMatMul (wasm) on the native BLAS, size-gated, else the wasm kernel. */
export const blasBatchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: blasBatchMatMul as never,
};

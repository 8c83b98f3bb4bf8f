/**
 * Fast BatchMatMul for tfjs-backend-wasm.
 *
 * Stock wasm runs the native (XNNPACK) fully-connected path only for an untransposed operand
 * pair and batch 1; a transposed operand is ≈25× slower and batch > 1 runs at ≈1.2 GFLOP/s.
 * This kernel
 *  1. materialises a transposed operand with the stock Transpose kernel (memory-bound, cheap),
 *  2. folds a broadcast batch of A against a single B into one big [batch·m, k]×[k, n] product,
 *  3. otherwise loops over the batch, calling the backend's own C++ BatchMatMul on zero-copy
 *     aliases of each batch slice (A_i, B_i, out_i), so every product takes the fast path.
 *     The slices follow numpy broadcasting of the batch dims, the general case ([2,1]×[3] →
 *     [2,3]) included — where tfjs's stock wasm and cpu kernels return a wrong result.
 * Non-float32 inputs fall back to the stock kernel.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { broadcastOffsets } from './broadcastOffsets.js';
import { callStock, stockTranspose } from './stock.js';
import {
  byteOffset,
  disposeInfo,
  makeAlias,
  nativeId,
  releaseAlias,
  shapeBytes,
  sizeOf,
  viewAt,
  type WasmBackendLike,
} from './wasmHeap.js';

type RawMatMul = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  transposeA: number,
  transposeB: number,
  outId: number,
) => void;

const rawByModule = new WeakMap<object, RawMatMul>();

/** The cwrapped native BatchMatMul of this backend's module. */
export function rawMatMul(backend: WasmBackendLike): RawMatMul {
  let f = rawByModule.get(backend.wasm);
  if (f === undefined) {
    f = backend.wasm.cwrap('BatchMatMul', null, [
      'number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number',
    ]) as unknown as RawMatMul;
    rawByModule.set(backend.wasm, f);
  }
  return f;
}

/**
 * out[m, n] = A[m, k] · B[k, n] on native ids (row-major, untransposed): the fast XNNPACK path.
 */
export function nativeMatMul(
  backend: WasmBackendLike,
  aId: number,
  bId: number,
  outId: number,
  m: number,
  k: number,
  n: number,
): void {
  rawMatMul(backend)(aId, shapeBytes([1, m, k]), 3, bId, shapeBytes([1, k, n]), 3, 0, 0, outId);
}

/**
 * Dimensions of op(A)·op(B) for BatchMatMul: m, k, n, the outer (batch) shapes of A and B and
 * their broadcast. Throws tfjs's message when the inner dimensions differ.
 */
export function matMulDims(
  a: TensorInfo,
  b: TensorInfo,
  tA: boolean,
  tB: boolean,
): { m: number; k: number; n: number; outerA: number[]; outerB: number[]; outer: number[] } {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = tA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = tA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = tB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = tB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ` +
        `${b.shape} and transposeA=${tA} and transposeB=${tB} must match.`,
    );
  }
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  return { m, k, n, outerA, outerB, outer: tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB) };
}

function batchMatMul(args: {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: WasmBackendLike;
  attrs: { transposeA: boolean; transposeB: boolean };
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs;
  const tA = !!attrs.transposeA;
  const tB = !!attrs.transposeB;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    return callStock('BatchMatMul', backend, inputs as never, attrs);
  }
  const { m, k, n, outerA, outerB, outer } = matMulDims(a, b, tA, tB);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  const batch = sizeOf(outer);
  const outShape = [...outer, m, n];
  const out = backend.makeOutput(outShape, 'float32');
  if (batch === 0 || m === 0 || n === 0) return out;
  if (k === 0) {
    // Empty inner dimension: the product is all zeros (makeOutput does not clear memory).
    viewAt(backend, 'float32', byteOffset(backend, out), batch * m * n).fill(0);
    return out;
  }

  // Untransposed, contiguous operands: A [batchA, m, k], B [batchB, k, n].
  const A = tA ? stockTranspose(backend, { ...a, shape: [batchA, k, m] }, [0, 2, 1]) : a;
  const B = tB ? stockTranspose(backend, { ...b, shape: [batchB, n, k] }, [0, 2, 1]) : b;
  try {
    const outId = nativeId(backend, out);
    if (batchB === 1) {
      // One product: [batchA·m, k] × [k, n] (batchA is 1 or the whole batch).
      nativeMatMul(backend, nativeId(backend, A), nativeId(backend, B), outId, batchA * m, k, n);
    } else {
      // byte offsets of (A_i, B_i, out_i) for every output matrix i, numpy broadcasting
      const offs = broadcastOffsets(outerA, outerB, outer, byteOffset(backend, A), byteOffset(backend, B), byteOffset(backend, out), m * k * 4, k * n * 4, m * n * 4);
      const aFull = nativeId(backend, A);
      for (let i = 0; i < batch; i++) {
        const aId = batchA === 1 ? aFull : makeAlias(backend, offs[3 * i]!, m * k);
        const bId = makeAlias(backend, offs[3 * i + 1]!, k * n);
        const oId = makeAlias(backend, offs[3 * i + 2]!, m * n);
        try {
          nativeMatMul(backend, aId, bId, oId, m, k, n);
        } finally {
          if (batchA !== 1) releaseAlias(backend, aId);
          releaseAlias(backend, bId);
          releaseAlias(backend, oId);
        }
      }
    }
  } finally {
    if (A !== a) disposeInfo(backend, A);
    if (B !== b) disposeInfo(backend, B);
  }
  return out;
}

/** Kernel config: BatchMatMul (wasm) — transposes first, folds or loops the batch. */
export const batchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: batchMatMul as never,
};

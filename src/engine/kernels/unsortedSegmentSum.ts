/**
 * UnsortedSegmentSum for tfjs-backend-wasm (missing in stock wasm; it is the gradient of
 * gather, so without it any model that gathers rows of a trainable tensor cannot train).
 *
 * out[s, ...] = Σ_{i : segmentIds[i] = s} x[i, ...]; out has shape
 * [numSegments, ...x.shape[segmentIds.rank:]]. Ids outside [0, numSegments) are dropped
 * (TensorFlow semantics). Accumulation order is the index order (deterministic).
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { byteOffset, bytesPer, heapOf, sizeOf, view, type WasmBackendLike } from './wasmHeap.js';

function unsortedSegmentSum(args: {
  inputs: { x: TensorInfo; segmentIds: TensorInfo };
  backend: WasmBackendLike;
  attrs: { numSegments: number };
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, segmentIds } = inputs;
  const numSegments = attrs.numSegments;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum: dtype ${x.dtype} is not supported on wasm`);
  }
  const nIds = sizeOf(segmentIds.shape);
  const inner = x.shape.slice(segmentIds.shape.length);
  const row = sizeOf(inner);
  const outShape = [numSegments, ...inner];
  const out = backend.makeOutput(outShape, x.dtype);
  const bpe = bytesPer(x.dtype);
  const h = heapOf(backend, x.dtype);
  const ids = view(backend, segmentIds);
  const xBase = byteOffset(backend, x) / bpe;
  const oBase = byteOffset(backend, out) / bpe;
  h.fill(0, oBase, oBase + numSegments * row);
  for (let i = 0; i < nIds; i++) {
    const s = ids[i]!;
    if (!(s >= 0 && s < numSegments)) continue;
    const src = xBase + i * row;
    const dst = oBase + s * row;
    for (let j = 0; j < row; j++) h[dst + j] += h[src + j]!;
  }
  return out;
}

/** Kernel config: UnsortedSegmentSum (wasm) — added, stock wasm has none. */
export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as never,
};

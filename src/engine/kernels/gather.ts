/**
 * Fast GatherV2 for tfjs-backend-wasm.
 *
 * Stock wasm copies the whole index tensor out of the heap to range-check it and then runs a
 * per-element native loop; with `batchDims > 0` it reads out of bounds (upstream bug). This
 * kernel works on the flattened problem x [batch, outer, dim, slice], indices [batch, nIdx]
 * → out [batch, outer, nIdx, slice], copying whole slices inside the heap, and supports
 * batchDims correctly. Indices outside [0, dim) throw, like the stock kernel.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { byteOffset, bytesPer, copyRun, heapOf, sizeOf, view, type WasmBackendLike } from './wasmHeap.js';

function gatherV2(args: {
  inputs: { x: TensorInfo; indices: TensorInfo };
  backend: WasmBackendLike;
  attrs: { axis: number; batchDims: number };
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, indices } = inputs;
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
  const batchDims = attrs.batchDims ?? 0;
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(
    x as never,
    indices as never,
    axis,
    batchDims,
  );
  const { batchSize, outerSize, dimSize, sliceSize, outputShape } = info;
  const out = backend.makeOutput(outputShape, x.dtype);
  const nIndices = sizeOf(indices.shape);
  if (sizeOf(outputShape) === 0) return out;
  // Views are taken after the output allocation (heap growth would detach them).
  const idx = view(backend, indices);
  for (let i = 0; i < nIndices; i++) {
    const v = idx[i]!;
    if (!(v >= 0 && v <= dimSize - 1)) {
      backend.disposeData(out.dataId);
      throw new Error(`GatherV2: the index value ${v} is not in [0, ${dimSize - 1}]`);
    }
  }
  const bpe = bytesPer(x.dtype);
  const h = heapOf(backend, x.dtype);
  const xBase = byteOffset(backend, x) / bpe;
  const oBase = byteOffset(backend, out) / bpe;
  const nIdx = nIndices / batchSize;
  let dst = oBase;
  for (let b = 0; b < batchSize; b++) {
    for (let o = 0; o < outerSize; o++) {
      const rowBase = xBase + (b * outerSize + o) * dimSize * sliceSize;
      const ib = b * nIdx;
      if (sliceSize === 1) {
        for (let j = 0; j < nIdx; j++) h[dst + j] = h[rowBase + idx[ib + j]!]!;
        dst += nIdx;
      } else {
        for (let j = 0; j < nIdx; j++) {
          copyRun(h, dst, rowBase + idx[ib + j]! * sliceSize, sliceSize);
          dst += sliceSize;
        }
      }
    }
  }
  return out;
}

/** Kernel config: GatherV2 (wasm) — flattened slice copies, correct batchDims. */
export const gatherV2Config: KernelConfig = {
  kernelName: 'GatherV2',
  backendName: 'wasm',
  kernelFunc: gatherV2 as never,
};

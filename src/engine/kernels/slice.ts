/**
 * Fast Slice / StridedSlice / SplitV / Unpack for tfjs-backend-wasm.
 *
 * Stock wasm Slice first copies the WHOLE input out of the heap (`readSync`) and then slices
 * that copy in JS; SplitV and Unpack call it once per output (k full copies for k pieces), so
 * slicing experts' rows or weights out of a big tensor was quadratic. These kernels copy only
 * the requested region, in contiguous runs, inside the heap.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { callStock } from './stock.js';
import { byteOffset, bytesPer, copyRun, heapOf, sizeOf, stridesOf, type WasmBackendLike } from './wasmHeap.js';

/**
 * Copies the region [begin, begin+size) of x into a new tensor of shape `size`.
 * Works for any rank; the innermost run is the longest contiguous stretch.
 */
export function sliceRegion(backend: WasmBackendLike, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size.slice(), x.dtype);
  const total = sizeOf(size);
  if (total === 0) return out;
  const rank = x.shape.length;
  const bpe = bytesPer(x.dtype);
  const h = heapOf(backend, x.dtype);
  const xBase = byteOffset(backend, x) / bpe;
  const oBase = byteOffset(backend, out) / bpe;
  const xs = stridesOf(x.shape);
  if (rank === 0) {
    h[oBase] = h[xBase]!;
    return out;
  }
  // Collapse trailing dims that are taken whole into one contiguous run.
  let d = rank - 1;
  while (d > 0 && size[d] === x.shape[d] && begin[d] === 0) d--;
  // Dims [0, d) are iterated; dim d and everything after forms one run.
  const run = size[d]! * xs[d]!;
  let start = xBase;
  for (let i = 0; i < rank; i++) start += begin[i]! * xs[i]!;
  if (d === 0) {
    copyRun(h, oBase, start, run);
    return out;
  }
  const counter = new Array<number>(d).fill(0);
  let dst = oBase;
  let src = start;
  const nRuns = total / run;
  for (let r = 0; r < nRuns; r++) {
    copyRun(h, dst, src, run);
    dst += run;
    // Advance the odometer over dims [0, d).
    let j = d - 1;
    while (j >= 0) {
      counter[j]!++;
      src += xs[j]!;
      if (counter[j]! < size[j]!) break;
      src -= counter[j]! * xs[j]!;
      counter[j] = 0;
      j--;
    }
  }
  return out;
}

function slice(args: {
  inputs: { x: TensorInfo };
  backend: WasmBackendLike;
  attrs: { begin: number | number[]; size: number | number[] };
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  if (x.dtype === 'string') return callStock('Slice', backend, inputs as never, attrs);
  const [begin, size] = tf.slice_util.parseSliceParams(x as never, attrs.begin, attrs.size);
  return sliceRegion(backend, x, begin, size);
}

function stridedSlice(args: {
  inputs: { x: TensorInfo };
  backend: WasmBackendLike;
  attrs: {
    begin: number[];
    end: number[];
    strides: number[];
    beginMask: number;
    endMask: number;
    ellipsisMask: number;
    newAxisMask: number;
    shrinkAxisMask: number;
  };
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  if (x.dtype === 'string') return callStock('StridedSlice', backend, inputs as never, attrs);
  const info = tf.slice_util.sliceInfo(
    x.shape,
    attrs.begin,
    attrs.end,
    attrs.strides,
    attrs.beginMask,
    attrs.endMask,
    attrs.ellipsisMask,
    attrs.newAxisMask,
    attrs.shrinkAxisMask,
  );
  if (!info.isIdentity && (info.sliceDim0 || info.isSimpleSlice)) {
    const size = tf.slice_util.computeOutShape(info.begin, info.end, info.strides);
    const out = sliceRegion(backend, x, info.begin, size);
    out.shape = info.finalShape;
    return out;
  }
  return callStock('StridedSlice', backend, inputs as never, attrs);
}

function splitV(args: {
  inputs: { x: TensorInfo };
  backend: WasmBackendLike;
  attrs: { numOrSizeSplits: number | number[]; axis: number };
}): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  if (x.dtype === 'string') return callStock('SplitV', backend, inputs as never, attrs) as unknown as TensorInfo[];
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as never, attrs.numOrSizeSplits, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  const size = x.shape.slice();
  return sizes.map((s) => {
    const sz = size.slice();
    sz[axis] = s;
    const piece = sliceRegion(backend, x, begin.slice(), sz);
    begin[axis]! += s;
    return piece;
  });
}

function unpack(args: {
  inputs: { value: TensorInfo };
  backend: WasmBackendLike;
  attrs: { axis: number };
}): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { value } = inputs;
  if (value.dtype === 'string') return callStock('Unpack', backend, inputs as never, attrs) as unknown as TensorInfo[];
  const rank = value.shape.length;
  const axis = attrs.axis < 0 ? attrs.axis + rank : attrs.axis;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const begin = new Array<number>(rank).fill(0);
  const size = value.shape.slice();
  size[axis] = 1;
  const outs: TensorInfo[] = [];
  for (let i = 0; i < value.shape[axis]!; i++) {
    begin[axis] = i;
    const piece = sliceRegion(backend, value, begin.slice(), size);
    piece.shape = outShape.slice();
    outs.push(piece);
  }
  return outs;
}

/** Kernel config: Slice (wasm) — copies only the region, in contiguous runs. */
export const sliceConfig: KernelConfig = { kernelName: 'Slice', backendName: 'wasm', kernelFunc: slice as never };
/** Kernel config: StridedSlice (wasm) — simple (unit-stride) cases via the fast slice. */
export const stridedSliceConfig: KernelConfig = {
  kernelName: 'StridedSlice',
  backendName: 'wasm',
  kernelFunc: stridedSlice as never,
};
/** Kernel config: SplitV (wasm) — one region copy per piece. */
export const splitVConfig: KernelConfig = { kernelName: 'SplitV', backendName: 'wasm', kernelFunc: splitV as never };
/** Kernel config: Unpack (wasm) — one region copy per piece. */
export const unpackConfig: KernelConfig = { kernelName: 'Unpack', backendName: 'wasm', kernelFunc: unpack as never };

/**
 * Fast Concat / Pack for tfjs-backend-wasm: per outer row, one contiguous heap copy per input
 * (stock copies element by element in JS; stock Pack allocates an expanded copy per input first).
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { callStock } from './stock.js';
import { byteOffset, bytesPer, copyRun, heapOf, sizeOf, type WasmBackendLike } from './wasmHeap.js';

/** Concatenates along `axis` (already non-negative); inputs must share dtype and other dims. */
export function concatInfos(backend: WasmBackendLike, inputs: TensorInfo[], axis: number): TensorInfo {
  const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
  const dtype = inputs[0]!.dtype;
  const out = backend.makeOutput(outShape, dtype);
  if (sizeOf(outShape) === 0) return out;
  const nonEmpty = inputs.filter((t) => sizeOf(t.shape) > 0);
  const bpe = bytesPer(dtype);
  const h = heapOf(backend, dtype);
  const outer = sizeOf(outShape.slice(0, axis));
  const inners = nonEmpty.map((t) => sizeOf(t.shape.slice(axis)));
  const bases = nonEmpty.map((t) => byteOffset(backend, t) / bpe);
  let dst = byteOffset(backend, out) / bpe;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < nonEmpty.length; i++) {
      const n = inners[i]!;
      copyRun(h, dst, bases[i]! + o * n, n);
      dst += n;
    }
  }
  return out;
}

function concat(args: { inputs: TensorInfo[]; backend: WasmBackendLike; attrs: { axis: number } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  if (inputs[0]!.dtype === 'string' || inputs.some((t) => t.dtype !== inputs[0]!.dtype)) {
    return callStock('Concat', backend, inputs as never, attrs);
  }
  const axis = tf.util.parseAxisParam(attrs.axis, inputs[0]!.shape)[0]!;
  tf.backend_util.assertParamsConsistent(inputs.map((t) => t.shape), axis);
  return concatInfos(backend, inputs, axis);
}

function pack(args: { inputs: TensorInfo[]; backend: WasmBackendLike; attrs: { axis: number } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const first = inputs[0]!;
  if (first.dtype === 'string') return callStock('Pack', backend, inputs as never, attrs);
  const rank = first.shape.length;
  const axis = attrs.axis < 0 ? attrs.axis + rank + 1 : attrs.axis;
  inputs.forEach((t) => {
    tf.util.assertShapesMatch(first.shape, t.shape, 'All tensors passed to stack must have matching shapes');
    tf.util.assert(first.dtype === t.dtype, () => 'All tensors passed to stack must have matching dtypes');
  });
  const expanded = inputs.map((t) => {
    const shape = t.shape.slice();
    shape.splice(axis, 0, 1);
    return { ...t, shape };
  });
  return concatInfos(backend, expanded, axis);
}

/** Kernel config: Concat (wasm). */
export const concatConfig: KernelConfig = { kernelName: 'Concat', backendName: 'wasm', kernelFunc: concat as never };
/** Kernel config: Pack (wasm) — concat of shape-expanded views, no intermediate copies. */
export const packConfig: KernelConfig = { kernelName: 'Pack', backendName: 'wasm', kernelFunc: pack as never };

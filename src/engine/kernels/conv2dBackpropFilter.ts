/**
 * Conv2DBackpropFilter for tfjs-backend-wasm (missing in stock wasm, so conv1d/conv2d could not
 * train there). im2col + the native matmul:
 *   Xcol [P, fH·fW·Cin] (P = batch·outH·outW; zero rows for padding taps),
 *   dW [fH·fW·Cin, Cout] = Xcolᵀ · dy[P, Cout].
 * NCHW inputs are transposed to NHWC first. Dilations other than 1 are not supported by tfjs'
 * conv2d gradient either.
 */
import type { KernelConfig, TensorInfo, backend_util } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { nativeMatMul } from './batchMatMul.js';
import { stockTranspose } from './stock.js';
import { byteOffset, copyRun, disposeInfo, heapOf, nativeId, type WasmBackendLike } from './wasmHeap.js';

function conv2DBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackendLike;
  attrs: {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  let { x, dy } = inputs;
  const fmt = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    fmt,
  );
  const nchw = info.dataFormat === 'channelsFirst';
  if (nchw) {
    x = stockTranspose(backend, x, [0, 2, 3, 1]);
    dy = stockTranspose(backend, dy, [0, 2, 3, 1]);
  }
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Cin, outChannels: Cout } = info;
  const { outHeight: oH, outWidth: oW, filterHeight: fH, filterWidth: fW, strideHeight: sH, strideWidth: sW } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const P = B * oH * oW;
  const K = fH * fW * Cin;
  const out = backend.makeOutput([fH, fW, Cin, Cout], 'float32');
  try {
    if (P === 0 || K === 0 || Cout === 0) {
      const h = heapOf(backend, 'float32');
      const o = byteOffset(backend, out) / 4;
      h.fill(0, o, o + K * Cout);
      return out;
    }
    const xcol = backend.makeOutput([P, K], 'float32');
    let xcolT: TensorInfo;
    try {
      const h = heapOf(backend, 'float32');
      const xb = byteOffset(backend, x) / 4;
      let dst = byteOffset(backend, xcol) / 4;
      for (let b = 0; b < B; b++) {
        for (let yR = 0; yR < oH; yR++) {
          for (let yC = 0; yC < oW; yC++) {
            for (let wR = 0; wR < fH; wR++) {
              const xR = yR * sH + wR - top;
              for (let wC = 0; wC < fW; wC++) {
                const xC = yC * sW + wC - left;
                if (xR >= 0 && xR < H && xC >= 0 && xC < W) {
                  copyRun(h, dst, xb + ((b * H + xR) * W + xC) * Cin, Cin);
                } else {
                  h.fill(0, dst, dst + Cin);
                }
                dst += Cin;
              }
            }
          }
        }
      }
      xcolT = stockTranspose(backend, xcol, [1, 0]);
    } finally {
      disposeInfo(backend, xcol);
    }
    try {
      nativeMatMul(backend, nativeId(backend, xcolT), nativeId(backend, dy), nativeId(backend, out), K, P, Cout);
    } finally {
      disposeInfo(backend, xcolT);
    }
  } finally {
    if (nchw) {
      disposeInfo(backend, x);
      disposeInfo(backend, dy);
    }
  }
  return out;
}

/** Kernel config: Conv2DBackpropFilter (wasm) — added, stock wasm has none. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as never,
};

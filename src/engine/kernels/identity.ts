/**
 * No-copy Identity for tfjs-backend-wasm.
 *
 * The engine clones every tensor it saves for the backward pass through the Identity kernel;
 * stock wasm copies the data each time (≈400 copies per MoE step, every activation and weight).
 * Tensors are immutable, so — like the cpu backend — we share the data and bump its refcount.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { callStock } from './stock.js';

interface RefCounting {
  incRef(dataId: object): void;
}

function identity(args: { inputs: { x: TensorInfo }; backend: RefCounting }): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === 'string') return callStock('Identity', args.backend as never, args.inputs as never);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

/** Kernel config: Identity (wasm) — shares data instead of copying. */
export const identityConfig: KernelConfig = { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identity as never };

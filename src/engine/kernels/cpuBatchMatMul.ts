/**
 * BatchMatMul for the cpu (fallback) backend with general broadcasting of the batch dims.
 *
 * tfjs's stock cpu kernel handles equal batch dims and one side's batch of 1, but for a general
 * broadcast (`[2,1,m,k]×[3,k,n]` → `[2,3,m,n]`) it returns a wrong result (half of the values).
 * This wrapper materialises both operands at the broadcast batch shape for that case only and
 * hands them to the stock kernel; every other call goes to the stock kernel unchanged.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { broadcastOffsets } from './broadcastOffsets.js';
import { sizeOf } from './wasmHeap.js';

/** The part of the cpu backend this kernel uses. */
interface CpuBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array | Int32Array): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}

type Args = { inputs: { a: TensorInfo; b: TensorInfo }; backend: CpuBackendLike; attrs: { transposeA: boolean; transposeB: boolean } };

let stockCpu: KernelConfig | null = null;

/**
 * The broadcast outer (batch) shape when `outerA` and `outerB` need general broadcasting (neither
 * equal to it nor of size 1), else null.
 */
function generalBroadcastShape(outerA: number[], outerB: number[]): number[] | null {
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const [na, nb, n] = [sizeOf(outerA), sizeOf(outerB), sizeOf(outer)];
  return (na === n && nb === n) || na === 1 || nb === 1 ? null : outer;
}

/** `x` [...outerX, r, c] copied to [...outer, r, c] under numpy broadcasting (a new TensorInfo). */
function materialise(backend: CpuBackendLike, x: TensorInfo, outer: number[], side: 'a' | 'b', other: readonly number[]): TensorInfo {
  const mat = x.shape.slice(-2);
  const size = mat[0]! * mat[1]!;
  const src = backend.readSync(x.dataId);
  const outerX = x.shape.slice(0, -2);
  // element offsets of this operand's matrix for every output batch element
  const offs = side === 'a' ? broadcastOffsets(outerX, other, outer, 0, 0, 0, size, 0, 0) : broadcastOffsets(other, outerX, outer, 0, 0, 0, 0, size, 0);
  const k = side === 'a' ? 0 : 1;
  const batch = sizeOf(outer);
  const dst = x.dtype === 'int32' ? new Int32Array(batch * size) : new Float32Array(batch * size);
  for (let i = 0; i < batch; i++) {
    const o = offs[3 * i + k]!;
    for (let j = 0; j < size; j++) dst[i * size + j] = src[o + j]!;
  }
  return backend.makeTensorInfo([...outer, ...mat], x.dtype, dst);
}

function cpuBatchMatMul(args: Args): TensorInfo {
  const stock = stockCpu!.kernelFunc as KernelFunc;
  const { a, b } = args.inputs;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = generalBroadcastShape(outerA, outerB);
  if (outer === null) return stock(args as never) as TensorInfo;
  const fa = materialise(args.backend, a, outer, 'a', outerB);
  const fb = materialise(args.backend, b, outer, 'b', outerA);
  try {
    return stock({ ...args, inputs: { a: fa, b: fb } } as never) as TensorInfo;
  } finally {
    args.backend.disposeIntermediateTensorInfo(fa);
    args.backend.disposeIntermediateTensorInfo(fb);
  }
}

/**
 * Replaces the cpu backend's BatchMatMul with the wrapper above (idempotent; a no-op when the
 * cpu backend's kernels are not registered).
 */
export function registerCpuBatchMatMul(): void {
  if (stockCpu !== null) return;
  const stock = tf.getKernel('BatchMatMul', 'cpu') as KernelConfig | undefined;
  if (stock === undefined) return;
  stockCpu = stock;
  tf.unregisterKernel('BatchMatMul', 'cpu');
  tf.registerKernel({ ...stock, kernelFunc: cpuBatchMatMul as never });
}

/**
 * Where each output matrix of a batched matmul reads its operands under numpy broadcasting of
 * the outer (batch) dims: shared by the wasm and the native-BLAS BatchMatMul kernels.
 */
import { sizeOf, stridesOf } from './wasmHeap.js';

/**
 * Offsets (a, b, c) of each output batch element under numpy broadcasting of the outer shapes (a
 * size-1 dim repeats its only element): base + index · matrix size, in the unit the bases and
 * sizes are given in (bytes on the wasm heap; elements in the cpu kernel). [3 · batch]
 */
export function broadcastOffsets(
  outerA: readonly number[],
  outerB: readonly number[],
  outer: readonly number[],
  aBase: number,
  bBase: number,
  cBase: number,
  aMat: number,
  bMat: number,
  cMat: number,
): Uint32Array {
  const rank = outer.length;
  const pad = (s: readonly number[]): number[] => [...new Array<number>(rank - s.length).fill(1), ...s];
  const pa = pad(outerA);
  const pb = pad(outerB);
  const sa = stridesOf(pa).map((s, i) => (pa[i] === 1 ? 0 : s));
  const sb = stridesOf(pb).map((s, i) => (pb[i] === 1 ? 0 : s));
  const batch = sizeOf(outer);
  const offs = new Uint32Array(3 * batch);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < batch; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      ia += idx[d]! * sa[d]!;
      ib += idx[d]! * sb[d]!;
    }
    offs[3 * i] = aBase + ia * aMat;
    offs[3 * i + 1] = bBase + ib * bMat;
    offs[3 * i + 2] = cBase + i * cMat;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outer[d]!) break;
      idx[d] = 0;
    }
  }
  return offs;
}

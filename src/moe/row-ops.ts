/**
 * Row gather / scatter-add with custom gradients built only from `gather` + `concat`.
 *
 * Why: on stock tfjs-wasm the gradient of `gather` is `unsortedSegmentSum`, which is not registered
 * (ENGINE-NOTES). The MoE dispatch needs "gather the rows routed to an expert" and its adjoint
 * "scatter-add rows back to their token". Both are written here as a pair of custom-gradient ops
 * that are each other's adjoint, so forward and backward only ever call `gather`, `concat`, `add`.
 * Indices are plain JS arrays (routing decisions are computed on the JS side), so no gradient flows
 * through index computations.
 */
import { tf } from '../engine/tf.js';

/**
 * Precomputed "slot tables" for scatter-adding P rows into R rows:
 * row r receives the rows j with idx[j] = r; slot t of row r is its t-th such j (or P = a zero row).
 */
interface SlotTables {
  /** One Int32Array of length R per slot: source row in [0, P], P means "the appended zero row". */
  slots: Int32Array[];
}

function buildSlots(idx: Int32Array, numRows: number): SlotTables {
  const P = idx.length;
  const mult = new Int32Array(numRows);
  for (let j = 0; j < P; j++) {
    const r = idx[j]!;
    if (r < 0 || r >= numRows) throw new RangeError(`row-ops: index ${r} at ${j} outside [0, ${numRows})`);
    mult[r]!++;
  }
  let maxMult = 0;
  for (let r = 0; r < numRows; r++) maxMult = Math.max(maxMult, mult[r]!);
  const slots: Int32Array[] = [];
  for (let t = 0; t < maxMult; t++) slots.push(new Int32Array(numRows).fill(P));
  const fill = new Int32Array(numRows);
  for (let j = 0; j < P; j++) {
    const r = idx[j]!;
    slots[fill[r]!]![r] = j;
    fill[r]!++;
  }
  return { slots };
}

/** y[r] = Σ_{j: idx[j] = r} v[j], written with gathers over v with an appended zero row. */
function scatterAddForward(v: tf.Tensor2D, tables: SlotTables, numRows: number): tf.Tensor2D {
  const width = v.shape[1];
  if (tables.slots.length === 0) return tf.zeros([numRows, width]);
  const padded = tf.concat([v, tf.zeros([1, width])], 0); // [P+1, w]
  let acc: tf.Tensor2D | null = null;
  for (const s of tables.slots) {
    const part = tf.gather(padded, tf.tensor1d(s, 'int32')) as tf.Tensor2D; // [R, w]
    acc = acc === null ? part : (tf.add(acc, part) as tf.Tensor2D);
  }
  return acc!;
}

/**
 * y = x[idx] (rows), x: [R, w] → y: [P, w]. Gradient: scatter-add of dy back to the rows
 * (via gathers; no unsortedSegmentSum). `idx` may repeat rows.
 */
export function gatherRows(x: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const R = x.shape[0];
  let tables: SlotTables | null = null;
  const op = tf.customGrad((...args: Array<tf.Tensor | unknown>) => {
    const xIn = args[0] as tf.Tensor2D;
    const value = tf.gather(xIn, tf.tensor1d(idx, 'int32')) as tf.Tensor2D; // [P, w]
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        tables ??= buildSlots(idx, R);
        return scatterAddRows(dy as tf.Tensor2D, idx, R, tables);
      },
    };
  });
  return op(x) as tf.Tensor2D;
}

/**
 * y[r] = Σ_{j: idx[j] = r} v[j], v: [P, w] → y: [numRows, w] (rows nobody writes are 0).
 * Gradient: gather of dy at idx.
 */
export function scatterAddRows(
  v: tf.Tensor2D,
  idx: Int32Array,
  numRows: number,
  tables?: SlotTables,
): tf.Tensor2D {
  if (idx.length !== v.shape[0]) {
    throw new RangeError(`scatterAddRows: ${idx.length} indices for ${v.shape[0]} rows`);
  }
  const tb = tables ?? buildSlots(idx, numRows);
  const op = tf.customGrad((...args: Array<tf.Tensor | unknown>) => {
    const vIn = args[0] as tf.Tensor2D;
    const value = scatterAddForward(vIn, tb, numRows); // [R, w]
    return { value, gradFunc: (dy: tf.Tensor) => gatherRows(dy as tf.Tensor2D, idx) };
  });
  return op(v) as tf.Tensor2D;
}

/**
 * ONNX emitters of the modality encoders (src/encoders), mirroring their inference path:
 * mTAND (per-variable and shared masking, keep-last-k), UTDE (LOCF discretisation onto the γ
 * reference points, causal convolution, gated mix with mTAND), the summary-statistics encoder,
 * the static-vector encoder and the summary-token wrapper.
 *
 * What the TypeScript encoders compute on the JS side from the batch arrays (LOCF bins, summary
 * statistics, masks) is computed here by graph ops from the same padded input tensors, so the
 * file needs nothing but the tensors of docs/EXPORT.md ("ONNX"). It relies on what makeBatch
 * guarantees: a sample's real time steps come first, in ascending, distinct time order.
 */
import type { ModalityEncoder } from '../../encoders/encoder.js';
import { MTandEncoder, type MTand } from '../../encoders/mtand.js';
import { UtdeEncoder } from '../../encoders/utde.js';
import { MeanPoolEncoder, statsPerVariable } from '../../encoders/meanPoolEncoder.js';
import { TimedEmbeddingEncoder } from '../../encoders/timedEmbedding.js';
import { StaticEncoder } from '../../encoders/staticEncoder.js';
import { WithSummaryToken } from '../../encoders/withSummaryToken.js';
import { referencePoints } from '../../encoders/batchArrays.js';
import type { OnnxGraph } from './graph.js';
import { linear, mlp, refuse, timeEmbedding } from './layers.js';

/** Graph inputs of one modality (names of graph values). */
export type ModalityInputs =
  | { kind: 'timeseries'; values: string; mask: string; times: string; timeMask: string; V: number }
  | { kind: 'embedding'; values: string; times: string; timeMask: string; D: number }
  | { kind: 'static'; values: string; mask: string; F: number };

/** Encoder output: tokens [B, L, d] (zero rows where empty) and empty [B] (1.0 / 0.0). */
export interface EncodedTokens {
  tokens: string;
  empty: string;
  L: number;
}

/** Emit the encoder of one modality. */
export function encoder(g: OnnxGraph, enc: ModalityEncoder, inp: ModalityInputs): EncodedTokens {
  if (enc instanceof WithSummaryToken) {
    const parts = enc as unknown as { base: ModalityEncoder; summary: ModalityEncoder };
    const a = encoder(g, parts.base, inp);
    const b = encoder(g, parts.summary, inp);
    return { tokens: g.concat([a.tokens, b.tokens], 1), empty: a.empty, L: a.L + b.L };
  }
  if (enc instanceof MTandEncoder) {
    const ts = expect(inp, 'timeseries', enc.name);
    const { z, empty } = mtandCore(g, enc.mtand, ts.times, ts.timeMask, ts.values, ts.mask, 0);
    return { tokens: z, empty, L: enc.numTokens };
  }
  if (enc instanceof UtdeEncoder) return utde(g, enc, expect(inp, 'timeseries', enc.name));
  if (enc instanceof MeanPoolEncoder) return meanPool(g, enc, expect(inp, 'timeseries', enc.name));
  if (enc instanceof TimedEmbeddingEncoder) {
    const em = expect(inp, 'embedding', enc.name);
    const { z, empty } = mtandCore(g, enc.mtand, em.times, em.timeMask, em.values, null, enc.keepLast);
    return { tokens: z, empty, L: enc.numTokens };
  }
  if (enc instanceof StaticEncoder) {
    const st = expect(inp, 'static', enc.name);
    const m = g.positive(st.mask); // [B, F]
    const x = g.concat([g.mul(st.values, m), m], 1); // [B, 2F]
    const y = mlp(g, x, enc.mlp); // [B, n·d]
    const empty = g.oneMinus(g.reduceMax(m, [1], false)); // [B]
    const tokens = g.reshape(g.mul(y, g.unsqueeze(g.oneMinus(empty), [1])), [-1, enc.numTokens, enc.dim]); // [B, n, d]
    return { tokens, empty, L: enc.numTokens };
  }
  return refuse(`encoder '${enc.name}' (${enc.constructor.name})`, 'only the mtand, utde, mean-pool-mlp, timed-embedding and static encoders are exported');
}

function expect<K extends ModalityInputs['kind']>(inp: ModalityInputs, kind: K, name: string): Extract<ModalityInputs, { kind: K }> {
  if (inp.kind !== kind) refuse(`encoder '${name}' on a ${inp.kind} modality`, `the encoder expects a ${kind} modality`);
  return inp as Extract<ModalityInputs, { kind: K }>;
}

/** 1, 2, …, T along axis 1 of a [B, T] tensor (float). */
function stepIndex(g: OnnxGraph, like: string): string {
  const ones = g.add(g.mul(like, g.const(0)), g.const(1)); // [B, T]
  return g.node('CumSum', [ones, g.const(1, 'int64')]); // [B, T]
}

/**
 * The mTAND core (src/encoders/mtand.ts): per-variable masking when `mask` is given (values ⊕
 * mask channels), else shared masking by the time mask (timed embeddings, keep-last-k).
 * times, timeMask [B, T]; values (mask) [B, T, V] → z [B, γ, d], empty [B].
 */
export function mtandCore(g: OnnxGraph, mt: MTand, times: string, timeMask: string, values: string, mask: string | null, keepLast: number): { z: string; empty: string } {
  const h = mt.heads;
  const dk = mt.dt / h;
  const gamma = mt.gamma;
  const V = mt.inputDim;
  const C = mt.channels;
  // queries of the reference points: [h, γ, dk]
  const refs = g.const(Array.from(referencePoints(gamma)), 'float32', [gamma]);
  const Q = linear(g, timeEmbedding(g, refs, mt.time), mt.q); // [γ, d_t]
  const Qh = g.transpose(g.reshape(Q, [gamma, h, dk]), [1, 0, 2]); // [h, γ, dk]
  const K = linear(g, timeEmbedding(g, times, mt.time), mt.k); // [B, T, d_t]
  const Kh = g.transpose(g.reshape(K, [0, 0, h, dk]), [0, 2, 3, 1]); // [B, h, dk, T]
  const S = g.mul(g.matmul(Qh, Kh), g.const(1 / Math.sqrt(dk))); // [B, h, γ, T]
  let real = g.positive(timeMask); // [B, T]
  if (mask === null && keepLast > 0) {
    // keep the last k real steps (real steps come first, ascending in time)
    const after = g.sub(g.reduceSum(real, [1]), g.node('CumSum', [real, g.const(1, 'int64')])); // [B, T] real steps after t
    real = g.mul(real, g.cast(g.node('Less', [after, g.const(keepLast)]), 'float32'));
  }
  const pad = g.unsqueeze(g.mul(g.sub(real, g.const(1)), g.const(1e9)), [1, 2]); // [B, 1, 1, T]
  const Sm = g.add(S, pad);
  const E = g.reshape(g.node('Exp', [g.sub(Sm, g.reduceMax(Sm, [-1]))]), [0, h * gamma, -1]); // [B, hγ, T]
  let I: string;
  let empty: string;
  if (mask !== null) {
    const m = g.mul(g.positive(mask), g.unsqueeze(real, [2])); // [B, T, V]
    const vx = g.concat([g.mul(values, m), m], 2); // [B, T, 2V]
    const num = g.matmul(E, vx); // [B, hγ, 2V]
    const has = g.reduceMax(m, [1]); // [B, 1, V]
    const den = g.add(g.slice(num, 2, V, 2 * V), g.add(g.oneMinus(has), g.const(1e-30))); // [B, hγ, V]
    I = g.div(num, g.concat([den, den], 2)); // [B, hγ, 2V]
    empty = g.oneMinus(g.reduceMax(m, [1, 2], false)); // [B]
  } else {
    const m = g.unsqueeze(real, [2]); // [B, T, 1]
    const num = g.matmul(E, g.mul(values, m)); // [B, hγ, D]
    const has = g.reduceMax(m, [1]); // [B, 1, 1]
    const den = g.add(g.matmul(E, m), g.add(g.oneMinus(has), g.const(1e-30))); // [B, hγ, 1]
    I = g.div(num, den); // [B, hγ, D]
    empty = g.oneMinus(g.reduceMax(real, [1], false)); // [B]
  }
  const Ih = g.reshape(g.transpose(g.reshape(I, [-1, h, gamma, C]), [0, 2, 1, 3]), [-1, gamma, h * C]); // [B, γ, h·C]
  const keep = g.unsqueeze(g.oneMinus(empty), [1, 2]); // [B, 1, 1]
  return { z: g.mul(linear(g, Ih, mt.out), keep), empty };
}

/** UTDE (src/encoders/utde.ts + discretise.ts). → tokens [B, γ, d] */
function utde(g: OnnxGraph, enc: UtdeEncoder, ts: Extract<ModalityInputs, { kind: 'timeseries' }>): EncodedTokens {
  if (enc.timeSinceLast) refuse(`UTDE time-since-last channel of encoder '${enc.name}'`, 'export a model trained without timeSinceLast');
  const gamma = enc.mtand.gamma;
  const k = enc.kernelSize;
  const { z: eMtand, empty } = mtandCore(g, enc.mtand, ts.times, ts.timeMask, ts.values, ts.mask, 0); // [B, γ, d]
  const real = g.positive(ts.timeMask); // [B, T]
  const m = g.mul(g.positive(ts.mask), g.unsqueeze(real, [2])); // [B, T, V]
  // bin of each time step, in float64 exactly as binOf (discretise.ts)
  let bin: string;
  if (gamma === 1) bin = g.mul(ts.times, g.const(0));
  else {
    const tau = g.node('Clip', [g.cast(ts.times, 'float64'), g.const(0, 'float64'), g.const(1, 'float64')]);
    const raw = g.node('Ceil', [g.sub(g.mul(tau, g.const(gamma - 1, 'float64')), g.const(1e-4, 'float64'))]);
    bin = g.cast(g.node('Clip', [raw, g.const(0, 'float64'), g.const(gamma - 1, 'float64')]), 'float32'); // [B, T]
  }
  const binB = g.unsqueeze(bin, [1]); // [B, 1, T]
  const refIdx = g.const(Array.from({ length: gamma }, (_, i) => i), 'float32', [gamma, 1]); // [γ, 1]
  const le = g.cast(g.node('LessOrEqual', [binB, refIdx]), 'float32'); // [B, γ, T]
  const eq = g.cast(g.node('Equal', [binB, refIdx]), 'float32'); // [B, γ, T]
  // LOCF: the value of the latest observed step whose bin ≤ g
  const cand = g.mul(g.unsqueeze(le, [3]), g.unsqueeze(g.mul(m, g.unsqueeze(stepIndex(g, real), [2])), [1])); // [B, γ, T, V]
  const best = g.reduceMax(cand, [2]); // [B, γ, 1, V]
  const sel = g.mul(g.cast(g.node('Equal', [cand, best]), 'float32'), g.positive(best)); // [B, γ, T, V]
  const locf = g.reduceSum(g.mul(sel, g.unsqueeze(ts.values, [1])), [2], false); // [B, γ, V]
  const observed = g.positive(g.matmul(eq, m)); // [B, γ, V]
  const F = g.concat([locf, observed], 2); // [B, γ, 2V]
  const shifts = Array.from({ length: k }, (_, j) =>
    j === 0 ? F : g.slice(g.node('Pad', [F, g.ints([0, j, 0, 0, 0, 0]), g.const(0)]), 1, 0, gamma),
  ); // block j = step i − j
  const eImp = linear(g, g.concat(shifts, 2), enc.conv); // [B, γ, d]
  const gl = mlp(g, g.concat([eImp, eMtand], 2), enc.gate); // [B, γ, d]
  const gate = g.node('Sigmoid', [gl]);
  const mixed = g.add(g.mul(gate, eImp), g.mul(g.oneMinus(gate), eMtand));
  return { tokens: g.mul(mixed, g.unsqueeze(g.oneMinus(empty), [1, 2])), empty, L: gamma };
}

/** Summary statistics → MLP → one token (src/encoders/meanPoolEncoder.ts). → [B, 1, d] */
function meanPool(g: OnnxGraph, enc: MeanPoolEncoder, ts: Extract<ModalityInputs, { kind: 'timeseries' }>): EncodedTokens {
  const V = ts.V;
  const S = statsPerVariable(enc.stats);
  const real = g.positive(ts.timeMask); // [B, T]
  const m = g.mul(g.positive(ts.mask), g.unsqueeze(real, [2])); // [B, T, V]
  const x = ts.values;
  const tIdx = g.unsqueeze(stepIndex(g, real), [2]); // [B, T, 1] 1..T
  const tRev = g.sub(g.add(g.reduceSum(g.add(g.mul(real, g.const(0)), g.const(1)), [1]), g.const(1)), stepIndex(g, real)); // [B, T] T..1
  const n = g.reduceSum(m, [1], false); // [B, V]
  const pick = (order: string): string => {
    const cand = g.mul(m, order); // [B, T, V]
    const best = g.reduceMax(cand, [1]); // [B, 1, V]
    return g.mul(g.cast(g.node('Equal', [cand, best]), 'float32'), g.positive(best)); // one-hot over T
  };
  const selLast = pick(tIdx);
  const selFirst = pick(g.unsqueeze(tRev, [2]));
  const sumOver = (a: string): string => g.reduceSum(a, [1], false); // [B, V]
  const last = sumOver(g.mul(selLast, x));
  const lastT = sumOver(g.mul(selLast, g.unsqueeze(ts.times, [2])));
  const mean = g.div(sumOver(g.mul(m, x)), g.node('Max', [n, g.const(1)]));
  const logCount = g.node('Log', [g.add(n, g.const(1))]);
  const stats = [last, mean, logCount, lastT];
  if (S === 7) {
    const hasAny = g.node('Greater', [n, g.const(0)]); // [B, V] bool
    const obs = g.node('Greater', [m, g.const(0)]);
    const big = 3.0e38;
    const mn = g.reduceMin(g.node('Where', [obs, x, g.const(big)]), [1], false);
    const mx = g.reduceMax(g.node('Where', [obs, x, g.const(-big)]), [1], false);
    stats.push(g.node('Where', [hasAny, mn, g.const(0)]), g.node('Where', [hasAny, mx, g.const(0)]), sumOver(g.mul(selFirst, x)));
  }
  const feats = g.reshape(g.concat(stats.map((s) => g.unsqueeze(s, [2])), 2), [-1, V * S]); // [B, V·S] variable-major
  const y = mlp(g, feats, enc.mlp); // [B, d]
  const empty = g.oneMinus(g.reduceMax(g.positive(ts.mask), [1, 2], false)); // [B] (emptyRows: any mask entry)
  const tokens = g.reshape(g.mul(y, g.unsqueeze(g.oneMinus(empty), [1])), [-1, 1, enc.dim]); // [B, 1, d]
  return { tokens, empty, L: 1 };
}

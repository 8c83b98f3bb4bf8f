/**
 * Pure JS helpers over the typed arrays of a modality batch (no tensors, no gradients):
 * batch size, shape validation, "empty" flags, evenly spaced reference points.
 */
import { FlexiModalError } from '../errors.js';
import type { ModalityBatch, TimeSeriesBatch, EmbeddingBatch, StaticBatch } from '../data/batchTypes.js';

/** Number of samples in a modality batch (validating the array lengths). */
export function batchSizeOf(batch: ModalityBatch, where: string): number {
  const fail = (msg: string): never => {
    throw new FlexiModalError(msg, { where, hint: 'build batches with makeBatch (src/data/batch.ts)' });
  };
  if (batch.kind === 'static') {
    const { F } = batch;
    if (F < 1 || batch.values.length % F !== 0 || batch.mask.length !== batch.values.length) {
      fail(`static batch arrays do not match F=${F} (values ${batch.values.length}, mask ${batch.mask.length})`);
    }
    return batch.values.length / F;
  }
  const { T } = batch;
  if (T < 1 || batch.times.length % T !== 0 || batch.timeMask.length !== batch.times.length) {
    fail(`${batch.kind} batch: times/timeMask lengths (${batch.times.length}, ${batch.timeMask.length}) do not match T=${T}`);
  }
  const B = batch.times.length / T;
  const W = batch.kind === 'timeseries' ? batch.V : batch.D;
  if (batch.values.length !== B * T * W) fail(`${batch.kind} batch: values length ${batch.values.length} ≠ B·T·${W}`);
  if (batch.kind === 'timeseries' && batch.mask.length !== B * T * W) {
    fail(`timeseries batch: mask length ${batch.mask.length} ≠ B·T·V`);
  }
  return B;
}

/** Throw unless `batch` has the expected kind. */
export function expectKind<K extends ModalityBatch['kind']>(
  batch: ModalityBatch,
  kind: K,
  where: string,
): asserts batch is Extract<ModalityBatch, { kind: K }> {
  if (batch.kind !== kind) {
    throw new FlexiModalError(`expected a ${kind} batch, got ${batch.kind}`, {
      where,
      hint: 'pick the encoder kind that matches the modality spec',
    });
  }
}

/**
 * 1 for samples with no observation at all in this modality, else 0.  [B]
 * (time series: no mask entry; embeddings: no real time step; static: no observed feature)
 */
export function emptyRows(batch: ModalityBatch, B: number): Float32Array {
  const out = new Float32Array(B);
  const m = batch.kind === 'embedding' ? batch.timeMask : (batch as TimeSeriesBatch | StaticBatch).mask;
  const per = m.length / Math.max(1, B);
  for (let b = 0; b < B; b++) {
    let any = false;
    for (let j = b * per; j < (b + 1) * per && !any; j++) any = m[j]! > 0;
    out[b] = any ? 0 : 1;
  }
  return out;
}

/** γ reference points evenly spaced over [0, 1]: r_i = i/(γ−1); r = [1] when γ = 1.  [γ] */
export function referencePoints(gamma: number): Float32Array {
  const r = new Float32Array(gamma);
  if (gamma === 1) r[0] = 1;
  else for (let i = 0; i < gamma; i++) r[i] = i / (gamma - 1);
  return r;
}

/**
 * Keep only the last k real time steps of each sample (by time): returns a new time mask.  [B, T]
 * Used for the "last 5 notes" option of timed-embedding modalities.
 */
export function keepLastK(batch: EmbeddingBatch | TimeSeriesBatch, B: number, k: number): Float32Array {
  const { T } = batch;
  const out = new Float32Array(batch.timeMask);
  for (let b = 0; b < B; b++) {
    const idx: number[] = [];
    for (let t = 0; t < T; t++) if (batch.timeMask[b * T + t]! > 0) idx.push(t);
    idx.sort((i, j) => batch.times[b * T + i]! - batch.times[b * T + j]! || i - j);
    for (let n = 0; n < idx.length - k; n++) out[b * T + idx[n]!] = 0;
  }
  return out;
}

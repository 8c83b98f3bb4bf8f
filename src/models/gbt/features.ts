/**
 * Tabular features of a batch for gradient-boosted trees: per-variable summary statistics of each
 * time series, the static values, per-dimension means of timed embeddings, and one presence
 * indicator per modality. NaN marks a missing value (XGBoost learns a default direction for it).
 *
 * Values are those of the batch: normalised with the normaliser fitted on the training split
 * (src/data/normalize.ts) and limited to the latest `train.maxTimesteps` observation times, the same
 * input every other model sees. Trees are invariant to the per-variable affine standardisation, so
 * the statistics carry the same information as raw ones.
 *
 * Layout, modality by modality in spec order, then the indicators:
 *  - timeseries, per variable v: last, first, min, max, mean, std (population), count
 *    (stats NaN when v has no observation; count 0)
 *  - embedding: mean of each of the D dimensions over the sample's vectors, then count
 *  - static: each feature's value (NaN when missing)
 *  - per modality: present (1 / 0)
 */
import type { DatasetSpec } from '../../data/schema.js';
import type { Batch } from '../../data/batchTypes.js';

/** The statistics of each time-series variable, in feature order. */
export const SERIES_STATS = ['last', 'first', 'min', 'max', 'mean', 'std', 'count'] as const;

/** Names of the features `treeFeatures` produces for `spec`, in column order. */
export function treeFeatureNames(spec: DatasetSpec): string[] {
  const names: string[] = [];
  for (const m of spec.modalities) {
    if (m.kind === 'timeseries') for (const v of m.variables) for (const s of SERIES_STATS) names.push(`${m.name}.${v}.${s}`);
    else if (m.kind === 'embedding') {
      for (let d = 0; d < m.dim; d++) names.push(`${m.name}.dim${d}.mean`);
      names.push(`${m.name}.count`);
    } else for (const f of m.features) names.push(`${m.name}.${f}`);
  }
  for (const m of spec.modalities) names.push(`${m.name}.present`);
  return names;
}

/** Feature matrix of a batch: [B, F] row-major float32, F = treeFeatureNames(spec).length. */
export function treeFeatures(spec: DatasetSpec, batch: Batch): { values: Float32Array; rows: number; cols: number } {
  const B = batch.size;
  const M = spec.modalities.length;
  const cols = featureCount(spec);
  const out = new Float32Array(B * cols).fill(Number.NaN);
  let col = 0;
  for (const m of spec.modalities) {
    const mb = batch.modalities[m.name];
    if (!mb) throw new Error(`batch has no modality '${m.name}'`);
    if (mb.kind === 'timeseries') {
      const { T, V } = mb;
      for (let b = 0; b < B; b++) {
        for (let v = 0; v < V; v++) {
          let n = 0;
          let first = NaN;
          let last = NaN;
          let min = Infinity;
          let max = -Infinity;
          let sum = 0;
          let sumSq = 0;
          for (let t = 0; t < T; t++) {
            const i = (b * T + t) * V + v;
            if (mb.timeMask[b * T + t] === 0 || mb.mask[i] === 0) continue;
            const x = mb.values[i]!;
            if (n === 0) first = x;
            last = x;
            if (x < min) min = x;
            if (x > max) max = x;
            sum += x;
            sumSq += x * x;
            n++;
          }
          const o = b * cols + col + v * SERIES_STATS.length;
          if (n > 0) {
            const mean = sum / n;
            out[o] = last;
            out[o + 1] = first;
            out[o + 2] = min;
            out[o + 3] = max;
            out[o + 4] = mean;
            out[o + 5] = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
          }
          out[o + 6] = n;
        }
      }
      col += V * SERIES_STATS.length;
    } else if (mb.kind === 'embedding') {
      const { T, D } = mb;
      for (let b = 0; b < B; b++) {
        const o = b * cols + col;
        let n = 0;
        const sums = new Float64Array(D);
        for (let t = 0; t < T; t++) {
          if (mb.timeMask[b * T + t] === 0) continue;
          n++;
          for (let d = 0; d < D; d++) sums[d]! += mb.values[(b * T + t) * D + d]!;
        }
        if (n > 0) for (let d = 0; d < D; d++) out[o + d] = sums[d]! / n;
        out[o + D] = n;
      }
      col += D + 1;
    } else {
      const { F } = mb;
      for (let b = 0; b < B; b++) {
        for (let f = 0; f < F; f++) if (mb.mask[b * F + f] !== 0) out[b * cols + col + f] = mb.values[b * F + f]!;
      }
      col += F;
    }
  }
  for (let b = 0; b < B; b++) for (let m = 0; m < M; m++) out[b * cols + col + m] = batch.present[b * M + m]!;
  return { values: out, rows: B, cols };
}

function featureCount(spec: DatasetSpec): number {
  let n = spec.modalities.length;
  for (const m of spec.modalities) n += m.kind === 'timeseries' ? m.variables.length * SERIES_STATS.length : m.kind === 'embedding' ? m.dim + 1 : m.features.length;
  return n;
}

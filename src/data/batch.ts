/**
 * Dense, padded batches (plain typed arrays, see batchTypes.ts) from samples, and a batch
 * iterator. Time series are laid out on the union of a sample's distinct observation times of
 * that modality; only the LAST `maxTimesteps` times are kept (truncations are counted).
 */
import { FlexiModalError } from '../errors.js';
import type { Rng } from '../engine/rng.js';
import type { Batch, ModalityBatch } from './batchTypes.js';
import type { DatasetSpec, ModalityData, Sample } from './schema.js';
import { hasModality } from './schema.js';
import { transformValue, type Normalizer } from './normalize.js';

/** Counts of what makeBatch truncated or clipped (accumulated across calls when reused). */
export interface BatchCounters {
  /** Distinct time steps removed because a sample had more than maxTimesteps. */
  truncatedTimesteps: number;
  /** Observations (time-series values or embedding vectors) at removed time steps. */
  truncatedObservations: number;
  /** Values clipped to ±clip by the normaliser. */
  clippedValues: number;
}

/** A fresh zeroed counter object. */
export function newBatchCounters(): BatchCounters {
  return { truncatedTimesteps: 0, truncatedObservations: 0, clippedValues: 0 };
}

/** Options of `makeBatch`. */
export interface MakeBatchOptions {
  /** Keep at most this many distinct times per sample and modality: the last ones (default 256). */
  maxTimesteps?: number;
  /** Incremented with what was truncated / clipped. */
  counters?: BatchCounters;
}

/**
 * Build a dense batch. Time-series values are standardised with the normaliser ((x−mean)/std,
 * clipped when the normaliser has `clip`), 0 where unobserved; times are scaled by
 * spec.horizonHours. T is the largest number of kept distinct times in the batch (at least 1,
 * so a modality missing in every sample still has shape [B, 1, V] with all-zero masks).
 */
export function makeBatch(spec: DatasetSpec, samples: Sample[], normalizer: Normalizer | null, opts: MakeBatchOptions = {}): Batch {
  const maxT = opts.maxTimesteps ?? 256;
  if (!(maxT >= 1) || !Number.isInteger(maxT)) {
    throw new FlexiModalError(`maxTimesteps must be a positive integer, got ${maxT}`, { where: 'maxTimesteps' });
  }
  const counters = opts.counters ?? newBatchCounters();
  const B = samples.length;
  const M = spec.modalities.length;
  const H = spec.horizonHours;
  const modalities: Record<string, ModalityBatch> = {};
  const clip = normalizer?.clip ?? null;
  const norm = (stats: { mean: number[]; std: number[]; log?: boolean[] } | undefined, j: number, x: number, doClip: boolean): number => {
    if (!stats) return x;
    let z = (transformValue(stats, j, x) - stats.mean[j]!) / stats.std[j]!;
    if (doClip && clip !== null) {
      if (z > clip) {
        z = clip;
        counters.clippedValues++;
      } else if (z < -clip) {
        z = -clip;
        counters.clippedValues++;
      }
    }
    return z;
  };

  for (const m of spec.modalities) {
    const stats = normalizer?.modalities[m.name];
    if (m.kind === 'static') {
      const F = m.features.length;
      const values = new Float32Array(B * F);
      const mask = new Float32Array(B * F);
      samples.forEach((s, b) => {
        const d = s.modalities[m.name];
        if (!d) return;
        if (d.kind !== 'static' || d.values.length !== F) throw kindError(s, m.name, 'static', F);
        for (let f = 0; f < F; f++) {
          const x = d.values[f]!;
          if (Number.isNaN(x)) continue;
          values[b * F + f] = norm(stats, f, x, true);
          mask[b * F + f] = 1;
        }
      });
      modalities[m.name] = { kind: 'static', F, values, mask };
      continue;
    }
    // Distinct times per sample (data are sorted by time), keeping the last maxT.
    const kept: { start: number; times: number[]; stepStart: number[] }[] = [];
    let T = 1;
    for (const s of samples) {
      const d: ModalityData | undefined = s.modalities[m.name];
      if (!d) {
        kept.push({ start: 0, times: [], stepStart: [] });
        continue;
      }
      if (d.kind !== m.kind) throw kindError(s, m.name, m.kind);
      const times: number[] = [];
      const stepStart: number[] = [];
      for (let i = 0; i < d.times.length; i++) {
        const t = d.times[i]!;
        if (i > 0 && t < d.times[i - 1]!) {
          throw new FlexiModalError(`times of modality "${m.name}" are not ascending`, { where: `sample ${s.id}` });
        }
        if (i === 0 || t !== d.times[i - 1]) {
          times.push(t);
          stepStart.push(i);
        }
      }
      let first = 0;
      if (times.length > maxT) {
        first = times.length - maxT;
        counters.truncatedTimesteps += first;
        counters.truncatedObservations += stepStart[first]!;
      }
      kept.push({ start: first, times: times.slice(first), stepStart: stepStart.slice(first) });
      T = Math.max(T, times.length - first);
    }
    const tOut = new Float32Array(B * T);
    const timeMask = new Float32Array(B * T);
    if (m.kind === 'timeseries') {
      const V = m.variables.length;
      const values = new Float32Array(B * T * V);
      const mask = new Float32Array(B * T * V);
      samples.forEach((s, b) => {
        const d = s.modalities[m.name];
        const k = kept[b]!;
        if (!d || d.kind !== 'timeseries' || k.times.length === 0) return;
        for (let step = 0; step < k.times.length; step++) {
          tOut[b * T + step] = k.times[step]! / H;
          timeMask[b * T + step] = 1;
          const end = step + 1 < k.stepStart.length ? k.stepStart[step + 1]! : d.times.length;
          for (let i = k.stepStart[step]!; i < end; i++) {
            const v = d.variables[i]!;
            if (v < 0 || v >= V) {
              throw new FlexiModalError(`variable index ${v} out of range for "${m.name}" (${V} variables)`, { where: `sample ${s.id}` });
            }
            const o = (b * T + step) * V + v;
            values[o] = norm(stats, v, d.values[i]!, true);
            mask[o] = 1;
          }
        }
      });
      modalities[m.name] = { kind: 'timeseries', T, V, times: tOut, timeMask, values, mask };
    } else {
      const D = m.dim;
      const values = new Float32Array(B * T * D);
      samples.forEach((s, b) => {
        const d = s.modalities[m.name];
        const k = kept[b]!;
        if (!d || d.kind !== 'embedding' || k.times.length === 0) return;
        // Several vectors at one time: they share the step; averaged.
        for (let step = 0; step < k.times.length; step++) {
          tOut[b * T + step] = k.times[step]! / H;
          timeMask[b * T + step] = 1;
          const end = step + 1 < k.stepStart.length ? k.stepStart[step + 1]! : d.times.length;
          const cnt = end - k.stepStart[step]!;
          for (let i = k.stepStart[step]!; i < end; i++) {
            const vec = d.vectors[i]!;
            if (vec.length !== D) throw kindError(s, m.name, 'embedding', D);
            const o = (b * T + step) * D;
            for (let j = 0; j < D; j++) values[o + j]! += norm(stats, j, vec[j]!, false) / cnt;
          }
        }
      });
      modalities[m.name] = { kind: 'embedding', T, D, times: tOut, timeMask, values };
    }
  }

  const present = new Float32Array(B * M);
  const groupIds = new Int32Array(B);
  samples.forEach((s, b) => {
    let g = 0;
    spec.modalities.forEach((m, i) => {
      if (hasModality(s, m.name)) {
        present[b * M + i] = 1;
        g |= 1 << i;
      }
    });
    groupIds[b] = g;
  });

  const task = spec.task;
  const L = task.kind === 'multilabel' ? task.labels.length : 1;
  const labels = new Float32Array(B * L);
  samples.forEach((s, b) => {
    if (task.kind === 'multilabel') {
      const y = s.label;
      if (!Array.isArray(y) || y.length !== L) {
        throw new FlexiModalError(`multilabel label must be an array of ${L} 0/1 values`, { where: `sample ${s.id}` });
      }
      for (let l = 0; l < L; l++) labels[b * L + l] = y[l]!;
    } else {
      if (typeof s.label !== 'number') {
        throw new FlexiModalError(`${task.kind} label must be a number`, { where: `sample ${s.id}` });
      }
      labels[b] = s.label;
    }
  });

  return { size: B, ids: samples.map((s) => s.id), modalities, present, groupIds, labels };
}

function kindError(s: Sample, name: string, kind: string, width?: number): FlexiModalError {
  return new FlexiModalError(
    `modality "${name}" does not match the spec (expected ${kind}${width !== undefined ? ` of width ${width}` : ''})`,
    { where: `sample ${s.id}` },
  );
}

/**
 * Split samples into consecutive batches of `batchSize` (the last one may be smaller). With
 * `shuffle` (default: true when an rng is given) the order is a seeded permutation (the input
 * array is not modified).
 */
export function* batchIterator<T>(samples: T[], batchSize: number, rng?: Rng, shuffle: boolean = rng !== undefined): Generator<T[]> {
  if (!(batchSize >= 1) || !Number.isInteger(batchSize)) {
    throw new FlexiModalError(`batch size must be a positive integer, got ${batchSize}`, { where: 'batchSize' });
  }
  let order = samples;
  if (shuffle) {
    if (!rng) throw new FlexiModalError('shuffle needs an Rng', { where: 'batchIterator' });
    order = rng.shuffle([...samples]);
  }
  for (let i = 0; i < order.length; i += batchSize) yield order.slice(i, i + batchSize);
}

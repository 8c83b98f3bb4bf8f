/**
 * Training-time augmentation of FlexiModal samples (never applied to validation, test or
 * prediction):
 *  - observation dropout: each observation of a time-series or timed-embedding modality is removed
 *    independently with probability `dropObservations` (irregular sampling made sparser);
 *  - modality dropout: each present modality is removed with probability `dropModalities`, so the
 *    model (and its missing-modality embeddings) learns from the modality combinations it will
 *    meet at test time. A sample never loses its last present modality.
 * The input samples are not modified; augmented copies share untouched arrays.
 */
import type { ModalityData, Sample } from '../data/schema.js';
import { hasModality } from '../data/schema.js';
import type { Rng } from '../engine/rng.js';

export interface AugmentConfig {
  /** Probability of removing each observation (0 = off). */
  dropObservations: number;
  /** Probability of removing each present modality (0 = off). */
  dropModalities: number;
}

/** What one call removed (for the training log). */
export interface AugmentCounts {
  observationsDropped: number;
  modalitiesDropped: number;
}

/** True when the config changes anything. */
export function augmentEnabled(cfg: AugmentConfig | undefined): cfg is AugmentConfig {
  return !!cfg && (cfg.dropObservations > 0 || cfg.dropModalities > 0);
}

/** Augmented copies of `samples`; `counts` (if given) accumulates what was removed. */
export function augmentSamples(samples: Sample[], cfg: AugmentConfig, rng: Rng, counts?: AugmentCounts): Sample[] {
  checkProbability(cfg.dropObservations, 'train.augment.dropObservations');
  checkProbability(cfg.dropModalities, 'train.augment.dropModalities');
  return samples.map((s) => augmentSample(s, cfg, rng, counts));
}

function augmentSample(sample: Sample, cfg: AugmentConfig, rng: Rng, counts?: AugmentCounts): Sample {
  const names = Object.keys(sample.modalities).filter((n) => hasModality(sample, n));
  let present = names.length;
  const modalities: Record<string, ModalityData | undefined> = { ...sample.modalities };
  for (const name of names) {
    if (cfg.dropModalities > 0 && present > 1 && rng.next() < cfg.dropModalities) {
      modalities[name] = undefined;
      present--;
      if (counts) counts.modalitiesDropped++;
      continue;
    }
    if (cfg.dropObservations > 0) modalities[name] = thin(modalities[name]!, cfg.dropObservations, rng, counts);
  }
  return { ...sample, modalities };
}

/** Remove each observation with probability p; keeps at least one observation. */
function thin(data: ModalityData, p: number, rng: Rng, counts?: AugmentCounts): ModalityData {
  if (data.kind === 'static') return data;
  const n = data.times.length;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (rng.next() >= p) keep.push(i);
  if (keep.length === 0 && n > 0) keep.push(rng.int(n));
  if (counts) counts.observationsDropped += n - keep.length;
  if (keep.length === n) return data;
  const times = Float64Array.from(keep, (i) => data.times[i]!);
  if (data.kind === 'timeseries') {
    return { kind: 'timeseries', times, variables: Int32Array.from(keep, (i) => data.variables[i]!), values: Float64Array.from(keep, (i) => data.values[i]!) };
  }
  return { kind: 'embedding', times, vectors: keep.map((i) => data.vectors[i]!) };
}

function checkProbability(p: number, key: string): void {
  if (!(p >= 0 && p < 1)) throw new RangeError(`${key} must be in [0, 1), got ${p}`);
}

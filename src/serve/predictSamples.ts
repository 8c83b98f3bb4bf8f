/**
 * Samples → predictions (probabilities, plus — with `explain` — the per-modality attribution and
 * routing statistics), and raw sample objects → validated samples matched to the model's spec by
 * name (src/data/inputRecords.ts: the one input check). No file access and no engine set-up here:
 * shared by the Node serving API (src/serve/predictor.ts, `fleximodal predict`, the HTTP server)
 * and the browser build (src/browser/).
 */
import { tf } from '../engine/tf.js';
import type { ModelMeta } from '../models/modelFiles.js';
import type { FusionModel, SampleExplanation } from '../models/model.js';
import { explainPredictions } from './explain.js';
import { makeBatch } from '../data/batch.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import { logitsToProbs } from '../train/taskLoss.js';
import { FlexiModalError } from '../errors.js';
import { RangePolicy } from '../data/ranges.js';
import { alignSample } from '../data/specMatch.js';
import { inputAlignment, parseInputRecords } from '../data/inputRecords.js';
import { applyInputBounds, type OutOfRangeMark, type OutOfRangePolicy } from '../data/inputBounds.js';
import { hasNoModality, listIds } from '../data/report.js';

/** One prediction. */
export interface Prediction {
  id: string;
  /** Binary: probability of the positive class. */
  risk?: number;
  /** Class / label name → probability. */
  probs: Record<string, number>;
  /** Multiclass: the most probable class. Binary: risk ≥ the validation threshold. */
  predicted?: string | boolean;
  explanation?: SampleExplanation;
  /** Set when the sample has no modality at all: the prediction is the model's prior, not evidence. */
  noModality?: true;
  /** Values outside the training bounds (counted per "<modality>/<variable>"), and what was done with them. */
  outOfRange?: OutOfRangeMark & { policy: OutOfRangePolicy };
}

/** Options of `predictSamples` / `Predictor.predict`. */
export interface PredictOptions {
  /**
   * Add each sample's explanation: the per-modality attribution (p(record) − p(record without the
   * modality), every model type) and, for models with experts, the routing statistics.
   */
  explain?: boolean;
  /** Samples with no modality: 'flag' (default) marks them `noModality: true`; 'refuse' is an error. */
  emptySamples?: 'flag' | 'refuse';
  /**
   * Raw records (and a `spec`) that omit a modality of the model: false (default) = that modality
   * is missing; true = refused (src/data/inputRecords.ts).
   */
  strict?: boolean;
  /** Values outside the model's training bounds (src/data/inputBounds.ts): 'drop' (default), 'flag' or 'off'; either way marked `outOfRange`. */
  outOfRange?: OutOfRangePolicy;
}

/**
 * Predict parsed samples (already in the model's spec) in one batch. Refuses non-finite outputs
 * (e.g. NaN weights) and, with `emptySamples: 'refuse'`, samples with no modality.
 */
export function predictSamples(model: FusionModel, meta: ModelMeta, samples: Sample[], opts: PredictOptions = {}): Prediction[] {
  if (!samples.length) return [];
  // values far outside what the model saw in training: dropped or kept, marked either way
  const checked = samples.map((s) => applyInputBounds(meta.spec, meta.inputBounds, s, opts.outOfRange ?? 'drop'));
  samples = checked.map((c) => c.sample);
  const empty = samples.filter(hasNoModality).map((s) => s.id);
  if (empty.length && opts.emptySamples === 'refuse') {
    throw new FlexiModalError(`${empty.length} sample(s) have no modality at all: ${listIds(empty)}`, {
      where: samples.find(hasNoModality)!.source ?? `sample ${empty[0]}`,
      hint: 'remove them, or use --empty-samples flag to get the prior risk marked "noModality": true',
    });
  }
  let explanations: SampleExplanation[] | undefined;
  let probs: number[][];
  if (opts.explain) {
    // the records and their one-modality-removed variants in one pass; probs are the records' rows
    ({ probs, explanations } = explainPredictions(model, meta, samples));
  } else {
    const batch = makeBatch(meta.spec, samples, meta.normalizer, { maxTimesteps: meta.maxTimesteps });
    probs = tf.tidy(() => logitsToProbs(meta.spec.task, model.forward(batch, { training: false }).logits).arraySync()); // [B, C]
  }
  const bad = probs.findIndex((row) => row.some((p) => !Number.isFinite(p)));
  if (bad >= 0) {
    throw new FlexiModalError(`the model output is not a number (${probs[bad]!.join(', ')})`, {
      where: `sample ${samples[bad]!.id}`,
      hint: 'the model weights or normaliser hold non-finite values; retrain the model',
    });
  }
  return samples.map((s, i) => ({
    id: s.id,
    ...probabilityRecord(meta, probs[i]!),
    ...(explanations ? { explanation: explanations[i] } : {}),
    ...(hasNoModality(s) ? { noModality: true as const } : {}),
    ...(checked[i]!.mark ? { outOfRange: { ...checked[i]!.mark!, policy: opts.outOfRange ?? 'drop' } } : {}),
  }));
}

/** Probability fields of a prediction from one row of probabilities. */
export function probabilityRecord(meta: Pick<ModelMeta, 'spec' | 'threshold'>, row: number[]): Omit<Prediction, 'id' | 'explanation'> {
  const task = meta.spec.task;
  switch (task.kind) {
    case 'binary': {
      const t = typeof meta.threshold === 'number' ? meta.threshold : 0.5;
      return { risk: row[0]!, probs: { [task.name]: row[0]! }, predicted: row[0]! >= t };
    }
    case 'multiclass': {
      let best = 0;
      row.forEach((p, i) => {
        if (p > row[best]!) best = i;
      });
      return { probs: Object.fromEntries(task.classes.map((c, i) => [c, row[i]!])), predicted: task.classes[best]! };
    }
    case 'multilabel':
      return { probs: Object.fromEntries(task.labels.map((l, i) => [l, row[i]!])) };
  }
}

/**
 * Validate one raw sample object (JSONL sample format) against the model's spec, or against the
 * caller's `spec` (matched by name; see src/data/inputRecords.ts). `index` names it in errors.
 */
export function parseSampleRecord(meta: Pick<ModelMeta, 'spec' | 'ranges'>, raw: unknown, index: number, spec?: DatasetSpec, opts: { strict?: boolean } = {}): Sample {
  return parseInputRecords(meta.spec, [raw], { spec, strict: opts.strict, ranges: RangePolicy.fromTable(meta.ranges), firstIndex: index })[0]!;
}

/**
 * The samples to predict from a mix of parsed `Sample`s (kept; remapped by name when `spec`
 * differs from the model's) and raw objects in the JSONL sample format (validated by the shared
 * input check, named `sample #i` in errors, i counted from `firstIndex`).
 */
export function samplesFromRecords(
  meta: Pick<ModelMeta, 'spec' | 'ranges'>,
  records: readonly (Sample | Record<string, unknown>)[],
  opts: { spec?: DatasetSpec; strict?: boolean; firstIndex?: number } = {},
): Sample[] {
  const alignment = inputAlignment(meta.spec, opts);
  const ranges = RangePolicy.fromTable(meta.ranges);
  return records.map((s, i) => {
    if (!isSample(s)) return parseInputRecords(meta.spec, [s], { ...opts, ranges, firstIndex: i + (opts.firstIndex ?? 0) }, alignment)[0]!;
    return alignment ? alignSample(meta.spec, alignment, s) : s;
  });
}

/**
 * A parsed Sample (its modalities carry `kind`), as opposed to a raw JSONL object. A parsed
 * sample with no modality is told apart by its unlabeled label (NaN, which JSON cannot hold).
 */
export function isSample(s: Sample | Record<string, unknown>): s is Sample {
  const m = (s as Sample).modalities;
  if (!m || typeof m !== 'object') return false;
  const values = Object.values(m);
  if (values.some((v) => v !== undefined && v !== null && typeof v === 'object' && 'kind' in v)) return true;
  const y = (s as Sample).label;
  return values.length === 0 && (Number.isNaN(y) || (Array.isArray(y) && y.some((x) => Number.isNaN(x))));
}

/**
 * Samples → predictions (probabilities, plus the experts and modalities behind each for MoE
 * models), and raw sample objects → validated samples matched to the model's spec by name.
 * No file access and no engine set-up here: shared by the Node serving API
 * (src/serve/predictor.ts, `fleximodal predict`) and the browser build (src/browser/).
 */
import { tf } from '../engine/tf.js';
import type { ModelMeta } from '../models/modelFiles.js';
import type { FusionModel, SampleExplanation } from '../models/model.js';
import { makeBatch } from '../data/batch.js';
import { sampleFromJson } from '../data/sources/jsonlRecords.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import { logitsToProbs } from '../train/taskLoss.js';
import { FlexiModalError } from '../errors.js';
import { RangePolicy } from '../data/ranges.js';
import { matchSpec, alignSample } from '../data/specMatch.js';
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
}

/** Options of `predictSamples` / `Predictor.predict`. */
export interface PredictOptions {
  /** Add each sample's top experts and modality shares (MoE models). */
  explain?: boolean;
  /** Samples with no modality: 'flag' (default) marks them `noModality: true`; 'refuse' is an error. */
  emptySamples?: 'flag' | 'refuse';
}

/**
 * Predict parsed samples (already in the model's spec) in one batch. Refuses non-finite outputs
 * (e.g. NaN weights) and, with `emptySamples: 'refuse'`, samples with no modality.
 */
export function predictSamples(model: FusionModel, meta: ModelMeta, samples: Sample[], opts: PredictOptions = {}): Prediction[] {
  if (!samples.length) return [];
  const empty = samples.filter(hasNoModality).map((s) => s.id);
  if (empty.length && opts.emptySamples === 'refuse') {
    throw new FlexiModalError(`${empty.length} sample(s) have no modality at all: ${listIds(empty)}`, {
      where: samples.find(hasNoModality)!.source ?? `sample ${empty[0]}`,
      hint: 'remove them, or use --empty-samples flag to get the prior risk marked "noModality": true',
    });
  }
  const batch = makeBatch(meta.spec, samples, meta.normalizer, { maxTimesteps: meta.maxTimesteps });
  let explanations: SampleExplanation[] | undefined;
  const probs = tf.tidy(() => {
    // With explanations: one pass when the model can (FuseMoE), else forward + explain.
    const oneGo = opts.explain && model.forwardExplained ? model.forwardExplained(batch) : undefined;
    explanations = oneGo?.explanations;
    const logits = oneGo?.logits ?? model.forward(batch, { training: false }).logits; // [B, C]
    return logitsToProbs(meta.spec.task, logits).arraySync();
  });
  const bad = probs.findIndex((row) => row.some((p) => !Number.isFinite(p)));
  if (bad >= 0) {
    throw new FlexiModalError(`the model output is not a number (${probs[bad]!.join(', ')})`, {
      where: `sample ${samples[bad]!.id}`,
      hint: 'the model weights or normaliser hold non-finite values; retrain the model',
    });
  }
  if (opts.explain && explanations === undefined && model.explain) explanations = model.explain(batch);
  return samples.map((s, i) => ({
    id: s.id,
    ...probabilityRecord(meta, probs[i]!),
    ...(explanations ? { explanation: explanations[i] } : {}),
    ...(hasNoModality(s) ? { noModality: true as const } : {}),
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
 * caller's `spec`, whose modalities, variables and classes are then matched by name against the
 * model's (reordered names are remapped; missing or unknown names are an error). Values outside
 * the model's training ranges are dropped as in training. `where` names the sample in errors.
 */
export function parseSampleRecord(meta: Pick<ModelMeta, 'spec' | 'ranges'>, raw: unknown, where: string, spec?: DatasetSpec): Sample {
  const s = sampleFromJson(spec ?? meta.spec, raw, where, undefined, false, RangePolicy.fromTable(meta.ranges));
  return spec ? alignSample(meta.spec, matchSpec(meta.spec, spec, 'Predictor input spec'), s) : s;
}

/**
 * The samples to predict from a mix of parsed `Sample`s (kept; remapped by name when `spec`
 * differs from the model's) and raw objects in the JSONL sample format (validated by
 * `parseSampleRecord`, named `sample #i` in errors).
 */
export function samplesFromRecords(meta: Pick<ModelMeta, 'spec' | 'ranges'>, records: (Sample | Record<string, unknown>)[], spec?: DatasetSpec): Sample[] {
  const alignment = spec ? matchSpec(meta.spec, spec, 'Predictor input spec') : null;
  return records.map((s, i) => {
    if (!isSample(s)) return parseSampleRecord(meta, s, `sample #${i}`, spec);
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

/**
 * Serving API: load a saved model once, then turn FlexiModal samples (objects in the JSONL sample
 * format, docs/DATA.md) into probabilities — plus, on request, how much each modality moved each
 * prediction and (MoE models) the routing behind it (src/serve/explain.ts).
 *
 *   const p = await Predictor.load('runs/fusemoe/model');
 *   const [r] = p.predict([{ id: 'stay-1', modalities: { vitals: {...}, static: {...} } }], { explain: true });
 *   r.risk; r.explanation?.attribution.byModality; r.explanation?.routing?.topExperts;
 */
import { initEngine, type BackendName } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import { loadModel, type ModelMeta } from '../models/persist.js';
import type { FusionModel, SampleExplanation } from '../models/model.js';
import { explainPredictions } from './explain.js';
import { makeBatch } from '../data/batch.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import { logitsToProbs } from '../train/taskLoss.js';
import { FlexiModalError } from '../errors.js';
import { AbortError } from '../worker/protocol.js';
import { RangePolicy } from '../data/ranges.js';
import { alignSample } from '../data/specMatch.js';
import { inputAlignment, parseInputRecords, type RawRecord } from '../data/inputRecords.js';
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

export class Predictor {
  private constructor(
    readonly model: FusionModel,
    readonly meta: ModelMeta,
  ) {}

  /** Load a model directory (or a run directory) written by `fleximodal train`. */
  static async load(dir: string, opts: { backend?: BackendName } = {}): Promise<Predictor> {
    await initEngine({ backend: opts.backend ?? 'wasm' });
    const { model, meta } = loadModel(dir);
    return new Predictor(model, meta);
  }

  /**
   * Validate raw sample objects (JSONL sample format) against a spec: the model's (default), or
   * the caller's `spec`, whose modalities, variables and classes are then matched by name against
   * the model's (reordered names are remapped; missing or unknown names are an error).
   */
  parse(raw: unknown[], spec?: DatasetSpec, opts: { strict?: boolean } = {}): Sample[] {
    return parseInputRecords(this.meta.spec, raw, { spec, strict: opts.strict, ranges: RangePolicy.fromTable(this.meta.ranges) });
  }

  /**
   * Predict samples (parsed `Sample`s or raw records in the JSONL sample format). With `spec`, the
   * samples are in that spec and are matched by name against the model's (see `parse`). A record
   * that omits a modality of the model has it missing, unless `strict`.
   */
  predict(
    samples: (Sample | RawRecord | Record<string, unknown>)[],
    opts: PredictOptions & { spec?: DatasetSpec; /** Index of samples[0] in the caller's list (error messages: "sample #i"). */ firstIndex?: number } = {},
  ): Prediction[] {
    const alignment = inputAlignment(this.meta.spec, opts);
    const ranges = RangePolicy.fromTable(this.meta.ranges);
    const parsed = samples.map((s, i) => {
      if (!isSample(s)) return parseInputRecords(this.meta.spec, [s], { ...opts, ranges, firstIndex: i + (opts.firstIndex ?? 0) }, alignment)[0]!;
      return alignment ? alignSample(this.meta.spec, alignment, s) : s;
    });
    return predictSamples(this.model, this.meta, parsed, opts);
  }

  /**
   * `predict` for many samples without holding the event loop: batches of `batchSize` (default 64)
   * with a macrotask yield between them, so timers and I/O of the host run between batches. An
   * aborted `signal` rejects with an AbortError before the next batch. (predictInWorker runs a
   * whole batch job in a worker thread instead.)
   */
  async predictAsync(
    samples: (Sample | Record<string, unknown>)[],
    opts: PredictOptions & { spec?: DatasetSpec; batchSize?: number; signal?: AbortSignal; onProgress?: (e: { type: 'batch'; done: number; total: number }) => void } = {},
  ): Promise<Prediction[]> {
    const size = Math.max(1, Math.floor(opts.batchSize ?? 64));
    const out: Prediction[] = [];
    for (let i = 0; i < samples.length; i += size) {
      if (i > 0) await new Promise<void>((r) => setImmediate(r));
      if (opts.signal?.aborted) throw new AbortError(`prediction aborted after ${i} of ${samples.length} samples`, undefined, { cause: opts.signal.reason });
      out.push(...this.predict(samples.slice(i, i + size), { ...opts, firstIndex: i }));
      opts.onProgress?.({ type: 'batch', done: Math.min(samples.length, i + size), total: samples.length });
    }
    return out;
  }

  /** Free the model's memory. */
  dispose(): void {
    this.model.dispose();
  }
}

function isSample(s: Sample | Record<string, unknown>): s is Sample {
  const m = (s as Sample).modalities;
  return !!m && Object.values(m).some((v) => v !== undefined && v !== null && typeof v === 'object' && 'kind' in v);
}

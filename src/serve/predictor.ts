/**
 * Serving API: load a saved model once, then turn FlexiModal samples (objects in the JSONL sample
 * format, docs/DATA.md) into probabilities — plus, for MoE models, the experts and modalities
 * behind each prediction.
 *
 *   const p = await Predictor.load('runs/fusemoe/model');
 *   const [r] = p.predict([{ id: 'stay-1', modalities: { vitals: {...}, static: {...} } }], { explain: true });
 *   r.risk; r.explanation?.modalityShares;
 */
import { initEngine, type BackendName } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import { loadModel, type ModelMeta } from '../models/persist.js';
import type { FusionModel, SampleExplanation } from '../models/model.js';
import { makeBatch } from '../data/batch.js';
import { sampleFromJson } from '../data/sources/jsonl.js';
import type { Sample } from '../data/schema.js';
import { logitsToProbs } from '../train/taskLoss.js';

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

  /** Validate raw sample objects (JSONL sample format) against the model's dataset spec. */
  parse(raw: unknown[]): Sample[] {
    return raw.map((r, i) => sampleFromJson(this.meta.spec, r, `sample #${i}`, undefined, false));
  }

  /** Predict samples (parsed `Sample`s or raw objects in the JSONL sample format). */
  predict(samples: (Sample | Record<string, unknown>)[], opts: { explain?: boolean } = {}): Prediction[] {
    const parsed = samples.map((s, i) =>
      isSample(s) ? s : sampleFromJson(this.meta.spec, s, `sample #${i}`, undefined, false),
    );
    if (!parsed.length) return [];
    const batch = makeBatch(this.meta.spec, parsed, this.meta.normalizer, { maxTimesteps: this.meta.maxTimesteps });
    let explanations: SampleExplanation[] | undefined;
    const probs = tf.tidy(() => {
      // With explanations: one pass when the model can (FuseMoE), else forward + explain.
      const oneGo = opts.explain && this.model.forwardExplained ? this.model.forwardExplained(batch) : undefined;
      explanations = oneGo?.explanations;
      const logits = oneGo?.logits ?? this.model.forward(batch, { training: false }).logits; // [B, C]
      return logitsToProbs(this.meta.spec.task, logits).arraySync();
    });
    if (opts.explain && explanations === undefined && this.model.explain) explanations = this.model.explain(batch);
    return parsed.map((s, i) => ({ id: s.id, ...probabilityRecord(this.meta, probs[i]!), explanation: explanations?.[i] }));
  }

  /** Free the model's memory. */
  dispose(): void {
    this.model.dispose();
  }
}

function isSample(s: Sample | Record<string, unknown>): s is Sample {
  const m = (s as Sample).modalities;
  return !!m && Object.values(m).some((v) => v !== undefined && typeof v === 'object' && 'kind' in v);
}

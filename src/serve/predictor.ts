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
import { loadModel, type ModelMeta } from '../models/persist.js';
import type { FusionModel } from '../models/model.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import { predictSamples, parseSampleRecord, samplesFromRecords, type PredictOptions, type Prediction } from './predictSamples.js';

// Prediction itself is shared with the browser build (no file access): src/serve/predictSamples.ts.
export { predictSamples, probabilityRecord, parseSampleRecord, samplesFromRecords, type Prediction, type PredictOptions } from './predictSamples.js';

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
  parse(raw: unknown[], spec?: DatasetSpec): Sample[] {
    return raw.map((r, i) => this.parseOne(r, i, spec));
  }

  private parseOne(raw: unknown, i: number, spec?: DatasetSpec): Sample {
    return parseSampleRecord(this.meta, raw, `sample #${i}`, spec);
  }

  /**
   * Predict samples (parsed `Sample`s or raw objects in the JSONL sample format). With `spec`, the
   * samples are in that spec and are matched by name against the model's (see `parse`).
   */
  predict(samples: (Sample | Record<string, unknown>)[], opts: PredictOptions & { spec?: DatasetSpec } = {}): Prediction[] {
    return predictSamples(this.model, this.meta, samplesFromRecords(this.meta, samples, opts.spec), opts);
  }

  /** Free the model's memory. */
  dispose(): void {
    this.model.dispose();
  }
}

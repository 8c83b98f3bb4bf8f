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
import { loadModel, type ModelMeta } from '../models/persist.js';
import type { FusionModel } from '../models/model.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import { AbortError } from '../worker/protocol.js';
import { RangePolicy } from '../data/ranges.js';
import { parseInputRecords, type RawRecord } from '../data/inputRecords.js';
import { predictSamples, samplesFromRecords, type PredictOptions, type Prediction } from './predictSamples.js';

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
    return predictSamples(this.model, this.meta, samplesFromRecords(this.meta, samples, opts), opts);
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

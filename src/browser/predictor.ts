/**
 * The browser's counterpart of the Node `Predictor` (src/serve/predictor.ts): a model loaded from
 * URLs or `File`s, records validated with the same by-name checks, predictions and explanations
 * from the same shared code (src/serve/predictSamples.ts).
 *
 *   await initBrowserEngine({ wasmPaths: './wasm/' });
 *   const p = await BrowserPredictor.fromUrl('./model/');
 *   const [r] = p.predict([{ id: 'stay-1', modalities: { vitals: {...} } }], { explain: true });
 */
import type { DatasetSpec, Sample } from '../data/schema.js';
import type { ModelMeta } from '../models/modelFiles.js';
import type { FusionModel } from '../models/model.js';
import { parseJsonlText } from '../data/sources/jsonlRecords.js';
import { RangePolicy } from '../data/ranges.js';
import { ReportBuilder } from '../data/report.js';
import { parseSampleRecord, predictSamples, samplesFromRecords, type PredictOptions, type Prediction } from '../serve/predictSamples.js';
import { loadModelFromFiles, loadModelFromUrl, type FetchLike, type NamedBlob } from './loadModel.js';

/** Samples read from a JSONL text, and what its cleaning counted (dropped values, empty modalities). */
export interface JsonlSamples {
  samples: Sample[];
  counts: Record<string, number>;
}

export class BrowserPredictor {
  private constructor(
    readonly model: FusionModel,
    readonly meta: ModelMeta,
  ) {}

  /** Load the model under `baseUrl` (call `initBrowserEngine` first). */
  static async fromUrl(baseUrl: string, fetchFn?: FetchLike): Promise<BrowserPredictor> {
    const { model, meta } = await loadModelFromUrl(baseUrl, fetchFn);
    return new BrowserPredictor(model, meta);
  }

  /** Load a model from the picked or dropped files of its directory (call `initBrowserEngine` first). */
  static async fromFiles(files: Iterable<NamedBlob> | ArrayLike<NamedBlob>): Promise<BrowserPredictor> {
    const { model, meta } = await loadModelFromFiles(files);
    return new BrowserPredictor(model, meta);
  }

  /** Validate raw sample objects (JSONL sample format); see the Node `Predictor.parse`. */
  parse(raw: unknown[], spec?: DatasetSpec, opts: { strict?: boolean } = {}): Sample[] {
    return raw.map((r, i) => parseSampleRecord(this.meta, r, i, spec, opts));
  }

  /**
   * Read a whole FlexiModal JSONL text (header line optional; a header spec is matched by name
   * against the model's), as `fleximodal predict --input` does. `file` names it in errors.
   */
  parseJsonl(text: string, file = 'input.jsonl'): JsonlSamples {
    const report = new ReportBuilder();
    const samples = parseJsonlText(text, file, { spec: this.meta.spec, requireLabels: false, ranges: RangePolicy.fromTable(this.meta.ranges), report });
    return { samples, counts: { ...report.counts } };
  }

  /** Predict parsed samples or raw sample objects (see the Node `Predictor.predict`). */
  predict(samples: (Sample | Record<string, unknown>)[], opts: PredictOptions & { spec?: DatasetSpec } = {}): Prediction[] {
    return predictSamples(this.model, this.meta, samplesFromRecords(this.meta, samples, opts), opts);
  }

  /** Whether the model can explain its predictions (MoE models). */
  get explains(): boolean {
    return typeof this.model.explain === 'function' || typeof this.model.forwardExplained === 'function';
  }

  /** Free the model's memory. */
  dispose(): void {
    this.model.dispose();
  }
}

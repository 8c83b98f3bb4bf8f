/**
 * The model-dependent work of the prediction route, in two halves:
 * - `RequestValidator` (on the server's event loop, where Fastify has already parsed the body):
 *   one request's names check, record validation (the reader `predict` uses) and the model's
 *   empty-sample policy → its samples, or the ApiError the client gets. The JSON is parsed once,
 *   and what crosses to the inference thread is samples (typed arrays), cheap to copy.
 * - `answerRequests` (in the model's inference thread, src/serve/inferenceThreadEntry.ts, or with
 *   threads off on the server's thread): ONE forward pass (`predictSamples`: input bounds,
 *   probabilities, explanations) over the samples of every request of a batch, each request
 *   getting back its own predictions (or, when the pass fails, its own error).
 *
 * Answers are plain objects (they cross the thread boundary by structured clone); an error is the
 * ApiError's fields, turned back into the same ApiError on the host by `answerError`.
 */
import type { DatasetSpec, Sample } from '../data/schema.js';
import { hasNoModality } from '../data/report.js';
import { parseInputRecords } from '../data/inputRecords.js';
import { RangePolicy, type Range } from '../data/ranges.js';
import { FlexiModalError } from '../errors.js';
import type { FusionModel } from '../models/model.js';
import type { ModelMeta } from '../models/modelFiles.js';
import { ApiError, recordError, toErrorResponse } from './httpErrors.js';
import { unknownNames } from './recordNames.js';
import { predictSamples, type Prediction } from './predictSamples.js';
import type { Predictor } from './predictor.js';

/** One HTTP request's validated records, as samples of the model's spec (one per record, in order). */
export interface InferenceRequest {
  samples: Sample[];
}

/** An ApiError as a plain object; `internal` (the thrown error's code or name) marks a 500 that the host logs by code. */
export interface PlainApiError {
  status: number;
  code: string;
  message: string;
  path: string | null;
  names?: string[];
  headers?: Record<string, string>;
  internal?: string;
}

/** One request's answer: its predictions (one per record, in order) or its error. */
export type RequestAnswer = { predictions: Prediction[] } | { error: PlainApiError };

/** Any thrown value → the plain error the client will see (toErrorResponse's status, code, message and path). */
export function toPlainError(e: unknown): PlainApiError {
  const r = toErrorResponse(e);
  const err = r.body.error;
  return {
    status: r.status,
    code: err.code,
    message: err.message,
    path: err.path,
    ...(err.names ? { names: err.names } : {}),
    ...(Object.keys(r.headers).length ? { headers: r.headers } : {}),
    ...(r.internal ? { internal: String((e as { code?: string })?.code ?? (e as Error)?.name ?? 'unknown') } : {}),
  };
}

/** The host-side error of a plain error: the same ApiError (a 500 keeps its code for the log, as toErrorResponse does). */
export function answerError(p: PlainApiError): Error {
  if (p.internal !== undefined) return Object.assign(new Error('inference failed'), { name: p.internal, code: p.internal });
  return new ApiError(p.status, p.code, p.message, p.path, p.names, p.headers ?? {});
}

/**
 * The input check of one served model version, run on the server's event loop: the model's spec,
 * its range policy (built once) and its empty-sample policy.
 */
export class RequestValidator {
  private readonly ranges: RangePolicy;

  constructor(
    private readonly spec: DatasetSpec,
    ranges: Record<string, Range> | undefined,
    /** The model's name (in messages) and its policy for records with no modality. */
    private readonly ctx: { name: string; emptySamples: 'flag' | 'refuse' },
  ) {
    this.ranges = RangePolicy.fromTable(ranges);
  }

  /**
   * One request's records → its samples; throws the ApiError the client gets (422 unknown names,
   * listed at once; 422 the first invalid record, with its path; 422 records with no modality
   * when the model refuses them). `single`: the body was one record (paths then have no `[i]`).
   */
  samples(records: unknown[], single: boolean): Sample[] {
    const unknown = unknownNames(this.spec, records, single);
    if (unknown.names.length) {
      throw new ApiError(422, 'unknown_names', `names not in the model: ${unknown.names.join(', ')} (GET /v1/models/${this.ctx.name} lists the model's modalities and variables)`, unknown.firstPath, unknown.names);
    }
    // each record alone through the model's reader (the check `predict` uses), so a refusal names its record
    const samples = records.map((r, i) => {
      try {
        return parseInputRecords(this.spec, [r], { ranges: this.ranges })[0]!;
      } catch (e) {
        if (e instanceof FlexiModalError) throw recordError(e, single ? null : i);
        throw e;
      }
    });
    if (this.ctx.emptySamples === 'refuse') {
      const empty = samples.flatMap((s, i) => (hasNoModality(s) ? [i] : []));
      if (empty.length) {
        throw new ApiError(422, 'no_modality', `${empty.length} record(s) have no modality at all and this model refuses them (records ${empty.slice(0, 20).join(', ')})`, single ? null : `[${empty[0]}]`);
      }
    }
    return samples;
  }
}

/**
 * Answer a batch of validated requests with one forward pass over all their samples; when that
 * pass fails (e.g. one request's records give a non-finite output), each request is predicted
 * alone so the others still get answers.
 */
export function answerRequests(model: FusionModel, meta: ModelMeta, requests: InferenceRequest[], explain: boolean): RequestAnswer[] {
  const predict = (samples: Sample[]) => predictSamples(model, meta, samples, { explain, emptySamples: 'flag' });
  const alone = (r: InferenceRequest): RequestAnswer => {
    try {
      return { predictions: predict(r.samples) };
    } catch (e) {
      return { error: toPlainError(e) };
    }
  };
  if (requests.length === 1) return [alone(requests[0]!)];
  let out: Prediction[];
  try {
    out = predict(requests.flatMap((r) => r.samples)); // one row per sample, in request order
  } catch {
    return requests.map(alone);
  }
  let row = 0;
  return requests.map((r) => {
    const predictions = out.slice(row, row + r.samples.length);
    row += r.samples.length;
    return { predictions };
  });
}

/**
 * One prediction on an empty record, with and without explanations, so that the first request
 * does not pay for kernel set-up. Returns whether the shared prediction path (`predictSamples`,
 * as `predict --explain`) gives this model's predictions an explanation.
 */
export function warmUp(p: Predictor): boolean {
  const t = p.meta.spec.task;
  const sample: Sample = { id: 'warm-up', modalities: {}, label: t.kind === 'multilabel' ? t.labels.map(() => NaN) : NaN };
  predictSamples(p.model, p.meta, [sample], { emptySamples: 'flag' });
  try {
    return predictSamples(p.model, p.meta, [sample], { explain: true, emptySamples: 'flag' })[0]?.explanation !== undefined;
  } catch {
    return !!p.model.explain;
  }
}

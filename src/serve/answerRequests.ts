/**
 * The model-dependent work of the prediction route, for a batch of HTTP requests at once: each
 * request's names check, record validation (the reader `predict` uses), the model's empty-sample
 * policy — per request, so one bad request gets its own error and the others their predictions —
 * then ONE forward pass (`predictSamples`: input bounds, probabilities, explanations) over the
 * samples of every valid request. The same function runs in a model's inference thread
 * (src/serve/inferenceThreadEntry.ts) and, with inference threads off, on the server's thread.
 *
 * Answers are plain objects (they cross the thread boundary by structured clone); an error is the
 * ApiError's fields, turned back into the same ApiError on the host by `answerError`.
 */
import type { Sample } from '../data/schema.js';
import { hasNoModality } from '../data/report.js';
import { FlexiModalError } from '../errors.js';
import { ApiError, recordError, toErrorResponse } from './httpErrors.js';
import { unknownNames } from './recordNames.js';
import { predictSamples, type Prediction } from './predictSamples.js';
import type { Predictor } from './predictor.js';

/** One HTTP request's records: as Fastify parsed them, or the JSON body text they were parsed from. */
export interface InferenceRequest {
  /** The records (a single-record body is a list of one). */
  records?: unknown[];
  /**
   * Instead of `records`: the JSON body as received, already parsed (prototype poisoning refused)
   * and schema-checked on the host; parsed again here, which costs the host less than a
   * structured clone of the records (src/serve/server.ts).
   */
  body?: string;
  /** How many records. */
  size: number;
  /** The body was one record object (not an array, not NDJSON): error paths then have no `[i]` prefix. */
  single: boolean;
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

/** What answering needs besides the predictor: the model's name (in messages) and its empty-sample policy. */
export interface AnswerContext {
  name: string;
  emptySamples: 'flag' | 'refuse';
}

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

/** The records of a JSON body (one record or an array). */
function bodyRecords(body: string): unknown[] {
  const v: unknown = JSON.parse(body);
  return Array.isArray(v) ? v : [v];
}

/** Validate one request's records → its samples (throws the ApiError the client gets). */
function requestSamples(predictor: Predictor, ctx: AnswerContext, req: InferenceRequest): Sample[] {
  const { single } = req;
  const records = req.records ?? bodyRecords(req.body ?? '[]');
  const unknown = unknownNames(predictor.meta.spec, records, single);
  if (unknown.names.length) {
    throw new ApiError(422, 'unknown_names', `names not in the model: ${unknown.names.join(', ')} (GET /v1/models/${ctx.name} lists the model's modalities and variables)`, unknown.firstPath, unknown.names);
  }
  // each record alone through the model's reader (the check `predict` uses), refusals → 422 with the record's path
  const samples = records.map((r, i) => {
    try {
      return predictor.parse([r])[0]!;
    } catch (e) {
      if (e instanceof FlexiModalError) throw recordError(e, single ? null : i);
      throw e;
    }
  });
  if (ctx.emptySamples === 'refuse') {
    const empty = samples.flatMap((s, i) => (hasNoModality(s) ? [i] : []));
    if (empty.length) {
      throw new ApiError(422, 'no_modality', `${empty.length} record(s) have no modality at all and this model refuses them (records ${empty.slice(0, 20).join(', ')})`, single ? null : `[${empty[0]}]`);
    }
  }
  return samples;
}

/**
 * Answer a batch of requests with one forward pass: each request validated alone (its error is
 * its own), the valid requests' samples predicted together; when that pass fails (e.g. one
 * request's records give a non-finite output), each valid request is predicted alone so the
 * others still get answers.
 */
export function answerRequests(predictor: Predictor, ctx: AnswerContext, requests: InferenceRequest[], explain: boolean): RequestAnswer[] {
  const answers: RequestAnswer[] = new Array(requests.length);
  const valid: { at: number; samples: Sample[] }[] = [];
  requests.forEach((req, at) => {
    try {
      valid.push({ at, samples: requestSamples(predictor, ctx, req) });
    } catch (e) {
      answers[at] = { error: toPlainError(e) };
    }
  });
  const predict = (samples: Sample[]) => predictSamples(predictor.model, predictor.meta, samples, { explain, emptySamples: 'flag' });
  try {
    const out = predict(valid.flatMap((v) => v.samples)); // one row per sample, in request order
    let row = 0;
    for (const v of valid) {
      answers[v.at] = { predictions: out.slice(row, row + v.samples.length) };
      row += v.samples.length;
    }
  } catch (e) {
    if (valid.length === 1) answers[valid[0]!.at] = { error: toPlainError(e) };
    else
      for (const v of valid) {
        try {
          answers[v.at] = { predictions: predict(v.samples) };
        } catch (e2) {
          answers[v.at] = { error: toPlainError(e2) };
        }
      }
  }
  return answers;
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

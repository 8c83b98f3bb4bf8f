/**
 * The HTTP server's error contract: every error is `{ "error": { "code", "message", "path" } }`
 * with a status that says whose fault it is. Messages are written for the client: no stack trace,
 * file path, internal message, API key or record value ever reaches it (unknown errors become a
 * generic 500 whose detail stays out of the response).
 */
import { FlexiModalError } from '../errors.js';

/** The JSON body of an error response. */
export interface ErrorBody {
  error: {
    /** Stable machine-readable code, e.g. `malformed_json`, `unknown_names`. */
    code: string;
    /** What is wrong and how to fix it, for a person. */
    message: string;
    /** Where in the request: a JSON path (`[2].modalities.vitals`), `line 3` (NDJSON), a header or query name; null when the whole request. */
    path: string | null;
    /** 422 `unknown_names` / `missing_names`: the names, listed. */
    names?: string[];
  };
}

/** An error with an HTTP status, raised by the server's own code. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly path: string | null = null,
    readonly names?: string[],
    /** Extra response headers (e.g. Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, path: this.path, ...(this.names ? { names: this.names } : {}) } };
  }
}

/** 503 with Retry-After: the queue is full, the request waited too long, or the server is closing. */
export function overloaded(code: 'overloaded' | 'timeout' | 'shutting_down', message: string, retryAfterSeconds = 1): ApiError {
  return new ApiError(503, code, message, null, undefined, { 'retry-after': String(retryAfterSeconds) });
}

/** Fastify's own error codes → our status, code and a message of our own words. */
const FASTIFY_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'send Content-Type: application/json (one record or an array) or application/x-ndjson (one record per line)'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_content_length', 'the Content-Length header does not match the body'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large', 'the request body is over the size limit; send fewer records per request'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'empty_body', 'the body is empty; send one record, an array of records, or NDJSON'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed_json', 'the body is not valid JSON'],
  FST_ERR_CTP_EMPTY_TYPE: [415, 'unsupported_media_type', 'the Content-Type header is empty'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'unsupported_media_type', 'the Content-Type header is invalid'],
  FST_ERR_BAD_URL: [400, 'bad_url', 'the URL is not valid'],
  FST_ERR_BAD_STATUS_CODE: [400, 'bad_request', 'bad request'],
  FST_ERR_CTP_INSTANCE_ALREADY_STARTED: [400, 'bad_request', 'bad request'],
};

/** Generic messages per status for errors that carry a status but no message of ours. */
const GENERIC: Record<number, [string, string]> = {
  400: ['bad_request', 'the request is malformed'],
  401: ['unauthorized', 'missing or invalid API key'],
  403: ['forbidden', 'not allowed'],
  404: ['not_found', 'no such route'],
  405: ['method_not_allowed', 'method not allowed on this route'],
  406: ['not_acceptable', 'not acceptable'],
  408: ['request_timeout', 'the request took too long to arrive'],
  413: ['body_too_large', 'the request body is over the size limit'],
  414: ['uri_too_long', 'the URL is too long'],
  415: ['unsupported_media_type', 'unsupported Content-Type'],
  429: ['rate_limited', 'too many requests for this API key; retry after the Retry-After seconds'],
  431: ['headers_too_large', 'the request headers are too large'],
};

/** Ajv validation error (as Fastify attaches it) → JSON path of the offending value. */
function validationPath(err: { validation?: { instancePath?: string; params?: Record<string, unknown> }[]; validationContext?: string }): string | null {
  const v = err.validation?.[0];
  if (!v) return null;
  const ptr = (v.instancePath ?? '')
    .split('/')
    .slice(1)
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('')
    .replace(/^\./, '');
  const missing = v.params?.['missingProperty'];
  const extra = v.params?.['additionalProperty'];
  const leaf = typeof missing === 'string' ? missing : typeof extra === 'string' ? extra : null;
  const path = leaf ? (ptr ? `${ptr}.${leaf}` : leaf) : ptr;
  const scope = err.validationContext === 'querystring' ? 'query.' : '';
  return path ? scope + path : scope ? 'query' : null;
}

/** Removes values the client sent from a reader message (e.g. `got 7`), keeping names and positions. */
function withoutValues(message: string): string {
  return message.replace(/,? got .*$/s, '').replace(/\s+/g, ' ').slice(0, 400);
}

/**
 * A record the reader refused (FlexiModalError from the JSONL sample reader) → 422 naming the
 * JSON path inside the request. `index`: position of the record in the request (null: the body
 * was one record).
 */
export function recordError(e: FlexiModalError, index: number | null): ApiError {
  let text = e.message;
  if (e.where && text.startsWith(`${e.where}: `)) text = text.slice(e.where.length + 2);
  const [what, hint] = text.split(' — Fix: ');
  const m = /^((?:modalities|label|id|subject)(?:[.[][^:\s]*)?)(?:: | (?=(?:is|must|has) ))(.*)$/s.exec(what ?? '');
  const inner = m ? m[1]! : null;
  const prefix = index === null ? '' : `[${index}]`;
  const path = inner ? (prefix ? `${prefix}.${inner}` : inner) : prefix || null;
  const message = withoutValues(m ? `${inner}: ${m[2]}` : (what ?? 'invalid record'));
  return new ApiError(422, 'invalid_record', hint ? `${message} (fix: ${withoutValues(hint)})` : message, path);
}

/** Any thrown value → status and body; `internal` is true when the cause was not ours (logged by code only). */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; headers: Record<string, string>; internal: boolean } {
  if (err instanceof ApiError) return { status: err.statusCode, body: err.body(), headers: err.headers, internal: false };
  const e = (err ?? {}) as { code?: string; statusCode?: number; validation?: unknown[]; validationContext?: string };
  if (Array.isArray(e.validation)) {
    const path = validationPath(e as Parameters<typeof validationPath>[0]);
    const v = (e.validation[0] ?? {}) as { message?: string; keyword?: string };
    const where = e.validationContext === 'querystring' ? 'the query string' : 'the request body';
    const what = v.keyword === 'anyOf' ? 'must be one record object or a non-empty array of records' : (v.message ?? 'is invalid');
    return { status: 400, body: { error: { code: 'invalid_request', message: `${where}${path ? ` at ${path}` : ''} ${what}`, path } }, headers: {}, internal: false };
  }
  const known = e.code ? FASTIFY_ERRORS[e.code] : undefined;
  if (known) return { status: known[0], body: { error: { code: known[1], message: known[2], path: null } }, headers: {}, internal: false };
  if (err instanceof SyntaxError || (e.statusCode === 400 && /JSON/i.test(String((err as Error).message)))) {
    return { status: 400, body: { error: { code: 'malformed_json', message: 'the body is not valid JSON', path: null } }, headers: {}, internal: false };
  }
  const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
  if (status === 500) return { status, body: { error: { code: 'internal', message: 'internal server error (logged with its code only)', path: null } }, headers: {}, internal: true };
  const [code, message] = GENERIC[status] ?? ['bad_request', 'bad request'];
  return { status, body: { error: { code, message, path: null } }, headers: {}, internal: false };
}

/**
 * Reading and validating configs: JSON file → zod → RunConfig, with errors that name the file
 * and the offending key; `key=value` overrides from the CLI (`--set train.lr=3e-4`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { FlexiModalError } from '../errors.js';
import { configSchema, type RunConfig } from './schema.js';
import { stripBom } from '../data/bom.js';

export { formatIssues } from './issues.js';
import { formatIssues } from './issues.js';

/** Validate a plain object as a run config. `where` names its origin for error messages. */
export function parseConfig(raw: unknown, where: string): RunConfig {
  const r = configSchema.safeParse(raw);
  if (!r.success) {
    throw new FlexiModalError(`invalid config: ${formatIssues(r.error.issues)}`, {
      where,
      hint: 'see docs/CONFIG.md for every key, its type and default',
    });
  }
  return r.data;
}

/** Read a JSON config file (// comments allowed; syntax errors say file:line). */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = stripBom(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FlexiModalError(`cannot read config file (${(e as Error).message})`, { where: path, hint: 'check the --config path' });
  }
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { allowTrailingComma: false, disallowComments: false });
  if (errors.length) {
    const e = errors[0]!;
    const line = text.slice(0, e.offset).split('\n').length;
    throw new FlexiModalError(`config is not valid JSON (${printParseErrorCode(e.error)})`, { where: `${path}:${line}`, hint: 'fix the JSON syntax at that line' });
  }
  return value;
}

/** Parse a CLI override value: JSON when it parses (numbers, booleans, arrays), else a string. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Apply `a.b.c=value` to a plain object (returns a deep copy). Used by `--set` and by
 * `compare --vary`. A short key such as `gating` is resolved to the unique path that ends with it.
 */
export function applyOverride(raw: unknown, assignment: string): unknown {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new FlexiModalError(`override '${assignment}' is not key=value`, { hint: 'write e.g. --set train.lr=3e-4' });
  const key = assignment.slice(0, eq).trim();
  const value = parseValue(assignment.slice(eq + 1).trim());
  return setPath(raw, resolveKey(raw, key), value);
}

/** Known short names for common keys (so `--vary gating=...` works). */
const SHORT_KEYS: Record<string, string> = {
  gating: 'model.moe.gating',
  router: 'model.moe.router',
  topK: 'model.moe.topK',
  numExperts: 'model.moe.numExperts',
  entropyWeight: 'model.moe.entropyWeight',
  loadWeight: 'model.moe.loadWeight',
  lr: 'train.lr',
  epochs: 'train.epochs',
  batchSize: 'train.batchSize',
  missing: 'model.missing',
  encoder: 'model.encoder.kind',
};

/** Resolve a dotted key; short names are expanded. */
export function resolveKey(_raw: unknown, key: string): string[] {
  const full = key.includes('.') ? key : (SHORT_KEYS[key] ?? key);
  return full.split('.');
}

function setPath(raw: unknown, path: string[], value: unknown): unknown {
  const root = structuredClone(raw ?? {}) as Record<string, unknown>;
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = node[k];
    if (next === undefined || next === null || typeof next !== 'object') node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
  return root;
}

/**
 * Where relative paths resolve: paths inside a config file against the config file's directory;
 * paths typed on the command line — `--set data.path=…` included — against the working directory.
 * A `--set` of a path key is therefore made absolute (from the cwd) before the config is read
 * relative to its own directory.
 */
import { resolve } from 'node:path';
import { resolveKey } from '../config/parse.js';

/** Config keys (last path segment under data / externalData / split) that hold file paths. */
const PATH_KEYS: Record<string, readonly string[]> = {
  data: ['path', 'specPath', 'labels', 'modalityMap', 'records', 'outcomes'],
  externalData: ['path', 'specPath', 'labels', 'modalityMap', 'records', 'outcomes'],
  split: ['file'],
};

/** True when `key` (dotted, e.g. data.records) names a file path. */
export function isPathKey(key: string[]): boolean {
  return key.length === 2 && (PATH_KEYS[key[0]!]?.includes(key[1]!) ?? false);
}

/** After `applyOverride(raw, assignment)`: make a relative path value of a path key absolute from the cwd. */
export function resolveSetPaths(raw: unknown, assignment: string, cwd = process.cwd()): unknown {
  const eq = assignment.indexOf('=');
  const key = resolveKey(raw, assignment.slice(0, eq).trim());
  if (!isPathKey(key)) return raw;
  const section = (raw as Record<string, Record<string, unknown>>)[key[0]!]!;
  const v = section[key[1]!];
  // a JSON modality map object is not a path; strings and string arrays are
  if (typeof v === 'string') section[key[1]!] = resolve(cwd, v);
  else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) section[key[1]!] = v.map((x) => resolve(cwd, x as string));
  return raw;
}

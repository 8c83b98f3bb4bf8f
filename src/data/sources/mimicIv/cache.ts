/**
 * The extraction cache: a finished extraction is written as FlexiModal JSONL (readable by the
 * `jsonl` source) plus its data report, in a folder named by a key = sha256 of the source files'
 * paths, sizes and modification times and of the extraction config (and EXTRACTOR_VERSION, bumped
 * whenever the extraction logic changes). A second run with the same files and config reads the
 * folder instead of querying MIMIC-IV; a changed file or setting gives a new key.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../../hash.js';
import type { DataReport, Dataset } from '../../schema.js';
import { readJsonl, writeJsonl } from '../jsonl.js';

/** Bump when the extraction's output for the same input and config changes. */
export const EXTRACTOR_VERSION = 2;

/** Default cache root: $XDG_CACHE_HOME/fleximodal/mimic-iv (or ~/.cache/…). */
export function defaultCacheRoot(): string {
  return join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'fleximodal', 'mimic-iv');
}

/** Cache key of an extraction: the files' (path, size, mtime) and the config. */
export function cacheKey(files: string[], config: unknown): string {
  const stats = [...new Set(files)].sort().map((p) => {
    const s = statSync(p);
    return [p, s.size, Math.round(s.mtimeMs)];
  });
  return sha256(JSON.stringify({ v: EXTRACTOR_VERSION, stats, config })).slice(0, 24);
}

const SAMPLES = 'samples.jsonl';
const REPORT = 'report.json';

/** Read a cached extraction, or undefined when the folder has none. */
export async function readCache(dir: string): Promise<Dataset | undefined> {
  if (!existsSync(join(dir, REPORT)) || !existsSync(join(dir, SAMPLES))) return undefined;
  const ds = await readJsonl(join(dir, SAMPLES));
  const report = JSON.parse(readFileSync(join(dir, REPORT), 'utf8')) as DataReport;
  return { spec: ds.spec, samples: ds.samples, report };
}

/** Write an extraction to the cache folder (report last, so a half-written folder is never read). */
export async function writeCache(dir: string, dataset: Pick<Dataset, 'spec' | 'samples' | 'report'>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await writeJsonl(dataset, join(dir, SAMPLES));
  writeFileSync(join(dir, REPORT + '.tmp'), JSON.stringify(dataset.report, null, 1) + '\n');
  renameSync(join(dir, REPORT + '.tmp'), join(dir, REPORT));
}

/**
 * Turning a `--data <path>` argument into a data source: a FlexiModal JSONL file, a JSON file
 * holding a data-source object (or a run config, whose `data` is used), or a PhysioNet 2012
 * directory / .tar.gz (with `--outcomes`), read with the grouping of the model's spec.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FlexiModalError } from '../errors.js';
import type { DatasetSpec } from '../data/schema.js';
import { dataSourceSchema, type DataSource } from '../data/load.js';
import { readConfigFile, formatIssues } from '../config/parse.js';

/** The data source and the directory its relative paths are resolved against. */
export function dataSourceFromArg(path: string, opts: { outcomes?: string }, spec: DatasetSpec): { source: DataSource; baseDir: string } {
  const full = resolve(path);
  if (!existsSync(full)) throw new FlexiModalError(`no such file or directory`, { where: path, hint: 'check the --data path' });
  if (full.endsWith('.jsonl')) return { source: { type: 'jsonl', path: full } as DataSource, baseDir: dirname(full) };
  if (full.endsWith('.json')) {
    const raw = readConfigFile(full) as Record<string, unknown>;
    const candidate = raw && typeof raw === 'object' && 'data' in raw ? raw.data : raw;
    const r = dataSourceSchema.safeParse(candidate);
    if (!r.success) throw new FlexiModalError(`not a data source: ${formatIssues(r.error.issues)}`, { where: full, hint: 'see docs/DATA.md' });
    return { source: r.data, baseDir: dirname(full) };
  }
  if (statSync(full).isDirectory() || full.endsWith('.tar.gz') || full.endsWith('.tgz')) {
    if (!opts.outcomes) {
      throw new FlexiModalError('PhysioNet 2012 records need an outcomes file', { where: path, hint: 'add --outcomes Outcomes-x.txt' });
    }
    const grouping: Record<string, string[]> = {};
    for (const m of spec.modalities) if (m.kind === 'timeseries') grouping[m.name] = m.variables;
    const r = dataSourceSchema.safeParse({ type: 'physionet2012', records: full, outcomes: resolve(opts.outcomes), grouping });
    if (!r.success) throw new FlexiModalError(`cannot read as PhysioNet 2012: ${formatIssues(r.error.issues)}`, { where: path });
    return { source: r.data, baseDir: dirname(full) };
  }
  throw new FlexiModalError('unrecognised data file', {
    where: path,
    hint: 'pass a .jsonl file, a data-source .json, or a PhysioNet 2012 directory/.tar.gz with --outcomes',
  });
}

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
import type { Range } from '../data/ranges.js';

/** The data source and the directory its relative paths are resolved against. */
export function dataSourceFromArg(
  path: string,
  opts: { outcomes?: string; ranges?: Record<string, Range> },
  spec: DatasetSpec,
): { source: DataSource; baseDir: string } {
  const full = resolve(path);
  if (!existsSync(full)) throw new FlexiModalError(`no such file or directory`, { where: path, hint: 'check the --data path' });
  const isRecords = statSync(full).isDirectory() || full.endsWith('.tar.gz') || full.endsWith('.tgz');
  if (opts.outcomes && !isRecords) {
    throw new FlexiModalError('--outcomes is only read with PhysioNet 2012 records (a directory or .tar.gz); this --data has its own labels', {
      where: `--outcomes ${opts.outcomes}`,
      hint: 'drop --outcomes, or pass the PhysioNet records directory as --data',
    });
  }
  // prediction input is cleaned with the model's training ranges unless the source sets its own
  const withRanges = (src: DataSource): DataSource =>
    opts.ranges && src.type !== 'synthetic' && src.type !== 'mimic-iv' && !src.ranges && !src.rangePreset ? ({ ...src, ranges: opts.ranges, rangePreset: 'none' } as DataSource) : src;
  if (full.endsWith('.jsonl')) return { source: withRanges({ type: 'jsonl', path: full } as DataSource), baseDir: dirname(full) };
  if (full.endsWith('.json')) {
    const raw = readConfigFile(full) as Record<string, unknown>;
    const candidate = raw && typeof raw === 'object' && 'data' in raw ? raw.data : raw;
    const r = dataSourceSchema.safeParse(candidate);
    if (!r.success) throw new FlexiModalError(`not a data source: ${formatIssues(r.error.issues)}`, { where: full, hint: 'see docs/DATA.md' });
    return { source: withRanges(r.data), baseDir: dirname(full) };
  }
  if (isRecords) {
    if (!opts.outcomes) {
      throw new FlexiModalError('PhysioNet 2012 records need an outcomes file', { where: path, hint: 'add --outcomes Outcomes-x.txt' });
    }
    const grouping: Record<string, string[]> = {};
    for (const m of spec.modalities) if (m.kind === 'timeseries') grouping[m.name] = m.variables;
    const r = dataSourceSchema.safeParse(withRanges({ type: 'physionet2012', records: full, outcomes: resolve(opts.outcomes), grouping } as DataSource));
    if (!r.success) throw new FlexiModalError(`cannot read as PhysioNet 2012: ${formatIssues(r.error.issues)}`, { where: path });
    return { source: r.data, baseDir: dirname(full) };
  }
  throw new FlexiModalError('unrecognised data file', {
    where: path,
    hint: 'pass a .jsonl file, a data-source .json, or a PhysioNet 2012 directory/.tar.gz with --outcomes',
  });
}

/**
 * `train --external-data`: a JSONL file, a data-source JSON, or PhysioNet records read with the
 * training data's reader options (grouping, ranges) and `--external-outcomes`.
 */
export function externalSourceFromArg(path: string, outcomes: string | undefined, trainingSource: DataSource): DataSource {
  const full = resolve(path);
  if (!existsSync(full)) throw new FlexiModalError('no such file or directory', { where: `--external-data ${path}` });
  if (full.endsWith('.jsonl')) return { type: 'jsonl', path: full } as DataSource;
  if (full.endsWith('.json')) {
    const raw = readConfigFile(full) as Record<string, unknown>;
    const r = dataSourceSchema.safeParse(raw && typeof raw === 'object' && 'data' in raw ? raw.data : raw);
    if (!r.success) throw new FlexiModalError(`not a data source: ${formatIssues(r.error.issues)}`, { where: full, hint: 'see docs/DATA.md' });
    return r.data;
  }
  if (trainingSource.type !== 'physionet2012') {
    throw new FlexiModalError('a records directory/.tar.gz is PhysioNet 2012 input, but the training data is not', {
      where: `--external-data ${path}`,
      hint: 'pass a .jsonl file or a data-source .json',
    });
  }
  if (!outcomes) throw new FlexiModalError('PhysioNet records need an outcomes file', { where: `--external-data ${path}`, hint: 'add --external-outcomes Outcomes-x.txt' });
  return { ...trainingSource, records: full, outcomes: resolve(outcomes) };
}

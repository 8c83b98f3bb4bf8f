/**
 * Turning a `--data <path>` or `--data-config <json>` argument into a data source: a FlexiModal
 * JSONL file, a JSON file holding a data-source object (or a run config, whose `data` is used —
 * any source the trainer accepts), or a PhysioNet 2012 directory / .tar.gz (with `--outcomes`),
 * read with the grouping of the model's spec. Prediction input is cleaned with the model's
 * training ranges unless the source sets its own.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FlexiModalError } from '../errors.js';
import type { DatasetSpec } from '../data/schema.js';
import { dataSourceSchema, type DataSource } from '../data/load.js';
import { readConfigFile, formatIssues } from '../config/parse.js';
import type { Range } from '../data/ranges.js';

/** A JSON file holding a data-source object, or a run config whose `data` section is used. */
function dataSourceFromJsonFile(full: string): DataSource {
  const raw = readConfigFile(full) as Record<string, unknown>;
  const candidate = raw && typeof raw === 'object' && 'data' in raw ? raw.data : raw;
  const r = dataSourceSchema.safeParse(candidate);
  if (!r.success) throw new FlexiModalError(`not a data source: ${formatIssues(r.error.issues)}`, { where: full, hint: 'see docs/DATA.md' });
  return r.data;
}

/** The source with the model's training ranges, unless it sets its own (MIMIC-IV and synthetic data keep theirs). */
function withRanges(src: DataSource, ranges: Record<string, Range> | undefined): DataSource {
  if (!ranges || src.type === 'synthetic' || src.type === 'mimic-iv' || src.ranges || src.rangePreset) return src;
  return { ...src, ranges, rangePreset: 'none' } as DataSource;
}

/**
 * The data source of `--data <path>` and the directory its relative paths are resolved against.
 * PhysioNet records are read with the time-series grouping of `spec` (the model's) when given.
 */
export function dataSourceFromArg(
  path: string,
  opts: { outcomes?: string; ranges?: Record<string, Range> },
  spec?: DatasetSpec,
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
  if (full.endsWith('.jsonl')) return { source: withRanges({ type: 'jsonl', path: full } as DataSource, opts.ranges), baseDir: dirname(full) };
  if (full.endsWith('.json')) return { source: withRanges(dataSourceFromJsonFile(full), opts.ranges), baseDir: dirname(full) };
  if (isRecords) {
    if (!opts.outcomes) {
      throw new FlexiModalError('PhysioNet 2012 records need an outcomes file', { where: path, hint: 'add --outcomes Outcomes-x.txt' });
    }
    const grouping: Record<string, string[]> | undefined = spec ? {} : undefined;
    for (const m of spec?.modalities ?? []) if (m.kind === 'timeseries') grouping![m.name] = m.variables;
    const r = dataSourceSchema.safeParse(withRanges({ type: 'physionet2012', records: full, outcomes: resolve(opts.outcomes), grouping } as DataSource, opts.ranges));
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
  if (full.endsWith('.json')) return dataSourceFromJsonFile(full);
  if (trainingSource.type !== 'physionet2012') {
    throw new FlexiModalError('a records directory/.tar.gz is PhysioNet 2012 input, but the training data is not', {
      where: `--external-data ${path}`,
      hint: 'pass a .jsonl file or a data-source .json',
    });
  }
  if (!outcomes) throw new FlexiModalError('PhysioNet records need an outcomes file', { where: `--external-data ${path}`, hint: 'add --external-outcomes Outcomes-x.txt' });
  return { ...trainingSource, records: full, outcomes: resolve(outcomes) };
}

/** The data options shared by evaluate, predict and convert. */
export interface DataSourceOptions {
  /** A .jsonl file, a data-source .json, or PhysioNet 2012 records (directory / .tar.gz). */
  data?: string;
  /** A JSON file holding any data source the trainer accepts (or a run config: its `data` is used). */
  dataConfig?: string;
  /** Outcomes file for PhysioNet --data. */
  outcomes?: string;
}

/**
 * The data source of `--data <path>` or `--data-config <json>` (exactly one of them), with the
 * model's training ranges when given.
 */
export function dataSourceFromOptions(
  o: DataSourceOptions,
  spec?: DatasetSpec,
  ranges?: Record<string, Range>,
): { source: DataSource; baseDir: string; label: string } {
  if (o.data && o.dataConfig) throw new FlexiModalError('--data and --data-config exclude each other', { hint: 'pass one data source' });
  if (o.dataConfig) {
    if (o.outcomes) {
      throw new FlexiModalError('--outcomes is only read with PhysioNet records given as --data', {
        where: `--outcomes ${o.outcomes}`,
        hint: 'put the outcomes file in the data-source JSON (key "outcomes")',
      });
    }
    const full = resolve(o.dataConfig);
    if (!existsSync(full)) throw new FlexiModalError('no such file', { where: `--data-config ${o.dataConfig}`, hint: 'pass a JSON file holding a data source (docs/DATA.md) or a run config' });
    return { source: withRanges(dataSourceFromJsonFile(full), ranges), baseDir: dirname(full), label: o.dataConfig };
  }
  if (o.data) return { ...dataSourceFromArg(o.data, { outcomes: o.outcomes, ranges }, spec), label: o.data };
  throw new FlexiModalError('no data given', { hint: 'pass --data <file or directory> or --data-config <data-source.json>' });
}

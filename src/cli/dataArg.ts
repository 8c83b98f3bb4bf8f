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

/** A JSON file holding a data-source object, or a run config whose `data` section is used. */
function dataSourceFromJsonFile(full: string): DataSource {
  const raw = readConfigFile(full) as Record<string, unknown>;
  const candidate = raw && typeof raw === 'object' && 'data' in raw ? raw.data : raw;
  const r = dataSourceSchema.safeParse(candidate);
  if (!r.success) throw new FlexiModalError(`not a data source: ${formatIssues(r.error.issues)}`, { where: full, hint: 'see docs/DATA.md' });
  return r.data;
}

/**
 * The data source and the directory its relative paths are resolved against. PhysioNet records
 * are read with the time-series grouping of `spec` (the model's) when given, else the default.
 */
export function dataSourceFromArg(path: string, opts: { outcomes?: string }, spec?: DatasetSpec): { source: DataSource; baseDir: string } {
  const full = resolve(path);
  if (!existsSync(full)) throw new FlexiModalError(`no such file or directory`, { where: path, hint: 'check the --data path' });
  if (full.endsWith('.jsonl')) return { source: { type: 'jsonl', path: full } as DataSource, baseDir: dirname(full) };
  if (full.endsWith('.json')) return { source: dataSourceFromJsonFile(full), baseDir: dirname(full) };
  if (statSync(full).isDirectory() || full.endsWith('.tar.gz') || full.endsWith('.tgz')) {
    if (!opts.outcomes) {
      throw new FlexiModalError('PhysioNet 2012 records need an outcomes file', { where: path, hint: 'add --outcomes Outcomes-x.txt' });
    }
    const grouping: Record<string, string[]> | undefined = spec ? {} : undefined;
    for (const m of spec?.modalities ?? []) if (m.kind === 'timeseries') grouping![m.name] = m.variables;
    const r = dataSourceSchema.safeParse({ type: 'physionet2012', records: full, outcomes: resolve(opts.outcomes), grouping });
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

/** The data source of `--data <path>` or `--data-config <json>` (exactly one of them). */
export function dataSourceFromOptions(o: DataSourceOptions, spec?: DatasetSpec): { source: DataSource; baseDir: string; label: string } {
  if (o.data && o.dataConfig) throw new FlexiModalError('--data and --data-config exclude each other', { hint: 'pass one data source' });
  if (o.dataConfig) {
    const full = resolve(o.dataConfig);
    if (!existsSync(full)) throw new FlexiModalError('no such file', { where: `--data-config ${o.dataConfig}`, hint: 'pass a JSON file holding a data source (docs/DATA.md) or a run config' });
    return { source: dataSourceFromJsonFile(full), baseDir: dirname(full), label: o.dataConfig };
  }
  if (o.data) return { ...dataSourceFromArg(o.data, { outcomes: o.outcomes }, spec), label: o.data };
  throw new FlexiModalError('no data given', { hint: 'pass --data <file or directory> or --data-config <data-source.json>' });
}

/** Throw unless `data` has the modalities (names and kinds, in order) of the model's spec. */
export function assertModalitiesMatch(data: DatasetSpec, model: DatasetSpec, where: string): void {
  const names = (s: DatasetSpec) => s.modalities.map((m) => `${m.name}:${m.kind}`).join(',');
  if (names(data) !== names(model)) {
    throw new FlexiModalError(`the data has modalities [${names(data)}], the model expects [${names(model)}]`, {
      where,
      hint: 'read the data with the same modality grouping the model was trained with',
    });
  }
}

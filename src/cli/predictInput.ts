/**
 * The samples `predict` scores: a FlexiModal JSONL `--input` (streamed), or any data source the
 * trainer accepts via `--data <path>` / `--data-config <json>` (JSONL streamed, others loaded).
 */
import { resolve } from 'node:path';
import { FlexiModalError } from '../errors.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import { streamJsonl } from '../data/sources/jsonl.js';
import { loadDataset } from '../data/load.js';
import { formatReport } from '../data/report.js';
import { dataSourceFromOptions, assertModalitiesMatch, type DataSourceOptions } from './dataArg.js';

/** Samples to predict, in file order; labels are optional and ignored. */
export async function* samplesToPredict(o: DataSourceOptions & { input?: string }, spec: DatasetSpec): AsyncGenerator<Sample> {
  if (o.input) {
    if (o.data || o.dataConfig) throw new FlexiModalError('--input and --data / --data-config exclude each other', { hint: 'pass one data source' });
    yield* streamJsonl(o.input, { spec, requireLabels: false });
    return;
  }
  const { source, baseDir, label } = dataSourceFromOptions(o, spec);
  if (source.type === 'jsonl') {
    yield* streamJsonl(resolve(baseDir, source.path), { spec, requireLabels: false });
    return;
  }
  const dataset = await loadDataset(source, baseDir);
  process.stderr.write(formatReport(dataset.report, 'text') + '\n');
  assertModalitiesMatch(dataset.spec, spec, label);
  yield* dataset.samples;
}

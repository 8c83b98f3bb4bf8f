/**
 * The samples `predict` scores: a FlexiModal JSONL `--input` (streamed), or any data source the
 * trainer accepts via `--data <path>` / `--data-config <json>` (JSONL streamed, others loaded).
 * Everything is cleaned with the model's training ranges and matched to the model's spec by name.
 */
import { resolve } from 'node:path';
import { FlexiModalError } from '../errors.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import { streamJsonl } from '../data/sources/jsonl.js';
import { loadDataset } from '../data/load.js';
import { formatReport, type ReportBuilder } from '../data/report.js';
import { RangePolicy, type Range } from '../data/ranges.js';
import { alignDataset } from '../data/specMatch.js';
import { dataSourceFromOptions, type DataSourceOptions } from './dataArg.js';

/**
 * Samples to predict, in file order; labels are optional and ignored. Streamed JSONL input counts
 * what its cleaning dropped in `report`; a loaded source prints its own data report.
 */
export async function* samplesToPredict(
  o: DataSourceOptions & { input?: string },
  spec: DatasetSpec,
  ranges: Record<string, Range> | undefined,
  report: ReportBuilder,
): AsyncGenerator<Sample> {
  const policy = RangePolicy.fromTable(ranges);
  if (o.input) {
    if (o.data || o.dataConfig) throw new FlexiModalError('--input and --data / --data-config exclude each other', { hint: 'pass one data source' });
    yield* streamJsonl(o.input, { spec, requireLabels: false, ranges: policy, report });
    return;
  }
  const { source, baseDir, label } = dataSourceFromOptions(o, spec, ranges);
  if (source.type === 'jsonl') {
    // its ranges are the model's unless the data-source JSON sets its own
    yield* streamJsonl(resolve(baseDir, source.path), { spec, requireLabels: false, ranges: RangePolicy.from(source, 'none', undefined, label), report });
    return;
  }
  const loaded = await loadDataset(source, baseDir);
  process.stderr.write(formatReport(loaded.report, 'text') + '\n');
  yield* alignDataset(spec, loaded, label).samples;
}

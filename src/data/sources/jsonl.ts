/**
 * FlexiModal JSON Lines: one sample per line, preceded by a header line
 * `{"fleximodal": 1, "spec": <DatasetSpec>}` (or the spec given separately). Format in
 * docs/DATA.md. Streaming reader (readline), async iterator for serving, and writer.
 */
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { tempPathFor } from '../../io/atomicWrite.js';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { basename } from 'node:path';
import { createHash } from 'node:crypto';
import { FlexiModalError } from '../../errors.js';
import type { Dataset, DatasetSpec, Sample } from '../schema.js';
import { ReportBuilder } from '../report.js';
import type { RangePolicy } from '../ranges.js';
import { stripBom } from '../bom.js';
import { JsonlLineReader, parseDatasetSpec, sampleToJson } from './jsonlRecords.js';

// Record parsing lives in jsonlRecords.ts (no file access; shared with the browser build).
export { datasetSpecSchema, parseDatasetSpec, sampleFromJson, sampleToJson, JsonlLineReader, parseJsonlText, type JsonlLineOptions } from './jsonlRecords.js';

/** Options of the JSONL readers. */
export interface JsonlOptions {
  /** The spec, when the file has no header line (or to check the header against). */
  spec?: DatasetSpec;
  /** A JSON file holding the spec (a DatasetSpec or a header object {fleximodal: 1, spec}). */
  specPath?: string;
  /** Require a label on every line (default true; false for prediction input → label NaN). */
  requireLabels?: boolean;
  /** Report to count into (streamJsonl). */
  report?: ReportBuilder;
  /** Plausible ranges: values outside are dropped and counted (default: `RangePolicy.default()`). */
  ranges?: RangePolicy;
}

async function loadSpecFile(path: string): Promise<DatasetSpec> {
  let raw: unknown;
  try {
    raw = JSON.parse(stripBom(await readFile(path, 'utf8')));
  } catch (e) {
    throw new FlexiModalError(`cannot read spec file: ${(e as Error).message}`, { where: path });
  }
  if (raw && typeof raw === 'object' && 'fleximodal' in raw) raw = (raw as { spec?: unknown }).spec;
  return parseDatasetSpec(raw, path);
}

/**
 * Stream samples from a JSONL file (readline; constant memory). The header line, if present,
 * gives the spec (checked against `opts.spec` when both exist). Errors name file:line.
 * The spec in use is reported through `onSpec` before the first sample.
 */
export async function* streamJsonl(path: string, opts: JsonlOptions & { onSpec?: (spec: DatasetSpec) => void } = {}): AsyncGenerator<Sample> {
  const file = basename(path);
  const spec = opts.spec ?? (opts.specPath ? await loadSpecFile(opts.specPath) : undefined);
  const isDir = await stat(path).then((st) => st.isDirectory(), () => false);
  if (isDir) {
    throw new FlexiModalError('is a directory, not a FlexiModal JSON Lines file', {
      where: path,
      hint: 'pass a .jsonl file (docs/DATA.md); convert other sources to JSONL first',
    });
  }
  const input = createReadStream(path);
  const opened = new Promise<void>((res, rej) => {
    input.once('open', () => res());
    input.once('error', (e) => rej(new FlexiModalError(`cannot open ${path}: ${e.message}`, { where: path })));
  });
  await opened;
  const rl = createInterface({ input, crlfDelay: Infinity });
  const reader = new JsonlLineReader(file, { ...opts, spec });
  let lineNo = 0;
  try {
    for await (const text of rl) {
      const s = reader.line(text, ++lineNo);
      if (s) yield s;
    }
  } finally {
    rl.close();
    input.destroy();
  }
  reader.end();
}

/** Read a whole JSONL file into a Dataset (with sha256 of the file and of the spec file). */
export async function readJsonl(path: string, opts: JsonlOptions = {}): Promise<Dataset> {
  const report = opts.report ?? new ReportBuilder();
  let spec: DatasetSpec | undefined;
  const samples: Sample[] = [];
  for await (const s of streamJsonl(path, { ...opts, report, onSpec: (sp) => (spec = sp) })) samples.push(s);
  spec ??= opts.spec ?? (opts.specPath ? await loadSpecFile(opts.specPath) : undefined);
  const hash = createHash('sha256');
  for await (const c of createReadStream(path)) hash.update(c as Buffer);
  const hashes: Record<string, string> = { [path]: hash.digest('hex') };
  if (opts.specPath) hashes[opts.specPath] = createHash('sha256').update(await readFile(opts.specPath)).digest('hex');
  return { spec: spec!, samples, report: report.build(`JSONL ${path}`, samples.length, samples), hashes };
}

/** Write a dataset as JSONL: header line then one sample per line (to a temporary name, renamed when complete). */
export async function writeJsonl(dataset: Pick<Dataset, 'spec' | 'samples'>, path: string): Promise<void> {
  const tmp = tempPathFor(path);
  const out = createWriteStream(tmp);
  try {
    const write = async (s: string) => {
      if (!out.write(s)) await once(out, 'drain');
    };
    await write(JSON.stringify({ fleximodal: 1, spec: dataset.spec }) + '\n');
    for (const s of dataset.samples) await write(JSON.stringify(sampleToJson(dataset.spec, s)) + '\n');
    out.end();
    await once(out, 'finish');
    renameSync(tmp, path);
  } catch (e) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw e;
  }
}

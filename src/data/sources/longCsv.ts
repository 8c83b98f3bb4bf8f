/**
 * Long-format CSV reader: observations `id,time,variable,value` (time in hours; empty for static
 * variables), labels `id,label`, and a modality map (variable → time-series modality name, or
 * {"modality": name, "static": true}). Format in docs/DATA.md. Embeddings are not supported in
 * this format (use JSON Lines).
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parse } from 'csv-parse';
import { FlexiModalError } from '../../errors.js';
import type { Dataset, DatasetSpec, ModalitySpec, Sample, TaskSpec } from '../schema.js';
import { ReportBuilder } from '../report.js';
import { buildTimeSeries } from '../timeseries.js';
import { sha256File } from '../hash.js';
import { RangePolicy, finiteNumber, type RangeOptions } from '../ranges.js';
import { stripBom } from '../bom.js';

/** variable → time-series modality name, or a static feature of a static modality. */
export type LongCsvModalityMap = Record<string, string | { modality: string; static: true }>;

export { longCsvModalityMapSchema } from '../sourceSchema.js';
import { longCsvModalityMapSchema } from '../sourceSchema.js';

/** Options of `readLongCsv`. */
export interface LongCsvOptions extends RangeOptions {
  /** Observations CSV with header `id,time,variable,value`. */
  path: string;
  /** Labels CSV with header `id,label`. */
  labels: string;
  /** The modality map, or the path of a JSON file holding it. */
  modalityMap: LongCsvModalityMap | string;
  /** Task (default binary named "label"). */
  task?: TaskSpec;
  /** Observation window in hours (default: the largest time observed, at least 1). */
  horizonHours?: number;
  /** Dataset name (default: the file name). */
  name?: string;
  /** Base directory for relative paths (default: process.cwd()). */
  baseDir?: string;
}

export const NUM_RE = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

interface Row {
  fields: string[];
  line: number;
}

/** Stream CSV rows with their line numbers; csv-parse errors become FlexiModalErrors with file:line. */
export async function* csvRows(path: string, display: string): AsyncGenerator<Row> {
  const input = createReadStream(path);
  await new Promise<void>((res, rej) => {
    input.once('open', () => res());
    input.once('error', (e) => rej(new FlexiModalError(`cannot open ${path}: ${e.message}`, { where: display })));
  });
  const parser = input.pipe(parse({ info: true, relax_column_count: true, skip_empty_lines: true, bom: true }));
  let lastLine = 0;
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      lastLine = r.info.lines;
      yield { fields: r.record, line: r.info.lines };
    }
  } catch (e) {
    if (e instanceof FlexiModalError) throw e;
    const err = e as Error & { lines?: number; code?: string };
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
      // csv-parse reports the end of the file; the quote opened in the record after the last good one
      const opened = await firstNonEmptyLineAfter(path, lastLine);
      throw new FlexiModalError(`malformed CSV: a quote opened on this line is never closed (the rest of the file, to line ${err.lines ?? '?'}, was read as one field)`, {
        where: `${display}:${opened}`,
        hint: 'close the quote or remove it',
      });
    }
    throw new FlexiModalError(`malformed CSV: ${err.message}`, { where: `${display}:${err.lines ?? '?'}` });
  } finally {
    input.destroy();
  }
}

/** The number of the first non-empty line after line `after` (1-based). */
async function firstNonEmptyLineAfter(path: string, after: number): Promise<number> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  for (let i = after; i < lines.length; i++) if (lines[i]!.trim() !== '') return i + 1;
  return after + 1;
}

function parseLabelCell(task: TaskSpec, s: string, where: string): number | number[] {
  const t = s.trim();
  if (task.kind === 'binary') {
    if (t !== '0' && t !== '1') throw new FlexiModalError(`label must be 0 or 1, got "${s}"`, { where });
    return Number(t);
  }
  if (task.kind === 'multiclass') {
    const k = task.classes.indexOf(t);
    if (k >= 0) return k;
    if (/^\d+$/.test(t) && Number(t) < task.classes.length) return Number(t);
    throw new FlexiModalError(`label "${s}" is neither a class name nor a class index (classes: ${task.classes.join(', ')})`, { where });
  }
  const parts = t.split(';');
  if (parts.length !== task.labels.length || parts.some((p) => p !== '0' && p !== '1')) {
    throw new FlexiModalError(`multilabel label must be ${task.labels.length} values 0/1 separated by ";", got "${s}"`, { where });
  }
  return parts.map(Number);
}

/** Read a long-format CSV (+ labels + modality map) into a Dataset. */
export async function readLongCsv(opts: LongCsvOptions): Promise<Dataset> {
  const base = opts.baseDir ?? process.cwd();
  const dataPath = resolve(base, opts.path);
  const labelPath = resolve(base, opts.labels);
  const dataName = basename(opts.path);
  const labelName = basename(opts.labels);
  const task: TaskSpec = opts.task ?? { kind: 'binary', name: 'label' };
  const hashes: Record<string, string> = {};

  // Modality map → spec modalities (order of first appearance).
  let rawMap: unknown = opts.modalityMap;
  let mapWhere = 'modalityMap';
  if (typeof opts.modalityMap === 'string') {
    const mp = resolve(base, opts.modalityMap);
    mapWhere = opts.modalityMap;
    try {
      rawMap = JSON.parse(stripBom(await readFile(mp, 'utf8')));
    } catch (e) {
      throw new FlexiModalError(`cannot read modality map: ${(e as Error).message}`, { where: mapWhere });
    }
    hashes[opts.modalityMap] = await sha256File(mp);
  }
  const mr = longCsvModalityMapSchema.safeParse(rawMap);
  if (!mr.success) {
    const iss = mr.error.issues[0]!;
    throw new FlexiModalError(`invalid modality map at ${iss.path.join('.') || '(root)'}: ${iss.message}`, {
      where: mapWhere,
      hint: 'map each variable to a modality name, or to {"modality": "demo", "static": true}',
    });
  }
  const modalities: ModalitySpec[] = [];
  const slot = new Map<string, { m: number; j: number; isStatic: boolean }>();
  for (const [variable, target] of Object.entries(mr.data)) {
    const modName = typeof target === 'string' ? target : target.modality;
    const isStatic = typeof target !== 'string';
    let m = modalities.findIndex((x) => x.name === modName);
    if (m < 0) {
      modalities.push(isStatic ? { name: modName, kind: 'static', features: [] } : { name: modName, kind: 'timeseries', variables: [] });
      m = modalities.length - 1;
    }
    const spec = modalities[m]!;
    if ((spec.kind === 'static') !== isStatic) {
      throw new FlexiModalError(`modality "${modName}" mixes static and time-series variables (at "${variable}")`, { where: mapWhere });
    }
    const list = spec.kind === 'static' ? spec.features : spec.kind === 'timeseries' ? spec.variables : [];
    slot.set(variable, { m, j: list.length, isStatic });
    list.push(variable);
  }
  if (modalities.length === 0) throw new FlexiModalError('the modality map is empty', { where: mapWhere });

  const ranges = RangePolicy.from(opts, 'none', slot.keys(), 'ranges');

  // Labels.
  const labels = new Map<string, { y: number | number[]; line: number }>();
  let first = true;
  for await (const row of csvRows(labelPath, labelName)) {
    const where = `${labelName}:${row.line}`;
    if (first) {
      first = false;
      if (row.fields.length !== 2 || row.fields[0] !== 'id' || row.fields[1] !== 'label') {
        throw new FlexiModalError(`missing header: expected "id,label", found "${row.fields.join(',')}"`, { where: `${labelName}:1` });
      }
      continue;
    }
    if (row.fields.length !== 2) throw new FlexiModalError(`truncated line: expected 2 fields id,label, got ${row.fields.length}`, { where });
    const [id, lab] = row.fields as [string, string];
    const prev = labels.get(id);
    if (prev) throw new FlexiModalError(`duplicate id "${id}" (first at line ${prev.line})`, { where });
    labels.set(id, { y: parseLabelCell(task, lab, where), line: row.line });
  }
  if (first) throw new FlexiModalError('missing header: the file is empty', { where: `${labelName}:1` });
  hashes[opts.labels] = await sha256File(labelPath);

  // Observations.
  const report = new ReportBuilder();
  type Acc = { firstLine: number; ts: { t: number[]; v: number[]; x: number[] }[]; st: { sum: number[]; n: number[] }[] };
  const acc = new Map<string, Acc>();
  let maxTime = 0;
  first = true;
  for await (const row of csvRows(dataPath, dataName)) {
    const where = `${dataName}:${row.line}`;
    if (first) {
      first = false;
      const h = row.fields.join(',');
      if (h !== 'id,time,variable,value') {
        throw new FlexiModalError(`missing header: expected "id,time,variable,value" (case-sensitive), found "${h.slice(0, 60)}"`, {
          where: `${dataName}:1`,
        });
      }
      continue;
    }
    if (row.fields.length < 4) throw new FlexiModalError(`truncated line: expected 4 fields id,time,variable,value, got ${row.fields.length}`, { where });
    if (row.fields.length > 4) throw new FlexiModalError(`too many fields: expected 4, got ${row.fields.length}`, { where });
    const [id, time, variable, value] = row.fields as [string, string, string, string];
    if (id === '') throw new FlexiModalError('empty id', { where });
    const s = slot.get(variable);
    if (!s) {
      throw new FlexiModalError(`unknown variable "${variable}"`, {
        where,
        hint: `add it to the modality map (names are case-sensitive); known: ${[...slot.keys()].slice(0, 40).join(' ')}`,
      });
    }
    if (value.trim() === '') {
      report.count('empty value skipped', 1, variable);
      continue;
    }
    if (!NUM_RE.test(value)) throw new FlexiModalError(`non-numeric value "${value}" for ${variable}`, { where });
    const x = finiteNumber(value, `value of ${variable}`, where);
    let t = NaN;
    if (s.isStatic) {
      if (time.trim() !== '') throw new FlexiModalError(`static variable "${variable}" must have an empty time, got "${time}"`, { where });
    } else {
      if (!NUM_RE.test(time)) throw new FlexiModalError(`bad time "${time}" for ${variable}: expected hours as a number`, { where });
      t = finiteNumber(time, `time of ${variable}`, where);
      if (t < 0) throw new FlexiModalError(`negative time ${t}`, { where });
    }
    if (!ranges.keep(variable, x, report)) continue;
    let a = acc.get(id);
    if (!a) {
      a = {
        firstLine: row.line,
        ts: modalities.map(() => ({ t: [], v: [], x: [] })),
        st: modalities.map((m) => (m.kind === 'static' ? { sum: m.features.map(() => 0), n: m.features.map(() => 0) } : { sum: [], n: [] })),
      };
      acc.set(id, a);
    }
    if (s.isStatic) {
      const st = a.st[s.m]!;
      st.n[s.j]!++;
      st.sum[s.j]! += x / st.n[s.j]! - st.sum[s.j]! / st.n[s.j]!; // running mean: cannot overflow
      if (st.n[s.j]! > 1) report.count('duplicate static value merged', 1, variable);
    } else {
      maxTime = Math.max(maxTime, t);
      const ts = a.ts[s.m]!;
      ts.t.push(t);
      ts.v.push(s.j);
      ts.x.push(x);
    }
  }
  if (first) throw new FlexiModalError('missing header: the file is empty', { where: `${dataName}:1` });
  hashes[opts.path] = await sha256File(dataPath);

  const samples: Sample[] = [];
  for (const [id, a] of acc) {
    const lab = labels.get(id);
    if (!lab) {
      throw new FlexiModalError(`id "${id}" (first at ${dataName}:${a.firstLine}) has no row in ${labelName}`, {
        where: labelName,
        hint: 'every id in the observations needs a label row',
      });
    }
    const mods: Sample['modalities'] = {};
    modalities.forEach((m, mi) => {
      if (m.kind === 'static') {
        const st = a.st[mi]!;
        if (st.n.some((k) => k > 0)) mods[m.name] = { kind: 'static', values: Float64Array.from(st.sum, (v, j) => (st.n[j]! > 0 ? v : NaN)) };
      } else if (m.kind === 'timeseries') {
        const ts = a.ts[mi]!;
        mods[m.name] = buildTimeSeries(ts.t, ts.v, ts.x, m.variables, report);
      }
    });
    samples.push({ id, modalities: mods, label: lab.y, source: `${dataName}:${a.firstLine}` });
  }
  let extra = 0;
  for (const id of labels.keys()) if (!acc.has(id)) extra++;
  report.count('label row without observations', extra);

  const spec: DatasetSpec = {
    name: opts.name ?? basename(opts.path).replace(/\.csv$/, ''),
    modalities,
    task,
    horizonHours: opts.horizonHours ?? Math.max(1, maxTime),
  };
  return { spec, samples, report: report.build(`long CSV ${opts.path}`, samples.length, samples), hashes };
}

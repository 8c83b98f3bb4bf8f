/**
 * Multi-view feature tables: one CSV per view (a header of feature names, one row per sample, the
 * rows of every view aligned) and a labels CSV with the same rows. Each view becomes a `static`
 * modality whose features are the view's columns (e.g. UCI mfeat: 6 views of 2,000 digits).
 *
 * A view row whose cells are all empty means the view is missing for that sample; a single empty
 * (or NA / NaN / ?) cell is a missing feature entry. Both are counted in the data report. Format in
 * docs/DATA.md ("Multi-view CSV").
 */
import { basename, resolve } from 'node:path';
import { FlexiModalError } from '../../errors.js';
import type { Dataset, DatasetSpec, Sample, StaticModalitySpec, TaskSpec } from '../schema.js';
import { ReportBuilder } from '../report.js';
import { sha256File } from '../hash.js';
import { csvRows, NUM_RE } from './longCsv.js';
import { nonFiniteError, RangePolicy } from '../ranges.js';

/** Options of `readMultiviewCsv`. */
export interface MultiviewCsvOptions {
  /** view (modality) name → CSV path; the modality order is the order of the keys. */
  views: Record<string, string>;
  /** Labels CSV with a header; its rows are aligned with the views' rows. */
  labels: string;
  /** Column of the labels file holding the class (default: the last column). */
  labelColumn?: string;
  /** Column of the labels file holding a sample id (default: the 0-based row number). */
  idColumn?: string;
  /** Class names in order (default: the distinct label values, sorted numerically when all numeric). */
  classes?: string[];
  /** 'binary' needs labels 0/1; default 'multiclass'. */
  task?: 'multiclass' | 'binary';
  /** Task name (default: the label column's name). */
  taskName?: string;
  /** Dataset name (default: the labels file's folder name). */
  name?: string;
  /** Base directory for relative paths (default: process.cwd()). */
  baseDir?: string;
  /** Plausible ranges per feature; values outside are dropped (missing) and counted (default: the default policy). */
  ranges?: RangePolicy;
}

const MISSING_CELL = /^\s*(?:|NA|N\/A|NaN|nan|null|\?)\s*$/;

/** Read one CSV into its header and rows (with line numbers). */
async function readTable(path: string, display: string): Promise<{ header: string[]; rows: { fields: string[]; line: number }[] }> {
  let header: string[] | undefined;
  const rows: { fields: string[]; line: number }[] = [];
  for await (const row of csvRows(path, display)) {
    if (!header) header = row.fields.map((f) => f.trim());
    else rows.push(row);
  }
  if (!header) throw new FlexiModalError('missing header: the file is empty', { where: `${display}:1` });
  // a file without a header row would lose its first sample to the header: every cell numeric says so
  if (header.length > 0 && header.every((h) => NUM_RE.test(h))) {
    throw new FlexiModalError(`the first row (${header.slice(0, 4).join(', ')}${header.length > 4 ? ', …' : ''}) is all numbers: it looks like data, not a header of column names`, {
      where: `${display}:1`,
      hint: 'a multi-view CSV needs a header row naming its columns: add one (e.g. f0,f1,…), so the first sample is not taken for the header',
    });
  }
  return { header, rows };
}

/** Read a multi-view CSV dataset. */
export async function readMultiviewCsv(opts: MultiviewCsvOptions): Promise<Dataset> {
  const base = opts.baseDir ?? process.cwd();
  const viewNames = Object.keys(opts.views);
  if (viewNames.length === 0) {
    throw new FlexiModalError('no views given', { where: 'config key data.views', hint: 'map each view name to its CSV file, e.g. {"fac": "mfeat-fac.csv"}' });
  }
  const hashes: Record<string, string> = {};
  const report = new ReportBuilder();
  const ranges = opts.ranges ?? RangePolicy.default();

  // Labels.
  const labelPath = resolve(base, opts.labels);
  const labelName = basename(opts.labels);
  const lab = await readTable(labelPath, labelName);
  hashes[opts.labels] = await sha256File(labelPath);
  const col = (name: string | undefined, fallback: number, key: string): number => {
    if (name === undefined) return fallback;
    const i = lab.header.indexOf(name);
    if (i < 0) throw new FlexiModalError(`column "${name}" not in the header (${lab.header.join(', ')})`, { where: `${labelName}:1`, hint: `fix config key data.${key}` });
    return i;
  };
  const labelCol = col(opts.labelColumn, lab.header.length - 1, 'labelColumn');
  const idCol = opts.idColumn === undefined ? -1 : col(opts.idColumn, -1, 'idColumn');
  const rawLabels = lab.rows.map((r) => {
    const v = r.fields[labelCol]?.trim() ?? '';
    if (v === '') throw new FlexiModalError('empty label', { where: `${labelName}:${r.line}`, hint: 'every row needs a label (drop the row from every view and the labels file)' });
    return v;
  });
  const kind = opts.task ?? 'multiclass';
  let classes = opts.classes;
  if (!classes) {
    classes = [...new Set(rawLabels)];
    const numeric = classes.every((c) => NUM_RE.test(c));
    classes.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  }
  if (kind === 'multiclass' && classes.length < 2) {
    throw new FlexiModalError(`a multiclass task needs at least 2 classes, found ${classes.length} (${classes.join(', ')})`, { where: labelName });
  }
  const labels = rawLabels.map((v, i) => {
    const where = `${labelName}:${lab.rows[i]!.line}`;
    if (kind === 'binary') {
      if (v !== '0' && v !== '1') throw new FlexiModalError(`binary label must be 0 or 1, got "${v}"`, { where });
      return Number(v);
    }
    const k = classes.indexOf(v);
    if (k < 0) throw new FlexiModalError(`label "${v}" is not one of the classes (${classes.join(', ')})`, { where, hint: 'fix the label or config key data.classes' });
    return k;
  });
  const ids = lab.rows.map((r, i) => (idCol >= 0 ? (r.fields[idCol]?.trim() ?? '') : String(i)));
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    const where = `${labelName}:${lab.rows[i]!.line}`;
    if (id === '') throw new FlexiModalError('empty id', { where });
    if (seen.has(id)) throw new FlexiModalError(`duplicate id "${id}" (first at line ${seen.get(id)})`, { where });
    seen.set(id, lab.rows[i]!.line);
  });
  const n = lab.rows.length;

  // Views.
  const modalities: StaticModalitySpec[] = [];
  const values: Float64Array[][] = []; // [view][sample] → features
  for (const view of viewNames) {
    const rel = opts.views[view]!;
    const path = resolve(base, rel);
    const display = basename(rel);
    const t = await readTable(path, display);
    hashes[rel] = await sha256File(path);
    if (t.rows.length !== n) {
      throw new FlexiModalError(`view "${view}" has ${t.rows.length} data rows but ${labelName} has ${n}`, {
        where: display,
        hint: 'the rows of every view and of the labels file must be the same samples in the same order',
      });
    }
    const F = t.header.length;
    const dup = t.header.find((h, i) => t.header.indexOf(h) !== i);
    if (dup !== undefined) throw new FlexiModalError(`duplicate column "${dup}"`, { where: `${display}:1` });
    modalities.push({ name: view, kind: 'static', features: t.header });
    values.push(
      t.rows.map((r) => {
        const where = `${display}:${r.line}`;
        if (r.fields.length !== F) throw new FlexiModalError(`expected ${F} fields (the header's), got ${r.fields.length}`, { where });
        const x = new Float64Array(F);
        r.fields.forEach((cell, j) => {
          if (MISSING_CELL.test(cell)) {
            x[j] = NaN;
            return;
          }
          if (!NUM_RE.test(cell)) throw new FlexiModalError(`non-numeric value "${cell}" in column ${t.header[j]}`, { where });
          const v = Number(cell);
          if (!Number.isFinite(v)) throw nonFiniteError(`value of column ${t.header[j]}`, cell, where);
          x[j] = ranges.keep(t.header[j]!, v, report) ? v : NaN;
        });
        const missing = x.reduce((a, v) => a + (Number.isNaN(v) ? 1 : 0), 0);
        if (missing === F) report.count('view row empty (modality absent)', 1, view);
        else report.count('missing feature value', missing, view);
        return x;
      }),
    );
  }

  const samples: Sample[] = ids.map((id, i) => {
    const mods: Sample['modalities'] = {};
    viewNames.forEach((view, v) => {
      const x = values[v]![i]!;
      if (x.some((e) => !Number.isNaN(e))) mods[view] = { kind: 'static', values: x };
    });
    if (Object.keys(mods).length === 0) report.count('sample with no view at all', 1);
    return { id, modalities: mods, label: labels[i]!, source: `${labelName}:${lab.rows[i]!.line}` };
  });
  const task: TaskSpec =
    kind === 'binary' ? { kind: 'binary', name: opts.taskName ?? lab.header[labelCol]! } : { kind: 'multiclass', name: opts.taskName ?? lab.header[labelCol]!, classes };
  const spec: DatasetSpec = {
    name: opts.name ?? basename(resolve(labelPath, '..')),
    modalities,
    task,
    horizonHours: 1,
  };
  return { spec, samples, report: report.build(`multi-view CSV ${opts.labels} + ${viewNames.length} views`, n, samples), hashes };
}

/**
 * Reader for the PhysioNet/CinC Challenge 2012 ICU data: a directory of `<RecordID>.txt` files or
 * the `set-x.tar.gz` archive (streamed with zlib + tar-stream, nothing extracted to disk), plus an
 * `Outcomes-x.txt` file. See docs/DATA.md for groupings, plausible ranges and what is counted.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import tarStream from 'tar-stream';
import { FlexiModalError } from '../../errors.js';
import type { Dataset, DatasetSpec, ModalitySpec, Sample, StaticData } from '../schema.js';
import { ReportBuilder, listIds } from '../report.js';
import { buildTimeSeries } from '../timeseries.js';
import { listingDigest, sha256 } from '../hash.js';
import { RangePolicy, OUT_OF_RANGE, finiteNumber, type RangePreset } from '../ranges.js';
import { stripBom } from '../bom.js';
import {
  P12_DESCRIPTORS,
  P12_GROUPINGS,
  P12_RANGES,
  P12_STATIC_FEATURES,
  P12_VARIABLES,
  type Range,
} from './physionet2012Variables.js';

export { P12_GROUPINGS, P12_RANGES, P12_VARIABLES, P12_STATIC_FEATURES, P12_DESCRIPTORS };

/** Options of `readPhysioNet2012`. */
export interface PhysioNet2012Options {
  /** Directory of `<RecordID>.txt` files or a `.tar.gz` of them; several (e.g. set A and B) allowed. */
  records: string | string[];
  /** `Outcomes-x.txt` file(s); every record must have a row. */
  outcomes: string | string[];
  /** Time-series modalities: a named grouping or modality name → variables (default 'vitals-labs'). */
  grouping?: Record<string, string[]> | 'vitals-labs' | 'seven-groups';
  /** Overrides of the plausible ranges (inclusive; null = unbounded), by variable; "*" = default range. */
  ranges?: Record<string, Range>;
  /** The range table to start from (default 'physionet2012'; 'none' keeps only the default range). */
  rangePreset?: RangePreset;
  /** Descriptors Age, Gender, Height, ICUType (one-hot), Weight as a `static` modality (default true). */
  descriptorsAsStatic?: boolean;
  /** Base directory for relative paths (default: process.cwd()). */
  baseDir?: string;
}

/** Report reasons used by this reader. */
export const P12_REASONS = {
  outOfRange: OUT_OF_RANGE,
  fio2Percent: 'FiO2 percent converted to fraction',
  notInGrouping: 'variable not in grouping',
  descriptorMissing: 'descriptor missing (-1)',
  descriptorRepeated: 'repeated descriptor row ignored',
  noTimeSeries: 'record without time series (kept with static only)',
  outcomeWithoutRecord: 'outcome row without record',
  nonTxtIgnored: 'non-.txt file ignored',
} as const;

const TIME_RE = /^(\d+):([0-5]\d)$/;
const NUM_RE = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

interface VarSlot {
  modality: number; // index among time-series modalities, -1 = not in grouping
  variable: number;
}

interface Context {
  slots: Map<string, VarSlot>;
  tsModalities: { name: string; variables: string[] }[];
  ranges: RangePolicy;
  report: ReportBuilder;
  descriptorsAsStatic: boolean;
}

interface ParsedRecord {
  id: string;
  where: string;
  sample: Omit<Sample, 'label'>;
}

/** Resolve the grouping option to modality name → variables, validating it. */
export function resolveP12Grouping(
  grouping: PhysioNet2012Options['grouping'] = 'vitals-labs',
): Record<string, string[]> {
  if (typeof grouping === 'string') {
    const g = P12_GROUPINGS[grouping];
    if (!g) {
      throw new FlexiModalError(`unknown grouping "${grouping}"`, {
        where: 'grouping',
        hint: `use 'vitals-labs', 'seven-groups' or an object modality → variables`,
      });
    }
    return g;
  }
  const seen = new Map<string, string>();
  const known = new Set<string>(P12_VARIABLES);
  for (const [mod, vars] of Object.entries(grouping)) {
    if (mod === 'static') {
      throw new FlexiModalError('modality name "static" is reserved for the descriptors', {
        where: 'grouping',
        hint: 'rename the group',
      });
    }
    if (!Array.isArray(vars) || vars.length === 0) {
      throw new FlexiModalError(`group "${mod}" has no variables`, { where: `grouping.${mod}` });
    }
    for (const v of vars) {
      if (!known.has(v)) {
        throw new FlexiModalError(`unknown PhysioNet 2012 variable "${v}"`, {
          where: `grouping.${mod}`,
          hint: `variables are case-sensitive; known: ${P12_VARIABLES.join(' ')}`,
        });
      }
      const prev = seen.get(v);
      if (prev !== undefined) {
        throw new FlexiModalError(`variable "${v}" is in two groups ("${prev}" and "${mod}")`, {
          where: `grouping.${mod}`,
          hint: 'put each variable in at most one group',
        });
      }
      seen.set(v, mod);
    }
  }
  return grouping;
}

/**
 * Read PhysioNet 2012 records (directory or .tar.gz, one or several) and outcomes into a Dataset.
 * Label: In-hospital_death (binary). Samples are sorted by numeric RecordID.
 */
export async function readPhysioNet2012(opts: PhysioNet2012Options): Promise<Dataset> {
  const base = opts.baseDir ?? process.cwd();
  const recordPaths = Array.isArray(opts.records) ? opts.records : [opts.records];
  const outcomePaths = Array.isArray(opts.outcomes) ? opts.outcomes : [opts.outcomes];
  const grouping = resolveP12Grouping(opts.grouping);
  const descriptorsAsStatic = opts.descriptorsAsStatic ?? true;
  const ranges = RangePolicy.from(opts, 'physionet2012', [...P12_VARIABLES, ...Object.keys(P12_RANGES)], 'ranges');

  const report = new ReportBuilder();
  const tsModalities = Object.entries(grouping).map(([name, variables]) => ({ name, variables }));
  const slots = new Map<string, VarSlot>();
  for (const v of P12_VARIABLES) slots.set(v, { modality: -1, variable: -1 });
  tsModalities.forEach((m, mi) => m.variables.forEach((v, vi) => slots.set(v, { modality: mi, variable: vi })));
  const ctx: Context = { slots, tsModalities, ranges, report, descriptorsAsStatic };

  const hashes: Record<string, string> = {};
  const records = new Map<string, ParsedRecord>();
  const add = (rec: ParsedRecord) => {
    const prev = records.get(rec.id);
    if (prev) {
      throw new FlexiModalError(`duplicate RecordID ${rec.id}: in ${prev.where} and in ${rec.where}`, {
        where: rec.where,
        hint: 'each ICU stay must appear once; remove one copy or read the sets separately',
      });
    }
    records.set(rec.id, rec);
  };

  for (const p of recordPaths) {
    const abs = resolve(base, p);
    let st;
    try {
      st = await stat(abs);
    } catch {
      throw new FlexiModalError(`records path not found: ${abs}`, {
        where: p,
        hint: 'give a directory of <RecordID>.txt files or a set-x.tar.gz',
      });
    }
    if (st.isDirectory()) {
      hashes[p] = await readRecordDir(abs, p, ctx, add);
    } else if (/\.(tar\.gz|tgz)$/.test(abs)) {
      hashes[p] = await readRecordTar(abs, p, ctx, add);
    } else {
      throw new FlexiModalError(`records path is neither a directory nor a .tar.gz: ${abs}`, { where: p });
    }
  }

  const labels = new Map<string, { label: number; where: string }>();
  for (const p of outcomePaths) {
    const abs = resolve(base, p);
    let buf: Buffer;
    try {
      buf = await readFile(abs);
    } catch {
      throw new FlexiModalError(`outcomes file not found: ${abs}`, { where: p });
    }
    hashes[p] = sha256(buf);
    parseOutcomes(stripBom(buf.toString('latin1')), basename(p), labels);
  }

  const samples: Sample[] = [];
  for (const rec of records.values()) {
    const lab = labels.get(rec.id);
    if (!lab) {
      throw new FlexiModalError(`record ${rec.id} has no row in the outcomes file(s) ${outcomePaths.join(', ')}`, {
        where: rec.where,
        hint: 'give the Outcomes-x.txt file matching the record set (set-a ↔ Outcomes-a.txt)',
      });
    }
    samples.push({ ...rec.sample, label: lab.label });
  }
  let extraOutcomes = 0;
  for (const id of labels.keys()) if (!records.has(id)) extraOutcomes++;
  report.count(P12_REASONS.outcomeWithoutRecord, extraOutcomes);
  samples.sort((a, b) => Number(a.id) - Number(b.id));

  const empty = samples.filter((s) => tsModalities.every((m) => s.modalities[m.name] === undefined)).map((s) => s.id);
  report.count(P12_REASONS.noTimeSeries, empty.length);
  if (empty.length > 0) report.note(`${empty.length} records have no time series: ${listIds(empty)}`);

  const modalities: ModalitySpec[] = [];
  if (descriptorsAsStatic) modalities.push({ name: 'static', kind: 'static', features: [...P12_STATIC_FEATURES] });
  for (const m of tsModalities) modalities.push({ name: m.name, kind: 'timeseries', variables: [...m.variables] });
  const spec: DatasetSpec = {
    name: 'physionet2012',
    modalities,
    task: { kind: 'binary', name: 'In-hospital_death' },
    horizonHours: 48,
  };
  return {
    spec,
    samples,
    report: report.build(`PhysioNet 2012 (${recordPaths.join(', ')})`, records.size, samples),
    hashes,
  };
}

async function readRecordDir(
  abs: string,
  display: string,
  ctx: Context,
  add: (r: ParsedRecord) => void,
): Promise<string> {
  const names = (await readdir(abs)).sort();
  const listing: { name: string; sha256: string }[] = [];
  let ignored = 0;
  for (const name of names) {
    if (!name.endsWith('.txt')) {
      ignored++;
      continue;
    }
    const buf = await readFile(join(abs, name));
    listing.push({ name, sha256: sha256(buf) });
    add(parseRecord(buf.toString('latin1'), join(display, name), name, ctx));
  }
  if (ignored > 0) {
    ctx.report.count(P12_REASONS.nonTxtIgnored, ignored);
    ctx.report.note(`${display}: ${ignored} entries not ending in .txt were ignored`);
  }
  return listingDigest(listing);
}

async function readRecordTar(
  abs: string,
  display: string,
  ctx: Context,
  add: (r: ParsedRecord) => void,
): Promise<string> {
  const hash = createHash('sha256');
  const raw = createReadStream(abs);
  raw.on('data', (c) => hash.update(c as Buffer));
  const gunzip = createGunzip();
  const ex = tarStream.extract();
  const fail = (e: Error) => ex.destroy(e);
  raw.on('error', fail);
  gunzip.on('error', fail);
  raw.pipe(gunzip).pipe(ex);
  let ignored = 0;
  try {
    for await (const entry of ex) {
      const h = entry.header;
      if (h.type !== 'file' || !h.name.endsWith('.txt')) {
        if (h.type === 'file') ignored++;
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('latin1');
      add(parseRecord(text, `${display}:${h.name}`, basename(h.name), ctx));
    }
  } catch (e) {
    if (e instanceof FlexiModalError) {
      raw.destroy();
      throw e;
    }
    throw new FlexiModalError(`cannot read archive: ${(e as Error).message}`, {
      where: display,
      hint: 'the .tar.gz is truncated or not a gzip-compressed tar; re-download it',
    });
  }
  if (ignored > 0) {
    ctx.report.count(P12_REASONS.nonTxtIgnored, ignored);
    ctx.report.note(`${display}: ${ignored} archive files not ending in .txt were ignored`);
  }
  await new Promise<void>((res) => (raw.closed ? res() : raw.once('close', () => res())));
  return hash.digest('hex');
}

/** Parse one record file's text. `where` is the display path (file:line is appended). */
function parseRecord(text: string, where: string, fileName: string, ctx: Context): ParsedRecord {
  const { slots, tsModalities, ranges, report } = ctx;
  const lines = stripBom(text).split('\n');
  let nLines = lines.length;
  if (nLines > 0 && lines[nLines - 1] === '') nLines--; // final newline
  const header = (lines[0] ?? '').replace(/\r$/, '');
  if (nLines === 0 || header !== 'Time,Parameter,Value') {
    throw new FlexiModalError(`missing header: expected "Time,Parameter,Value", found "${header.slice(0, 60)}"`, {
      where: `${where}:1`,
      hint: 'a PhysioNet 2012 record file starts with the line Time,Parameter,Value',
    });
  }
  const nMod = tsModalities.length;
  const mt: number[][] = Array.from({ length: nMod }, () => []);
  const mv: number[][] = Array.from({ length: nMod }, () => []);
  const mx: number[][] = Array.from({ length: nMod }, () => []);
  const desc = new Map<string, number>();

  for (let li = 1; li < nLines; li++) {
    let line = lines[li]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const c1 = line.indexOf(',');
    const c2 = c1 < 0 ? -1 : line.indexOf(',', c1 + 1);
    const loc = () => `${where}:${li + 1}`;
    if (c2 < 0) {
      throw new FlexiModalError(`truncated line: expected 3 fields Time,Parameter,Value, got "${line.slice(0, 60)}"`, {
        where: loc(),
        hint: 'the file is cut or malformed; re-extract it',
      });
    }
    if (line.indexOf(',', c2 + 1) >= 0) {
      throw new FlexiModalError(`too many fields: expected 3 (Time,Parameter,Value), got "${line.slice(0, 60)}"`, {
        where: loc(),
      });
    }
    const ts = line.slice(0, c1);
    const name = line.slice(c1 + 1, c2);
    const vs = line.slice(c2 + 1);
    const tm = TIME_RE.exec(ts);
    if (!tm) {
      throw new FlexiModalError(`bad time "${ts}": expected HH:MM`, { where: loc(), hint: 'times are elapsed HH:MM, e.g. 07:35' });
    }
    if (!NUM_RE.test(vs)) {
      throw new FlexiModalError(`non-numeric value "${vs}" for ${name || '(empty name)'}`, { where: loc() });
    }
    const hours = Number(tm[1]) + Number(tm[2]) / 60;
    let value = finiteNumber(vs, name || '(empty name)', loc());
    const isZero = hours === 0;
    // Descriptors: the first 00:00 row of each descriptor name.
    if (isZero && (P12_DESCRIPTORS as readonly string[]).includes(name) && !desc.has(name)) {
      desc.set(name, value);
      continue;
    }
    const slot = slots.get(name);
    if (!slot) {
      if ((P12_DESCRIPTORS as readonly string[]).includes(name)) {
        report.count(P12_REASONS.descriptorRepeated, 1, name);
        continue;
      }
      throw new FlexiModalError(`unknown variable "${name}"`, {
        where: loc(),
        hint: `PhysioNet 2012 names are case-sensitive; known: ${[...P12_DESCRIPTORS, ...P12_VARIABLES].join(' ')}`,
      });
    }
    if (name === 'FiO2' && value > 1 && value <= 100) {
      value = value / 100;
      report.count(P12_REASONS.fio2Percent, 1, name);
    }
    if (!ranges.keep(name, value, report)) continue;
    if (slot.modality < 0) {
      report.count(P12_REASONS.notInGrouping, 1, name);
      continue;
    }
    mt[slot.modality]!.push(hours);
    mv[slot.modality]!.push(slot.variable);
    mx[slot.modality]!.push(value);
  }

  const idVal = desc.get('RecordID');
  if (idVal === undefined) {
    throw new FlexiModalError('no RecordID row at 00:00', { where: `${where}:2`, hint: 'the first rows must be the descriptors' });
  }
  const id = String(idVal);
  const stem = fileName.replace(/\.txt$/, '');
  if (/^\d+$/.test(stem) && stem !== id) {
    throw new FlexiModalError(`file name says record ${stem} but its RecordID row says ${id}`, { where: `${where}:2` });
  }

  const modalities: Sample['modalities'] = {};
  if (ctx.descriptorsAsStatic) modalities['static'] = staticFrom(desc, ranges, report);
  for (let m = 0; m < nMod; m++) {
    modalities[tsModalities[m]!.name] = buildTimeSeries(mt[m]!, mv[m]!, mx[m]!, tsModalities[m]!.variables, report);
  }
  return { id, where, sample: { id, modalities, source: where } };
}

function staticFrom(desc: Map<string, number>, ranges: RangePolicy, report: ReportBuilder): StaticData {
  const get = (name: string): number => {
    const v = desc.get(name);
    if (v === undefined || v === -1) {
      report.count(P12_REASONS.descriptorMissing, 1, name);
      return NaN;
    }
    return v;
  };
  const ranged = (name: string): number => {
    const v = get(name);
    if (!Number.isNaN(v) && !ranges.keep(name, v, report, `descriptor ${name}`)) return NaN;
    return v;
  };
  const age = ranged('Age');
  let gender = get('Gender');
  if (!Number.isNaN(gender) && gender !== 0 && gender !== 1) {
    report.count(P12_REASONS.outOfRange, 1, 'descriptor Gender');
    gender = NaN;
  }
  const height = ranged('Height');
  let icu = get('ICUType');
  if (!Number.isNaN(icu) && ![1, 2, 3, 4].includes(icu)) {
    report.count(P12_REASONS.outOfRange, 1, 'descriptor ICUType');
    icu = NaN;
  }
  const weight = ranged('Weight');
  const oneHot = [1, 2, 3, 4].map((k) => (Number.isNaN(icu) ? NaN : icu === k ? 1 : 0));
  return { kind: 'static', values: Float64Array.from([age, gender, height, ...oneHot, weight]) };
}

/** Parse an Outcomes file into `labels` (RecordID → In-hospital_death). */
function parseOutcomes(text: string, where: string, labels: Map<string, { label: number; where: string }>): void {
  const lines = text.split('\n');
  let n = lines.length;
  if (n > 0 && lines[n - 1] === '') n--;
  const header = (lines[0] ?? '').replace(/\r$/, '').split(',');
  const idCol = header.indexOf('RecordID');
  const labCol = header.indexOf('In-hospital_death');
  if (n === 0 || idCol < 0 || labCol < 0) {
    throw new FlexiModalError('missing header: expected columns RecordID and In-hospital_death', {
      where: `${where}:1`,
      hint: 'the first line of Outcomes-x.txt is RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death',
    });
  }
  for (let li = 1; li < n; li++) {
    const loc = `${where}:${li + 1}`;
    const f = lines[li]!.replace(/\r$/, '').split(',');
    if (f.length !== header.length) {
      throw new FlexiModalError(`truncated line: expected ${header.length} fields, got ${f.length}`, { where: loc });
    }
    const id = f[idCol]!;
    if (!/^\d+$/.test(id)) throw new FlexiModalError(`non-numeric RecordID "${id}"`, { where: loc });
    const lab = f[labCol]!;
    if (lab !== '0' && lab !== '1') {
      throw new FlexiModalError(`In-hospital_death must be 0 or 1, got "${lab}"`, { where: loc });
    }
    const prev = labels.get(id);
    if (prev) {
      throw new FlexiModalError(`duplicate RecordID ${id} in outcomes: ${prev.where} and ${loc}`, { where: loc });
    }
    labels.set(id, { label: Number(lab), where: loc });
  }
}

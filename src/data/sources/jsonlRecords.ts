/**
 * FlexiModal JSON Lines records without file access (shared by the Node reader,
 * src/data/sources/jsonl.ts, and the browser build): the spec schema, one sample object → a
 * validated `Sample` (`sampleFromJson`), its inverse (`sampleToJson`), and `JsonlLineReader`,
 * which turns the lines of a file (header line, then samples) into samples checked against an
 * expected spec by name. Format in docs/DATA.md.
 */
import { z } from 'zod';
import { FlexiModalError } from '../../errors.js';
import type { DatasetSpec, ModalityData, Sample } from '../schema.js';
import type { ReportBuilder } from '../report.js';
import { buildTimeSeries } from '../timeseries.js';
import { RangePolicy, nonFiniteError } from '../ranges.js';
import { stripBom } from '../bom.js';
import { matchSpec, alignSample, type SpecAlignment } from '../specMatch.js';

const name = z.string().min(1);

/** zod schema of a DatasetSpec (reused by config validation). */
export const datasetSpecSchema = z
  .object({
    name: z.string(),
    modalities: z
      .array(
        z.discriminatedUnion('kind', [
          z.object({ name, kind: z.literal('timeseries'), variables: z.array(name).min(1) }).strict(),
          z.object({ name, kind: z.literal('embedding'), dim: z.number().int().positive() }).strict(),
          z.object({ name, kind: z.literal('static'), features: z.array(name).min(1) }).strict(),
        ]),
      )
      .min(1)
      .max(30),
    task: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('binary'), name: z.string() }).strict(),
      z.object({ kind: z.literal('multiclass'), name: z.string(), classes: z.array(name).min(2) }).strict(),
      z.object({ kind: z.literal('multilabel'), name: z.string(), labels: z.array(name).min(1) }).strict(),
    ]),
    horizonHours: z.number().positive(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.modalities.forEach((m, i) => {
      if (seen.has(m.name)) ctx.addIssue({ code: 'custom', path: ['modalities', i, 'name'], message: `duplicate modality name "${m.name}"` });
      seen.add(m.name);
      const names = m.kind === 'timeseries' ? m.variables : m.kind === 'static' ? m.features : [];
      if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['modalities', i], message: 'duplicate variable/feature names' });
    });
  });

/** Validate a DatasetSpec (throws FlexiModalError naming `where` and the JSON path). */
export function parseDatasetSpec(raw: unknown, where: string): DatasetSpec {
  const r = datasetSpecSchema.safeParse(raw);
  if (!r.success) {
    const iss = r.error.issues[0]!;
    throw new FlexiModalError(`invalid dataset spec: ${formatPath(['spec', ...iss.path])}: ${iss.message}`, {
      where,
      hint: 'see docs/DATA.md "JSON Lines" for the spec format',
    });
  }
  return r.data as DatasetSpec;
}

function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

const SENTINEL = '\u0000nonfinite:';

/** Replace bare NaN / Infinity / -Infinity tokens (outside strings) by sentinel strings. */
function markNonFinite(line: string): string | null {
  let out = '';
  let inStr = false;
  let changed = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (inStr) {
      out += c;
      if (c === '\\') out += line[++i] ?? '';
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') {
      inStr = true;
      out += c;
      continue;
    }
    const rest = line.slice(i, i + 9);
    const tok = rest.startsWith('NaN') ? 'NaN' : rest.startsWith('Infinity') ? 'Infinity' : rest.startsWith('-Infinity') ? '-Infinity' : rest.startsWith('+Infinity') ? '+Infinity' : null;
    if (tok) {
      out += JSON.stringify(SENTINEL + tok);
      i += tok.length - 1;
      changed = true;
      continue;
    }
    out += c;
  }
  return changed ? out : null;
}

function findSentinel(v: unknown, path: PropertyKey[]): { path: PropertyKey[]; tok: string } | null {
  if (typeof v === 'string' && v.startsWith(SENTINEL)) return { path, tok: v.slice(SENTINEL.length) };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = findSentinel(v[i], [...path, i]);
      if (r) return r;
    }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const r = findSentinel(x, [...path, k]);
      if (r) return r;
    }
  }
  return null;
}

/** JSON.parse one line; errors name file:line and, for NaN/Infinity, the JSON path. */
export function parseLine(line: string, where: string): unknown {
  try {
    return JSON.parse(line);
  } catch (e) {
    const marked = markNonFinite(line);
    if (marked) {
      try {
        const found = findSentinel(JSON.parse(marked), []);
        if (found) throw nonFiniteError(formatPath(found.path), found.tok, where);
      } catch (e2) {
        if (e2 instanceof FlexiModalError) throw e2;
      }
    }
    throw new FlexiModalError(`invalid JSON (truncated line?): ${(e as Error).message}`, {
      where,
      hint: 'each line must be one complete JSON object',
    });
  }
}

const sampleLineSchema = z
  .object({
    id: z.string().min(1),
    label: z.union([z.number(), z.string(), z.array(z.number())]).optional(),
    subject: z.string().min(1).optional(),
    modalities: z.record(z.string(), z.unknown()),
  })
  .strict();

const fail = (where: string, path: string, msg: string): never => {
  throw new FlexiModalError(`${path}${/^(is|must|has) /.test(msg) ? ' ' : ': '}${msg}`, { where });
};

function numArray(v: unknown, where: string, path: string, opts: { allowNull?: boolean; int?: boolean } = {}): number[] {
  if (!Array.isArray(v)) return fail(where, path, 'must be an array');
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x === null && opts.allowNull) continue;
    if (typeof x === 'number' && !Number.isFinite(x)) throw nonFiniteError(`${path}[${i}]`, String(x), where);
    if (typeof x !== 'number') fail(where, `${path}[${i}]`, `is ${x === null ? 'null' : 'not a number'}`);
    if (opts.int && !Number.isInteger(x)) fail(where, `${path}[${i}]`, 'must be an integer');
  }
  return v as number[];
}

const DEFAULT_POLICY = RangePolicy.default();

/**
 * Convert one parsed JSON object into a Sample, validating it against the spec. `where` is
 * "file:line"; errors name it and the JSON path.
 */
export function sampleFromJson(
  spec: DatasetSpec,
  raw: unknown,
  where: string,
  report?: ReportBuilder,
  requireLabels = true,
  ranges: RangePolicy = DEFAULT_POLICY,
): Sample {
  const r = sampleLineSchema.safeParse(raw);
  if (!r.success) {
    const iss = r.error.issues[0]!;
    throw new FlexiModalError(`${formatPath(iss.path)}: ${iss.message}`, {
      where,
      hint: 'a sample line is {"id": "...", "label": ..., "modalities": {...}}',
    });
  }
  const o = r.data;
  const modalities: Sample['modalities'] = {};
  for (const key of Object.keys(o.modalities)) {
    if (!spec.modalities.some((m) => m.name === key)) {
      fail(where, `modalities.${key}`, `unknown modality (spec has ${spec.modalities.map((m) => m.name).join(', ')})`);
    }
  }
  for (const m of spec.modalities) {
    const v = o.modalities[m.name];
    const p = `modalities.${m.name}`;
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) fail(where, p, 'must be an object or null');
    const obj = v as Record<string, unknown>;
    const allowed = m.kind === 'timeseries' ? ['times', 'variables', 'values'] : m.kind === 'embedding' ? ['times', 'vectors'] : ['values'];
    for (const k of Object.keys(obj)) if (!allowed.includes(k)) fail(where, `${p}.${k}`, `unknown key for a ${m.kind} modality (allowed: ${allowed.join(', ')})`);
    let data: ModalityData | undefined;
    if (m.kind === 'timeseries') {
      const times = numArray(obj['times'], where, `${p}.times`);
      const values = numArray(obj['values'], where, `${p}.values`);
      const vr = obj['variables'];
      if (!Array.isArray(vr)) fail(where, `${p}.variables`, 'must be an array');
      const names = vr as unknown[];
      const vars = new Int32Array(names.length); // [n] indices into m.variables
      for (let i = 0; i < names.length; i++) {
        const x = names[i];
        if (typeof x === 'string') {
          const j = m.variables.indexOf(x);
          if (j < 0) fail(where, `${p}.variables[${i}]`, `unknown variable "${x}"`);
          vars[i] = j;
        } else if (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < m.variables.length) vars[i] = x;
        else fail(where, `${p}.variables[${i}]`, `must be a variable name or an index in [0, ${m.variables.length})`);
      }
      if (times.length !== values.length || vars.length !== values.length) {
        fail(where, p, `times, variables and values must have the same length (${times.length}, ${vars.length}, ${values.length})`);
      }
      for (let i = 0; i < times.length; i++) if (times[i]! < 0) fail(where, `${p}.times[${i}]`, 'is negative');
      // out-of-range values are dropped (and counted); the rows are copied only when one is
      let dropped: Uint8Array | null = null; // [n] 1 = dropped
      for (let i = 0; i < values.length; i++) {
        if (!ranges.keep(m.variables[vars[i]!]!, values[i]!, report)) (dropped ??= new Uint8Array(values.length))[i] = 1;
      }
      if (dropped) {
        const keep = (_: unknown, i: number) => dropped![i] === 0;
        data = buildTimeSeries(times.filter(keep), vars.filter(keep), values.filter(keep), m.variables, report);
      } else data = buildTimeSeries(times, vars, values, m.variables, report);
    } else if (m.kind === 'embedding') {
      const times = numArray(obj['times'], where, `${p}.times`);
      const vecs = obj['vectors'];
      if (!Array.isArray(vecs)) return fail(where, `${p}.vectors`, 'must be an array of arrays');
      if (vecs.length !== times.length) fail(where, p, `times and vectors must have the same length (${times.length}, ${vecs.length})`);
      const rows = vecs.map((vec, i) => {
        const a = numArray(vec, where, `${p}.vectors[${i}]`);
        if (a.length !== m.dim) fail(where, `${p}.vectors[${i}]`, `has length ${a.length}, spec dim is ${m.dim}`);
        return { t: times[i]!, v: Float32Array.from(a), i };
      });
      rows.sort((a, b) => a.t - b.t || a.i - b.i);
      data = rows.length === 0 ? undefined : { kind: 'embedding', times: Float64Array.from(rows.map((x) => x.t)), vectors: rows.map((x) => x.v) };
    } else {
      const values = numArray(obj['values'], where, `${p}.values`, { allowNull: true });
      if (values.length !== m.features.length) fail(where, `${p}.values`, `has length ${values.length}, spec has ${m.features.length} features`);
      const vals = Float64Array.from(values.map((x, j) => (x === null || !ranges.keep(m.features[j]!, x, report) ? NaN : x)));
      data = { kind: 'static', values: vals };
    }
    if (data) modalities[m.name] = data;
    else report?.count('empty modality treated as missing', 1, m.name);
  }
  const label = parseLabel(spec, o.label, where, requireLabels);
  const sample: Sample = { id: o.id, modalities, label, source: where };
  if (o.subject !== undefined) sample.subject = o.subject;
  return sample;
}

function parseLabel(spec: DatasetSpec, y: unknown, where: string, required: boolean): number | number[] {
  const t = spec.task;
  if (y === undefined) {
    if (required) fail(where, 'label', 'is missing (labels are required for training data)');
    return t.kind === 'multilabel' ? t.labels.map(() => NaN) : NaN;
  }
  if (t.kind === 'binary') {
    if (y !== 0 && y !== 1) fail(where, 'label', `must be 0 or 1 for a binary task, got ${JSON.stringify(y)}`);
    return y as number;
  }
  if (t.kind === 'multiclass') {
    if (typeof y === 'string') {
      const k = t.classes.indexOf(y);
      if (k < 0) fail(where, 'label', `unknown class "${y}" (classes: ${t.classes.join(', ')})`);
      return k;
    }
    if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= t.classes.length) {
      fail(where, 'label', `must be a class name or an index in [0, ${t.classes.length})`);
    }
    return y as number;
  }
  if (!Array.isArray(y) || y.length !== t.labels.length || y.some((x) => x !== 0 && x !== 1)) {
    fail(where, 'label', `must be an array of ${t.labels.length} values 0/1`);
  }
  return y as number[];
}

/** A sample as a plain JSON object (inverse of sampleFromJson; variables written by name). */
export function sampleToJson(spec: DatasetSpec, s: Sample): Record<string, unknown> {
  const mods: Record<string, unknown> = {};
  for (const m of spec.modalities) {
    const d = s.modalities[m.name];
    if (!d) continue;
    if (d.kind === 'timeseries' && m.kind === 'timeseries') {
      mods[m.name] = { times: Array.from(d.times), variables: Array.from(d.variables, (j) => m.variables[j]), values: Array.from(d.values) };
    } else if (d.kind === 'embedding') {
      mods[m.name] = { times: Array.from(d.times), vectors: d.vectors.map((v) => Array.from(v)) };
    } else if (d.kind === 'static') {
      mods[m.name] = { values: Array.from(d.values, (x) => (Number.isNaN(x) ? null : x)) };
    }
  }
  const out: Record<string, unknown> = { id: s.id };
  if (s.subject !== undefined) out['subject'] = s.subject;
  const y = s.label;
  const unlabeled = Array.isArray(y) ? y.some((x) => Number.isNaN(x)) : Number.isNaN(y);
  if (!unlabeled) out['label'] = y;
  out['modalities'] = mods;
  return out;
}

/** Options of `JsonlLineReader`. */
export interface JsonlLineOptions {
  /** The expected spec: required when the file has no header line; a header is matched to it by name. */
  spec?: DatasetSpec;
  /** Require a label on every line (default true; false for prediction input → label NaN). */
  requireLabels?: boolean;
  /** Report to count into (dropped values, empty modalities). */
  report?: ReportBuilder;
  /** Plausible ranges: values outside are dropped and counted (default: `RangePolicy.default()`). */
  ranges?: RangePolicy;
  /** Called with the spec in use before the first sample. */
  onSpec?: (spec: DatasetSpec) => void;
}

/**
 * The lines of one JSONL file, in order: an optional header `{"fleximodal": 1, "spec": ...}`
 * (matched by name against the expected spec; samples in a reordered spec are remapped), then
 * one sample per line (validated by `sampleFromJson`, ids unique). `file` names the file in
 * errors (`file:line`).
 */
export class JsonlLineReader {
  private spec: DatasetSpec | undefined;
  private readonly ids = new Map<string, number>();
  private sawFirst = false;
  /** Set when the header's spec differs from the expected one: samples are read with fileSpec and remapped by name. */
  private remap: { fileSpec: DatasetSpec; alignment: SpecAlignment } | undefined;
  private readonly ranges: RangePolicy;

  constructor(
    private readonly file: string,
    private readonly opts: JsonlLineOptions = {},
  ) {
    this.spec = opts.spec;
    this.ranges = opts.ranges ?? DEFAULT_POLICY;
  }

  /** The spec in use (the expected one, else the header's); undefined before a header is seen. */
  get currentSpec(): DatasetSpec | undefined {
    return this.spec;
  }

  /** One line (1-based `lineNo`): the sample it holds, or null for a blank or header line. */
  line(text: string, lineNo: number): Sample | null {
    const line = lineNo === 1 ? stripBom(text) : text;
    if (line.trim() === '') return null;
    const where = `${this.file}:${lineNo}`;
    const raw = parseLine(line, where);
    if (!this.sawFirst) {
      this.sawFirst = true;
      if (raw && typeof raw === 'object' && !Array.isArray(raw) && 'fleximodal' in raw) {
        const h = raw as { fleximodal: unknown; spec?: unknown };
        if (h.fleximodal !== 1) throw new FlexiModalError(`unsupported format version ${JSON.stringify(h.fleximodal)} (expected 1)`, { where });
        const fileSpec = parseDatasetSpec(h.spec, where);
        if (this.spec) {
          const alignment = matchSpec(this.spec, fileSpec, where);
          if (!alignment.identity) this.remap = { fileSpec, alignment };
        }
        this.spec ??= fileSpec;
        this.opts.onSpec?.(this.spec);
        return null;
      }
      if (!this.spec) {
        throw new FlexiModalError('missing header: the first line must be {"fleximodal": 1, "spec": {...}} (or pass a spec file)', {
          where,
          hint: 'add the header line, or give specPath',
        });
      }
      this.opts.onSpec?.(this.spec);
    }
    const read = sampleFromJson(this.remap?.fileSpec ?? this.spec!, raw, where, this.opts.report, this.opts.requireLabels ?? true, this.ranges);
    const s = this.remap ? alignSample(this.spec!, this.remap.alignment, read) : read;
    const prev = this.ids.get(s.id);
    if (prev !== undefined) throw new FlexiModalError(`duplicate id "${s.id}" (first at line ${prev})`, { where });
    this.ids.set(s.id, lineNo);
    return s;
  }

  /** Call after the last line: an empty file with no spec is an error. */
  end(): void {
    if (!this.sawFirst && !this.spec) throw new FlexiModalError('empty file: no header and no samples', { where: `${this.file}:1` });
  }
}

/** Every sample of a whole JSONL text (split on \n / \r\n), via `JsonlLineReader`. */
export function parseJsonlText(text: string, file: string, opts: JsonlLineOptions = {}): Sample[] {
  const reader = new JsonlLineReader(file, opts);
  const out: Sample[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const s = reader.line(line, i + 1);
    if (s) out.push(s);
  });
  reader.end();
  return out;
}

/**
 * The one check that data fit a model: modalities, variables, features and classes are matched
 * BY NAME against the model's spec. A different order is remapped; missing or unknown names are
 * one error that lists them all. A modality of the model the data lack is a missing modality
 * (every model here handles one), unless `strict`. Used by `evaluate`, `predict`, `Predictor`
 * (through src/data/inputRecords.ts) and the external test set of `train`.
 */
import { FlexiModalError } from '../errors.js';
import type { Dataset, DatasetSpec, ModalityData, Sample } from './schema.js';
import { buildTimeSeries } from './timeseries.js';
import { listIds } from './report.js';

/** How samples read with the data's spec are rewritten into the model's spec. */
export interface SpecAlignment {
  /** True when nothing needs remapping (same names in the same order). */
  identity: boolean;
  /** Per model modality name: the data's modality name and, per data index, the model index. */
  modalities: Record<string, { from: string | null; index: number[] | null }>;
  /** Multiclass / multilabel: data class (label) index → model index; null = identical. */
  labelIndex: number[] | null;
  /** Model modalities the data do not have (not strict): every sample misses them. */
  absent: string[];
}

/** How strictly data must match a model. */
export interface SpecMatchOptions {
  /**
   * false (default): a modality of the model that the data lack is a missing modality in every
   * sample (as the models are built to handle); true: it is an error like any other mismatch.
   */
  strict?: boolean;
}

function namesOf(m: DatasetSpec['modalities'][number]): string[] | null {
  return m.kind === 'timeseries' ? m.variables : m.kind === 'static' ? m.features : null;
}

/** Index map data → model, or null when identical; records missing / unknown names. */
function mapNames(model: string[], data: string[], scope: string, missing: string[], unknown: string[]): number[] | null {
  const pos = new Map(model.map((n, i) => [n, i] as const));
  const have = new Set(data);
  for (const n of model) if (!have.has(n)) missing.push(`${scope}${n}`);
  for (const n of data) if (!pos.has(n)) unknown.push(`${scope}${n}`);
  const index = data.map((n) => pos.get(n) ?? -1);
  return index.every((j, i) => j === i) && model.length === data.length ? null : index;
}

/**
 * Match the data's spec against the model's, by name. Throws one FlexiModalError listing every
 * missing and unknown modality, variable, feature or class (and kind / dim mismatches).
 */
export function matchSpec(model: DatasetSpec, data: DatasetSpec, where: string, opts: SpecMatchOptions = {}): SpecAlignment {
  const missing: string[] = [];
  const unknown: string[] = [];
  const other: string[] = [];
  const modalities: SpecAlignment['modalities'] = {};
  const absent: string[] = [];
  let identity = model.modalities.length === data.modalities.length;
  model.modalities.forEach((m, mi) => {
    const d = data.modalities.find((x) => x.name === m.name);
    if (!d) {
      if (opts.strict) missing.push(`modality ${m.name}`);
      else {
        absent.push(m.name);
        modalities[m.name] = { from: null, index: null };
        identity = false;
      }
      return;
    }
    if (data.modalities[mi]?.name !== m.name) identity = false;
    if (d.kind !== m.kind) {
      other.push(`modality ${m.name} is ${d.kind} in the data but ${m.kind} in the model`);
      return;
    }
    if (m.kind === 'embedding' && d.kind === 'embedding' && m.dim !== d.dim) other.push(`modality ${m.name} has dim ${d.dim} in the data but ${m.dim} in the model`);
    const mn = namesOf(m);
    const dn = namesOf(d);
    const index = mn && dn ? mapNames(mn, dn, `${m.name}.`, missing, unknown) : null;
    if (index) identity = false;
    modalities[m.name] = { from: d.name, index };
  });
  for (const d of data.modalities) if (!model.modalities.some((m) => m.name === d.name)) unknown.push(`modality ${d.name}`);
  let labelIndex: number[] | null = null;
  const mt = model.task;
  const dt = data.task;
  if (mt.kind !== dt.kind) other.push(`the task is ${dt.kind} in the data but ${mt.kind} in the model`);
  else if (mt.kind === 'multiclass' && dt.kind === 'multiclass') labelIndex = mapNames(mt.classes, dt.classes, 'class ', missing, unknown);
  else if (mt.kind === 'multilabel' && dt.kind === 'multilabel') labelIndex = mapNames(mt.labels, dt.labels, 'label ', missing, unknown);
  if (labelIndex) identity = false;
  if (missing.length || unknown.length || other.length) {
    const parts = [
      ...other,
      ...(missing.length ? [`missing in the data: ${listIds(missing, 30)}`] : []),
      ...(unknown.length ? [`not in the model: ${listIds(unknown, 30)}`] : []),
    ];
    throw new FlexiModalError(`the data do not match the model's spec by name — ${parts.join('; ')}`, {
      where,
      hint: "use the model's names (its model.json \"spec\"); the order may differ, the names may not",
    });
  }
  return { identity, modalities, labelIndex, absent };
}

/** Rewrite one sample read with the data's spec into the model's spec (a no-op for identity). */
export function alignSample(model: DatasetSpec, a: SpecAlignment, s: Sample): Sample {
  if (a.identity) return s;
  const mods: Record<string, ModalityData | undefined> = {};
  for (const m of model.modalities) {
    const { from, index } = a.modalities[m.name]!;
    const d = from === null ? undefined : s.modalities[from];
    if (!d || !index) {
      mods[m.name] = d;
      continue;
    }
    if (d.kind === 'timeseries' && m.kind === 'timeseries') {
      mods[m.name] = buildTimeSeries(d.times, Int32Array.from(d.variables, (v) => index[v]!), d.values, m.variables);
    } else if (d.kind === 'static' && m.kind === 'static') {
      const values = new Float64Array(m.features.length).fill(NaN);
      d.values.forEach((x, j) => (values[index[j]!] = x));
      mods[m.name] = { kind: 'static', values };
    } else mods[m.name] = d;
  }
  let label = s.label;
  const li = a.labelIndex;
  if (li) {
    if (Array.isArray(label)) {
      const out = new Array<number>(li.length).fill(NaN);
      label.forEach((y, j) => (out[li[j]!] = y));
      label = out;
    } else if (!Number.isNaN(label)) label = li[label]!;
  }
  return { ...s, modalities: mods, label };
}

/** A dataset read with its own spec, checked and rewritten into the model's spec. */
export function alignDataset(model: DatasetSpec, dataset: Dataset, where: string, opts: SpecMatchOptions = {}): Dataset {
  const a = matchSpec(model, dataset.spec, where, opts);
  if (a.identity) return { ...dataset, spec: model };
  return { ...dataset, spec: model, samples: dataset.samples.map((s) => alignSample(model, a, s)) };
}

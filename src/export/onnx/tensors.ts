/**
 * The tensor contract of an exported ONNX model: which inputs it takes (per modality padded
 * values, observation masks, times; static features; the presence mask), their shapes and
 * meaning, and the one function that turns records (JSONL sample objects, docs/DATA.md) into
 * exactly those tensors — the same parsing (sampleFromJson, plausible ranges) and batching
 * (makeBatch with the model's normaliser and maxTimesteps) as `Predictor`.
 */
import type { ModelMeta } from '../../models/persist.js';
import type { DatasetSpec, Sample } from '../../data/schema.js';
import { makeBatch, newBatchCounters, type BatchCounters } from '../../data/batch.js';
import { sampleFromJson } from '../../data/sources/jsonl.js';
import { RangePolicy } from '../../data/ranges.js';
import type { ValueSpec } from './graph.js';

/** Symbolic name of the batch dimension. */
export const BATCH_DIM = 'batch';

/** One input tensor of the contract. */
export interface OnnxInputSpec extends ValueSpec {
  /** Modality name, or null for `present`. */
  modality: string | null;
  /** values | mask | times | time_mask | present */
  role: 'values' | 'mask' | 'times' | 'time_mask' | 'present';
}

/** Name of a modality's input tensor. */
export function inputName(modality: string, role: 'values' | 'mask' | 'times' | 'time_mask'): string {
  return `${modality}.${role}`;
}

/** Every graph input of a model over `spec`, in a fixed order (modalities in spec order, then present). */
export function inputSpecs(spec: DatasetSpec): OnnxInputSpec[] {
  const out: OnnxInputSpec[] = [];
  for (const m of spec.modalities) {
    const T = `${m.name}.T`;
    const add = (role: OnnxInputSpec['role'], shape: (number | string)[], doc: string): void => {
      out.push({ name: inputName(m.name, role as 'values'), type: 'float32', shape, doc, modality: m.name, role });
    };
    if (m.kind === 'timeseries') {
      const V = m.variables.length;
      add('values', [BATCH_DIM, T, V], `standardised values ((x − mean)/std, log1p first where flagged, clipped to ±clip), 0 where not observed; axis 2 = variables ${JSON.stringify(m.variables)}`);
      add('mask', [BATCH_DIM, T, V], '1 where the variable was observed at that time step, else 0');
      add('times', [BATCH_DIM, T], 'time of each step in hours divided by horizonHours (so in [0, 1]); 0 at padding; real steps first, ascending and distinct');
      add('time_mask', [BATCH_DIM, T], '1 at real time steps, 0 at padding');
    } else if (m.kind === 'embedding') {
      add('values', [BATCH_DIM, T, m.dim], 'embedding vectors (mean of the vectors sharing a time), standardised when the normaliser covers embeddings');
      add('times', [BATCH_DIM, T], 'time of each step in hours divided by horizonHours; 0 at padding; real steps first, ascending and distinct');
      add('time_mask', [BATCH_DIM, T], '1 at real time steps, 0 at padding');
    } else {
      const F = m.features.length;
      add('values', [BATCH_DIM, F], `standardised features, 0 where missing; features ${JSON.stringify(m.features)}`);
      add('mask', [BATCH_DIM, F], '1 where the feature was observed');
    }
  }
  out.push({
    name: 'present',
    type: 'float32',
    shape: [BATCH_DIM, spec.modalities.length],
    doc: `1 where the record has the modality (columns: ${spec.modalities.map((m) => m.name).join(', ')})`,
    modality: null,
    role: 'present',
  });
  return out;
}

/** A plain float32 tensor: row-major data and its dims (wrap in ort.Tensor('float32', data, dims)). */
export interface PlainTensor {
  type: 'float32';
  data: Float32Array;
  dims: number[];
}

/** Options of `recordsToOnnxTensors`. */
export interface RecordsToTensorsOptions {
  /** Counters of what batching truncated / clipped (incremented). */
  counters?: BatchCounters;
}

/**
 * Turn records (raw JSONL sample objects, docs/DATA.md; or parsed Samples) into the input
 * tensors of the model's ONNX file, keyed by input name. Records are validated against the
 * model's spec and plausible ranges exactly as by `Predictor.predict`; labels are optional.
 * `counters`: time steps truncated beyond maxTimesteps and values clipped by the normaliser.
 */
export function recordsToOnnxTensors(
  meta: Pick<ModelMeta, 'spec' | 'normalizer' | 'maxTimesteps' | 'ranges'>,
  records: (Record<string, unknown> | Sample)[],
  opts: RecordsToTensorsOptions = {},
): { ids: string[]; tensors: Record<string, PlainTensor>; counters: BatchCounters } {
  const policy = RangePolicy.fromTable(meta.ranges);
  const samples = records.map((r, i) => (isSample(r) ? r : sampleFromJson(meta.spec, r, `record #${i}`, undefined, false, policy)));
  // labels are not needed for prediction: a placeholder keeps makeBatch's label check quiet
  const task = meta.spec.task;
  const unlabeled = samples.map((s) => (s.label === undefined || s.label === null ? { ...s, label: task.kind === 'multilabel' ? task.labels.map(() => 0) : 0 } : s));
  const counters = opts.counters ?? newBatchCounters();
  const batch = makeBatch(meta.spec, unlabeled as Sample[], meta.normalizer, { maxTimesteps: meta.maxTimesteps, counters });
  const B = batch.size;
  const tensors: Record<string, PlainTensor> = {};
  const put = (name: string, data: Float32Array, dims: number[]): void => {
    tensors[name] = { type: 'float32', data, dims };
  };
  for (const m of meta.spec.modalities) {
    const mb = batch.modalities[m.name]!;
    if (mb.kind === 'timeseries') {
      put(inputName(m.name, 'values'), mb.values, [B, mb.T, mb.V]);
      put(inputName(m.name, 'mask'), mb.mask, [B, mb.T, mb.V]);
      put(inputName(m.name, 'times'), mb.times, [B, mb.T]);
      put(inputName(m.name, 'time_mask'), mb.timeMask, [B, mb.T]);
    } else if (mb.kind === 'embedding') {
      put(inputName(m.name, 'values'), mb.values, [B, mb.T, mb.D]);
      put(inputName(m.name, 'times'), mb.times, [B, mb.T]);
      put(inputName(m.name, 'time_mask'), mb.timeMask, [B, mb.T]);
    } else {
      put(inputName(m.name, 'values'), mb.values, [B, mb.F]);
      put(inputName(m.name, 'mask'), mb.mask, [B, mb.F]);
    }
  }
  put('present', batch.present, [B, meta.spec.modalities.length]);
  return { ids: batch.ids, tensors, counters };
}

function isSample(s: Record<string, unknown> | Sample): s is Sample {
  const m = (s as Sample).modalities;
  return !!m && Object.values(m).some((v) => v !== undefined && typeof v === 'object' && v !== null && 'kind' in v);
}

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
import type { ValueSpec } from './valueSpec.js';
import { SupportingGroupIndex } from '../../moe/supportingGroups.js';
import { planRetrieval } from '../../models/retriever/retrievalPlan.js';
import { emptyRows } from '../../encoders/batchArrays.js';

/** MoE-Retriever's retrieval settings in the sidecar: what `retrieval.members` is drawn from. */
export interface RetrievalContract {
  /** Modality bitmask of every bank (training pool) member, in bank order.  [N] */
  bankGroups: number[];
  /** The model seed the inference draws are derived from (with each record's id). */
  modelSeed: number;
  intraSamples: 'observed-count' | number;
  interContext: boolean;
  /** Width n of `retrieval.members` [B, M, n]. */
  members: number;
}

/** Width n of the `retrieval.members` input. */
export function retrievalWidth(intraSamples: 'observed-count' | number, M: number): number {
  return Math.max(1, intraSamples === 'observed-count' ? M : intraSamples);
}

/** Symbolic name of the batch dimension. */
export const BATCH_DIM = 'batch';

/** One input tensor of the contract. */
export interface OnnxInputSpec extends ValueSpec {
  /** Modality name, or null for `present`. */
  modality: string | null;
  /** values | mask | times | time_mask | present */
  role: 'values' | 'mask' | 'times' | 'time_mask' | 'present' | 'retrieval';
}

/** Name of a modality's input tensor. */
export function inputName(modality: string, role: 'values' | 'mask' | 'times' | 'time_mask'): string {
  return `${modality}.${role}`;
}

/** Every graph input of a model over `spec`, in a fixed order (modalities in spec order, then present). */
export function inputSpecs(spec: DatasetSpec, retrieval?: RetrievalContract): OnnxInputSpec[] {
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
  if (retrieval) {
    out.push({
      name: 'retrieval.members',
      type: 'float32',
      shape: [BATCH_DIM, spec.modalities.length, retrieval.members],
      doc: "MoE-Retriever: per record and missing target modality, the indices of the bank members drawn as intra-modal context (−1 = none); made by recordsToOnnxTensors from each record's id and the sidecar's retrieval section",
      modality: null,
      role: 'retrieval',
    });
  }
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
  /** MoE-Retriever models: the sidecar's `retrieval` section (adds the `retrieval.members` tensor). */
  retrieval?: RetrievalContract;
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
  const M = meta.spec.modalities.length;
  put('present', batch.present, [B, M]);
  if (opts.retrieval) {
    const r = opts.retrieval;
    // effectively observed: present and not empty after encoding (as the model's encode step)
    const observed = new Uint8Array(B * M);
    meta.spec.modalities.forEach((m, j) => {
      const empty = emptyRows(batch.modalities[m.name]!, B);
      for (let b = 0; b < B; b++) observed[b * M + j] = batch.present[b * M + j]! > 0 && empty[b] === 0 ? 1 : 0;
    });
    const queries = planRetrieval(new SupportingGroupIndex(r.bankGroups, M), observed, batch.ids, { intraSamples: r.intraSamples, interContext: r.interContext, modelSeed: r.modelSeed });
    const members = new Float32Array(B * M * r.members).fill(-1);
    for (const q of queries) q.intra.forEach((i, k) => (members[(q.b * M + q.target) * r.members + k] = i));
    put('retrieval.members', members, [B, M, r.members]);
  }
  return { ids: batch.ids, tensors, counters };
}

function isSample(s: Record<string, unknown> | Sample): s is Sample {
  const m = (s as Sample).modalities;
  return !!m && Object.values(m).some((v) => v !== undefined && typeof v === 'object' && v !== null && 'kind' in v);
}

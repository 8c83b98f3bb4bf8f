/**
 * Explanations that measure the model: for each record, how much each modality moved the
 * prediction — p(record) − p(record with that modality treated as missing) — computed by running
 * the model on the record and on each of its one-modality-removed variants (every model here
 * accepts a missing modality, so the difference is exact). All variants of a chunk of records go
 * through one forward pass (B records with m_b modalities each → Σ(1 + m_b) ≤ B·(M+1) rows).
 * Models with experts add their routing statistics (RoutingExplanation), taken from the same pass
 * where the model supports it (FuseMoE's forwardExplained).
 *
 * This is the one explanation function of the package: `predict --explain`, Predictor.predict(…,
 * { explain: true }) and the servers built on Predictor all call it.
 */
import { tf } from '../engine/tf.js';
import { makeBatch } from '../data/batch.js';
import { hasModality, type Sample } from '../data/schema.js';
import { logitsToProbs } from '../train/taskLoss.js';
import type { ModelMeta } from '../models/persist.js';
import type { Normalizer } from '../data/normalize.js';
import type { FusionModel, ModalityAttribution, RoutingExplanation, SampleExplanation } from '../models/model.js';

/** What explaining needs of a model's metadata (a ModelMeta has it). */
export interface ExplainMeta {
  spec: ModelMeta['spec'];
  /** The model's normaliser; null = values are used as they are. */
  normalizer: Normalizer | null;
  /** Latest-times cap when batching (train.maxTimesteps; default 256). */
  maxTimesteps?: number;
}

export interface ExplainOptions {
  /** Most variant rows per forward pass (default 512); a chunk always holds at least one record's variants. */
  maxRowsPerPass?: number;
}

export interface ExplainedPredictions {
  /** The model's probabilities for each record (the rows the attribution starts from).  [B][C] */
  probs: number[][];
  /** One per record, in order. */
  explanations: SampleExplanation[];
}

/** The variant rows of one record: the record itself, then one row per modality it has (spec order). */
interface RecordRows {
  full: number;
  removed: { modality: number; row: number }[];
}

/**
 * Probabilities and explanations of `samples` (already in `meta.spec`): per-modality attribution
 * for every model type, plus routing statistics for models with experts. Inference mode.
 */
export function explainPredictions(model: FusionModel, meta: ExplainMeta, samples: Sample[], opts: ExplainOptions = {}): ExplainedPredictions {
  const maxRows = Math.max(1, opts.maxRowsPerPass ?? 512);
  const M = meta.spec.modalities.length;
  const probs: number[][] = [];
  const explanations: SampleExplanation[] = [];
  for (let start = 0; start < samples.length; ) {
    let end = start;
    let rows = 0;
    while (end < samples.length && (end === start || rows + 1 + M <= maxRows)) {
      rows += 1 + presentModalities(meta, samples[end]!).length;
      end++;
    }
    const out = explainChunk(model, meta, samples.slice(start, end));
    probs.push(...out.probs);
    explanations.push(...out.explanations);
    start = end;
  }
  return { probs, explanations };
}

/** Indices (spec order) of the modalities `s` has data for. */
function presentModalities(meta: ExplainMeta, s: Sample): number[] {
  return meta.spec.modalities.flatMap((m, j) => (hasModality(s, m.name) ? [j] : []));
}

/** One forward pass over the records of a chunk and all their one-modality-removed variants. */
function explainChunk(model: FusionModel, meta: ExplainMeta, samples: Sample[]): ExplainedPredictions {
  const { spec } = meta;
  const variants: Sample[] = [];
  const layout: RecordRows[] = samples.map((s) => {
    const full = variants.push(s) - 1;
    const removed = presentModalities(meta, s).map((j) => {
      const name = spec.modalities[j]!.name;
      return { modality: j, row: variants.push({ ...s, modalities: { ...s.modalities, [name]: undefined } }) - 1 };
    });
    return { full, removed };
  });
  const batch = makeBatch(spec, variants, meta.normalizer, { maxTimesteps: meta.maxTimesteps });
  let routingRows: RoutingExplanation[] | undefined;
  const rowProbs = tf.tidy(() => {
    const oneGo = model.forwardExplained ? model.forwardExplained(batch) : undefined;
    routingRows = oneGo?.explanations;
    const logits = oneGo?.logits ?? model.forward(batch, { training: false }).logits; // [rows, C]
    return logitsToProbs(spec.task, logits).arraySync(); // [rows, C]
  });
  let routing: (RoutingExplanation | undefined)[] = layout.map((l) => routingRows?.[l.full]);
  if (!routingRows && model.explain) {
    // routing of the records only (not of their variants)
    const r = model.explain(makeBatch(spec, samples, meta.normalizer, { maxTimesteps: meta.maxTimesteps }));
    if (r.length === samples.length) routing = r;
  }
  return {
    probs: layout.map((l) => rowProbs[l.full]!),
    explanations: samples.map((s, b) => ({
      id: s.id,
      attribution: attributionOf(meta, rowProbs, layout[b]!),
      ...(routing[b] ? { routing: routing[b] } : {}),
    })),
  };
}

/** Differences of the record's probabilities and each removed-modality variant's. */
function attributionOf(meta: ExplainMeta, rowProbs: number[][], rows: RecordRows): ModalityAttribution {
  const { spec } = meta;
  const task = spec.task;
  const p = rowProbs[rows.full]!;
  const zero = () => Object.fromEntries(spec.modalities.map((m) => [m.name, 0]));
  const outputs = task.kind === 'multiclass' ? task.classes : task.kind === 'multilabel' ? task.labels : [task.name];
  let targetIndex: number | null = 0;
  if (task.kind === 'multiclass') targetIndex = p.reduce((best, v, i) => (v > p[best]! ? i : best), 0);
  if (task.kind === 'multilabel') targetIndex = null;
  const byModality: Record<string, number> = targetIndex === null ? {} : zero();
  const byOutput: Record<string, Record<string, number>> | undefined =
    task.kind === 'binary' ? undefined : Object.fromEntries(spec.modalities.map((m) => [m.name, Object.fromEntries(outputs.map((o) => [o, 0]))]));
  for (const { modality, row } of rows.removed) {
    const name = spec.modalities[modality]!.name;
    const q = rowProbs[row]!;
    if (targetIndex !== null) byModality[name] = p[targetIndex]! - q[targetIndex]!;
    if (byOutput) outputs.forEach((o, i) => (byOutput[name]![o] = p[i]! - q[i]!));
  }
  return {
    target: targetIndex === null ? null : outputs[targetIndex]!,
    probability: targetIndex === null ? null : p[targetIndex]!,
    byModality,
    ...(byOutput ? { byOutput } : {}),
  };
}

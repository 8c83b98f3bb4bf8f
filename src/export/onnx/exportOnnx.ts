/**
 * `exportOnnx`: a saved model directory → an ONNX file (inference graph, dynamic batch
 * dimension, opset 17) and its JSON sidecar `<out>.json` documenting the input tensors, their
 * normalisation and the outputs (docs/EXPORT.md ("ONNX")).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { initEngine, type BackendName } from '../../engine/backend.js';
import { loadModel, type ModelMeta } from '../../models/persist.js';
import type { FusionModel } from '../../models/model.js';
import { writeFileAtomic } from '../../io/atomicWrite.js';
import { packageVersion } from '../../run/versions.js';
import { FlexiModalError } from '../../errors.js';
import { outputUnits } from '../../train/taskLoss.js';
import { normalizerToJson } from '../../data/normalize.js';
import { OnnxGraph, ONNX_IR_VERSION, ONNX_OPSET } from './graph.js';
import { modelGraph } from './models.js';
import type { ModalityInputs } from './encoders.js';
import { BATCH_DIM, inputName, inputSpecs, retrievalWidth, type RetrievalContract } from './tensors.js';
import { MoERetrieverModel } from '../../models/moeRetriever.js';

/** What `exportOnnx` wrote. */
export interface OnnxExportReport {
  onnxPath: string;
  sidecarPath: string;
  modelType: string;
  opset: number;
  nodes: number;
  /** Bytes of the file. */
  bytes: number;
  inputs: string[];
  outputs: string[];
  /** Notes on how the graph differs in form (not in result) from the TypeScript path. */
  notes: string[];
}

/** Options of `exportOnnx`. */
export interface ExportOnnxOptions {
  /** Engine backend used to read the weights (default 'wasm'). */
  backend?: BackendName;
  /** Replace an existing file at outPath (default false: refuse). */
  overwrite?: boolean;
}

/** The sidecar document written beside the ONNX file. */
export interface OnnxSidecar {
  format: 'fleximodal-onnx';
  version: 1;
  fleximodal: string;
  onnx: { file: string; opset: number; irVersion: number };
  modelType: string;
  task: ModelMeta['spec']['task'];
  threshold?: number | number[];
  spec: { modalities: ModelMeta['spec']['modalities']; horizonHours: number };
  maxTimesteps: number;
  normalizer: ModelMeta['normalizer'];
  ranges?: ModelMeta['ranges'];
  /** MoE-Retriever with retrieval: how `retrieval.members` is drawn (pass to recordsToOnnxTensors). */
  retrieval?: RetrievalContract;
  inputs: { name: string; dtype: 'float32'; shape: (number | string)[]; modality: string | null; role: string; description: string }[];
  outputs: { name: string; dtype: 'float32'; shape: (number | string)[]; description: string }[];
  notes: string[];
}

/**
 * Export the model in `modelDir` (a model directory or a run directory) to `outPath` (ONNX) and
 * `outPath + '.json'` (sidecar). A part the exporter cannot express is refused with a
 * FlexiModalError naming it; nothing is written then.
 */
export async function exportOnnx(modelDir: string, outPath: string, opts: ExportOnnxOptions = {}): Promise<OnnxExportReport> {
  const out = resolve(outPath);
  const sidecarPath = `${out}.json`;
  if (existsSync(out) && statSync(out).isDirectory()) {
    throw new FlexiModalError(`${out} is a directory`, { where: 'export --out', hint: 'give the path of the .onnx file to write, e.g. model.onnx' });
  }
  if (!opts.overwrite) {
    for (const p of [out, sidecarPath]) {
      if (existsSync(p)) throw new FlexiModalError(`${p} already exists`, { where: 'export --out', hint: 'choose another path or pass --overwrite' });
    }
  }
  await initEngine({ backend: opts.backend ?? 'wasm' });
  const { model, meta } = loadModel(modelDir);
  try {
    const { bytes, sidecar, nodes } = buildOnnx(model, meta, out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileAtomic(out, bytes);
    writeFileAtomic(sidecarPath, JSON.stringify(sidecar, null, 2) + '\n');
    return {
      onnxPath: out,
      sidecarPath,
      modelType: model.type,
      opset: ONNX_OPSET,
      nodes,
      bytes: bytes.length,
      inputs: sidecar.inputs.map((i) => i.name),
      outputs: sidecar.outputs.map((o) => o.name),
      notes: sidecar.notes,
    };
  } finally {
    model.dispose();
  }
}

/** Build the ONNX bytes and the sidecar of a loaded model (no file is written). */
export function buildOnnx(model: FusionModel, meta: ModelMeta, onnxPath = 'model.onnx'): { bytes: Uint8Array; sidecar: OnnxSidecar; nodes: number } {
  const spec = meta.spec;
  const g = new OnnxGraph();
  const retrieval = retrievalContract(model, meta);
  const specs = inputSpecs(spec, retrieval ?? undefined);
  for (const s of specs) g.input(s);
  const modalities: ModalityInputs[] = spec.modalities.map((m) => {
    if (m.kind === 'timeseries') {
      return { kind: 'timeseries', values: inputName(m.name, 'values'), mask: inputName(m.name, 'mask'), times: inputName(m.name, 'times'), timeMask: inputName(m.name, 'time_mask'), V: m.variables.length };
    }
    if (m.kind === 'embedding') return { kind: 'embedding', values: inputName(m.name, 'values'), times: inputName(m.name, 'times'), timeMask: inputName(m.name, 'time_mask'), D: m.dim };
    return { kind: 'static', values: inputName(m.name, 'values'), mask: inputName(m.name, 'mask'), F: m.features.length };
  });
  const logits = modelGraph(g, model, spec, { modalities, present: 'present', ...(retrieval ? { retrievalMembers: 'retrieval.members' } : {}) });
  const C = outputUnits(spec.task);
  const probs = spec.task.kind === 'multiclass' ? g.softmax(logits, -1) : g.node('Sigmoid', [logits]);
  const columns = spec.task.kind === 'binary' ? [spec.task.name] : spec.task.kind === 'multiclass' ? spec.task.classes : spec.task.labels;
  const outputs = [
    { name: 'logits', dtype: 'float32' as const, shape: [BATCH_DIM, C], description: `task logits; columns ${JSON.stringify(columns)}` },
    {
      name: 'probabilities',
      dtype: 'float32' as const,
      shape: [BATCH_DIM, C],
      description: spec.task.kind === 'multiclass' ? 'softmax of the logits (class probabilities)' : spec.task.kind === 'binary' ? 'sigmoid of the logit: the risk (probability of the positive class)' : 'sigmoid of each label logit',
    },
  ];
  g.output(logits, { name: 'logits', type: 'float32', shape: [BATCH_DIM, C] });
  g.output(probs, { name: 'probabilities', type: 'float32', shape: [BATCH_DIM, C] });
  const notes = [
    'Inference mode: dropout is the identity; noisy gating adds no noise.',
    ...(model.type === 'fusemoe' || model.type === 'moe-retriever' ? ['Sparse top-K routing is computed densely: every expert runs on every row and experts outside the row\'s top K get weight exactly 0 (same outputs, S/K times the expert work).'] : []),
    ...(retrieval ? ["retrieval.members holds, per record and missing target modality, the bank members drawn as intra-modal context with a seed derived from the model seed and the record's id (recordsToOnnxTensors with the sidecar's retrieval section draws them as the TypeScript model does)."] : []),
    'Inputs are what recordsToOnnxTensors (fleximodal API) / makeBatch produce: per modality, real time steps first in ascending distinct time order, padding after them.',
  ];
  const bytes = g.toBytes({
    graphName: `fleximodal-${model.type}`,
    doc: `fleximodal ${model.type} model for task ${spec.task.name}; inputs and normalisation in the sidecar ${onnxPath.split(/[\\/]/).pop()}.json`,
    producerVersion: packageVersion(),
    metadata: { 'fleximodal.modelType': model.type, 'fleximodal.task': spec.task.kind },
  });
  const sidecar: OnnxSidecar = {
    format: 'fleximodal-onnx',
    version: 1,
    fleximodal: packageVersion(),
    onnx: { file: onnxPath.split(/[\\/]/).pop()!, opset: ONNX_OPSET, irVersion: ONNX_IR_VERSION },
    modelType: model.type,
    task: spec.task,
    ...(meta.threshold !== undefined ? { threshold: meta.threshold } : {}),
    spec: { modalities: spec.modalities, horizonHours: spec.horizonHours },
    maxTimesteps: meta.maxTimesteps,
    normalizer: normalizerToJson(meta.normalizer),
    ...(meta.ranges ? { ranges: meta.ranges } : {}),
    ...(retrieval ? { retrieval } : {}),
    inputs: specs.map((s) => ({ name: s.name, dtype: 'float32', shape: s.shape, modality: s.modality, role: s.role, description: s.doc ?? '' })),
    outputs,
    notes,
  };
  return { bytes, sidecar, nodes: g.nodeCount };
}

/** The retrieval section of a MoE-Retriever model that retrieves (null otherwise). */
function retrievalContract(model: FusionModel, meta: ModelMeta): RetrievalContract | null {
  if (!(model instanceof MoERetrieverModel) || model.cfg.missing !== 'moe-retriever') return null;
  const index = model.poolIndex();
  if (!index) {
    throw new FlexiModalError("MoE-Retriever's retrieval fill without a retrieval bank cannot be exported", { where: 'export --model', hint: 'export a model directory written by `fleximodal train` (it holds retrieval-bank.safetensors)' });
  }
  const r = model.cfg.retrieval;
  return {
    bankGroups: Array.from({ length: index.size }, (_, i) => index.groupOf(i)),
    modelSeed: meta.seed,
    intraSamples: r.intraSamples,
    interContext: r.interContext,
    members: retrievalWidth(r.intraSamples, meta.spec.modalities.length),
  };
}

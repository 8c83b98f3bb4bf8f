/**
 * A trained model from the CONTENTS of its directory's files: `model.json` (text),
 * `weights.safetensors` (bytes) and, for MoE-Retriever models that retrieve from their training
 * pool, `retrieval-bank.safetensors` + `retrieval-pool.json`. Parsing, validation and building
 * live here without any file access, so that Node (src/models/persist.ts reads the files from
 * disk) and the browser build (src/browser/loadModel.ts fetches them) run the very same checks.
 */
import { paramName } from '../engine/params.js';
import type { InputBounds } from '../data/inputBounds.js';
import { tf } from '../engine/tf.js';
import { decodeSafetensors } from '../engine/safetensors.js';
import { FlexiModalError } from '../errors.js';
import type { DatasetSpec } from '../data/schema.js';
import { normalizerFromJson, type Normalizer } from '../data/normalize.js';
import { modelSchema, type ModelConfig } from '../config/schema.js';
import { formatIssues } from '../config/issues.js';
import { buildTensorModel } from './buildTensorModel.js';
import type { FusionModel } from './model.js';
import { EnsembleModel } from './ensemble.js';
import { MoERetrieverModel } from './moeRetriever.js';
import { BANK_FILE, EmbeddingBank, POOL_FILE } from './retriever/embeddingBank.js';
import type { Range } from '../data/ranges.js';
import { assertFiniteWeights } from './finiteWeights.js';

export const MODEL_FORMAT = 'fleximodal-model';

/** File names inside a model directory. */
export const MODEL_FILES = {
  meta: 'model.json',
  weights: 'weights.safetensors',
  bank: BANK_FILE,
  pool: POOL_FILE,
} as const;

/** Everything besides the weights that is needed to use a trained model. */
export interface ModelMeta {
  format: typeof MODEL_FORMAT;
  version: 1;
  fleximodal: string;
  model: ModelConfig;
  spec: DatasetSpec;
  normalizer: Normalizer;
  /** Latest-times cap used when batching (train.maxTimesteps). */
  maxTimesteps: number;
  /** Decision threshold chosen on validation (binary: one number; multilabel: one per label). */
  threshold?: number | number[];
  seed: number;
  /** Number of members when the model is a seed ensemble (weights stored as `member<i>/<name>`). */
  ensembleMembers?: number;
  /** The plausible-range table the training data were read with (applied to prediction input too). */
  ranges?: Record<string, Range>;
  /** Robust bounds of every variable and of time in the training split (src/data/inputBounds.ts); absent in models saved before them. */
  inputBounds?: InputBounds;
  createdAt: string;
}

/** A loaded model ready for inference. */
export interface LoadedModel {
  model: FusionModel;
  meta: ModelMeta;
}

/** The two files of a retrieval bank: `retrieval-bank.safetensors` bytes, `retrieval-pool.json` text. */
export interface BankFiles {
  bank: Uint8Array;
  pool: string;
}

/** The contents of a model directory's files. */
export interface ModelFileContents {
  /** `model.json` as text. */
  meta: string;
  /** `weights.safetensors` bytes. */
  weights: Uint8Array;
  /** The retrieval bank, when the directory has one (required by pool-retrieving models). */
  bank?: BankFiles;
}

/** Key of member i's weight `name` in an ensemble's weights file. */
export function memberKey(i: number, name: string): string {
  return `member${i}/${name}`;
}

/**
 * Parse and validate `model.json` text: JSON, format tag, model config (zod), normaliser.
 * `where` names the file in errors (a path in Node, a URL or file name in the browser).
 */
export function parseModelMeta(text: string, where: string): ModelMeta {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new FlexiModalError(`model.json is not valid JSON (${(e as Error).message})`, { where });
  }
  if (raw === null || typeof raw !== 'object' || raw.format !== MODEL_FORMAT) {
    throw new FlexiModalError(`not a fleximodal model (format ${String(raw?.format)})`, { where });
  }
  const parsed = modelSchema.safeParse(raw.model);
  if (!parsed.success) throw new FlexiModalError(`invalid model config: ${formatIssues(parsed.error.issues)}`, { where });
  const meta = { ...(raw as unknown as ModelMeta), model: parsed.data };
  meta.normalizer = normalizerFromJson(raw.normalizer, meta.spec);
  return meta;
}

/**
 * Build a model from its files' contents: the meta is validated, the weights checked by name and
 * shape against the model the config builds, refused when non-finite, and the retrieval bank
 * attached. `where` names the directory (or base URL) in errors; file names are appended.
 * `build` makes the model from its config: the TensorFlow.js factory by default (the browser
 * bundle must not reach native-library models); Node passes the full `buildModel`.
 */
export function modelFromFiles(files: ModelFileContents, where: string, build: (cfg: ModelMeta['model'], spec: DatasetSpec, seed: number) => FusionModel = buildTensorModel): LoadedModel {
  const metaWhere = joinWhere(where, MODEL_FILES.meta);
  const weightsWhere = joinWhere(where, MODEL_FILES.weights);
  const meta = parseModelMeta(files.meta, metaWhere);
  const model = build(meta.model, meta.spec, meta.seed);
  let weights: Map<string, tf.Tensor>;
  try {
    weights = decodeSafetensors(files.weights, weightsWhere);
  } catch (e) {
    model.dispose();
    throw e;
  }
  try {
    assertFiniteWeights(weights, weightsWhere);
  } catch (e) {
    model.dispose();
    weights.forEach((t) => t.dispose());
    throw e;
  }
  const members = meta.ensembleMembers ?? 0;
  if (meta.ensembleMembers !== undefined && !(Number.isInteger(members) && members >= 1)) {
    model.dispose();
    weights.forEach((t) => t.dispose());
    throw new FlexiModalError(`ensembleMembers must be a positive integer, got ${String(members)}`, { where: metaWhere });
  }
  /** The weight for variable v (of member i in an ensemble), checked against the model. */
  const weightFor = (v: tf.Variable, i: number | null): tf.Tensor => {
    const key = i === null ? paramName(v) : memberKey(i, paramName(v));
    const w = weights.get(key);
    if (!w) throw new FlexiModalError(`weight '${key}' is missing`, { where: weightsWhere, hint: 'the weights do not belong to this model.json' });
    if (w.shape.join('x') !== v.shape.join('x')) {
      throw new FlexiModalError(`weight '${key}' has shape [${w.shape}] but the model expects [${v.shape}]`, { where: weightsWhere });
    }
    return w;
  };
  try {
    if (members >= 1) {
      const snapshots = Array.from({ length: members }, (_, i) => new Map(model.variables().map((v) => [paramName(v), tf.clone(weightFor(v, i))] as const)));
      return { model: new EnsembleModel(model, snapshots, meta.spec.task), meta };
    }
    for (const v of model.variables()) v.assign(weightFor(v, null));
    attachRetrievalFiles(model, files.bank, where);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    weights.forEach((t) => t.dispose());
  }
  return { model, meta };
}

/** Whether a model of this config retrieves from a saved pool (needs the bank files). */
export function needsRetrievalBank(model: FusionModel): boolean {
  return model instanceof MoERetrieverModel && model.usesPool;
}

/**
 * Attach a saved retrieval bank to a freshly loaded `model` (weights already assigned); a no-op
 * for models that do not retrieve from a pool, an error naming `where` when one does and the
 * files are absent.
 */
export function attachRetrievalFiles(model: FusionModel, files: BankFiles | undefined, where: string): void {
  if (!(model instanceof MoERetrieverModel) || !model.usesPool) return;
  if (!files) {
    throw new FlexiModalError(`the model directory has no retrieval bank (${BANK_FILE} and ${POOL_FILE})`, {
      where,
      hint: 'moe-retriever models retrieve from the training pool saved with them; re-save the model with `fleximodal train`',
    });
  }
  const bank = EmbeddingBank.decodeFiles(files, model.modalityNames.length, model.cfg.d, {
    bank: joinWhere(where, BANK_FILE),
    pool: joinWhere(where, POOL_FILE),
  });
  model.attachBank(bank);
}

/** `dir/file` for error messages (dir may be a path or a URL; no path module here). */
function joinWhere(dir: string, file: string): string {
  return dir.endsWith('/') ? dir + file : `${dir}/${file}`;
}

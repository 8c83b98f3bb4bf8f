/**
 * Saving and loading a trained model: a directory with `model.json` (config, dataset spec,
 * normaliser, decision threshold, seed) and `weights.safetensors` (every variable by name) — or,
 * for a model kept in its library's own files (xgboost), those files (`FusionModel.saveFiles`).
 */
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { assertRunComplete } from '../run/runDirectory.js';
import { join } from 'node:path';
import { tf } from '../engine/tf.js';
import { saveWeights, loadWeights } from '../engine/weights.js';
import { FlexiModalError } from '../errors.js';
import type { DatasetSpec } from '../data/schema.js';
import { normalizerFromJson, normalizerToJson, type Normalizer } from '../data/normalize.js';
import { modelSchema, type ModelConfig } from '../config/schema.js';
import { formatIssues } from '../config/parse.js';
import { buildModel } from './build.js';
import type { FusionModel } from './model.js';
import { EnsembleModel } from './ensemble.js';
import { packageVersion } from '../run/versions.js';
import { saveRetrievalState, loadRetrievalState } from './retriever/persistBank.js';
import type { Range } from '../data/ranges.js';
import { assertFiniteWeights } from './finiteWeights.js';

export const MODEL_FORMAT = 'fleximodal-model';

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
  createdAt: string;
}

/** A loaded model ready for inference. */
export interface LoadedModel {
  model: FusionModel;
  meta: ModelMeta;
}

/** Write `model.json` and `weights.safetensors` into `dir` (created if needed). */
export function saveModel(dir: string, model: FusionModel, meta: Omit<ModelMeta, 'format' | 'version' | 'fleximodal' | 'createdAt' | 'ensembleMembers'>): void {
  mkdirSync(dir, { recursive: true });
  const ensemble = model instanceof EnsembleModel ? model : null;
  const full: ModelMeta = {
    format: MODEL_FORMAT,
    version: 1,
    fleximodal: packageVersion(),
    createdAt: new Date().toISOString(),
    ...meta,
    ...(ensemble ? { ensembleMembers: ensemble.size } : {}),
    normalizer: normalizerToJson(meta.normalizer),
  };
  writeFileAtomic(join(dir, 'model.json'), JSON.stringify(full, null, 2) + '\n');
  if (model.saveFiles) {
    // a library model (xgboost): its own files instead of weights.safetensors
    model.saveFiles(dir);
    return;
  }
  const weights = ensemble
    ? new Map(Array.from({ length: ensemble.size }, (_, i) => [...ensemble.memberWeights(i)].map(([name, t]) => [memberKey(i, name), t] as const)).flat())
    : new Map(model.variables().map((v) => [v.name, v as tf.Tensor] as const));
  saveWeights(join(dir, 'weights.safetensors'), weights);
  saveRetrievalState(dir, model);
}

/** Key of member i's weight `name` in an ensemble's weights file. */
function memberKey(i: number, name: string): string {
  return `member${i}/${name}`;
}

/**
 * Load a model directory. `dir` may also be a run directory (its `model/` is used).
 * Errors name the file and what does not match.
 */
/** The model directory of `dir`: itself when it holds model.json, else its `model/`. */
export function modelDirOf(dir: string): string {
  return existsSync(join(dir, 'model.json')) ? dir : join(dir, 'model');
}

export function loadModel(dir: string): LoadedModel {
  assertRunComplete(dir);
  const modelDir = modelDirOf(dir);
  const metaPath = join(modelDir, 'model.json');
  if (!existsSync(metaPath)) {
    throw new FlexiModalError(`no model.json found`, { where: dir, hint: 'pass a run directory or its model/ directory written by `fleximodal train`' });
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(metaPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new FlexiModalError(`model.json is not valid JSON (${(e as Error).message})`, { where: metaPath });
  }
  if (raw.format !== MODEL_FORMAT) {
    throw new FlexiModalError(`not a fleximodal model (format ${String(raw.format)})`, { where: metaPath });
  }
  const parsed = modelSchema.safeParse(raw.model);
  if (!parsed.success) throw new FlexiModalError(`invalid model config: ${formatIssues(parsed.error.issues)}`, { where: metaPath });
  const meta = { ...(raw as unknown as ModelMeta), model: parsed.data };
  meta.normalizer = normalizerFromJson(raw.normalizer, meta.spec);
  const model = buildModel(meta.model, meta.spec, meta.seed);
  if (model.loadFiles) {
    try {
      model.loadFiles(modelDir);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return { model, meta };
  }
  const weightsPath = join(modelDir, 'weights.safetensors');
  const weights = loadWeights(weightsPath);
  try {
    assertFiniteWeights(weights, weightsPath);
  } catch (e) {
    model.dispose();
    weights.forEach((t) => t.dispose());
    throw e;
  }
  const members = meta.ensembleMembers ?? 0;
  if (meta.ensembleMembers !== undefined && !(Number.isInteger(members) && members >= 1)) {
    model.dispose();
    weights.forEach((t) => t.dispose());
    throw new FlexiModalError(`ensembleMembers must be a positive integer, got ${String(members)}`, { where: metaPath });
  }
  /** The weight for variable v (of member i in an ensemble), checked against the model. */
  const weightFor = (v: tf.Variable, i: number | null): tf.Tensor => {
    const key = i === null ? v.name : memberKey(i, v.name);
    const w = weights.get(key);
    if (!w) throw new FlexiModalError(`weight '${key}' is missing`, { where: weightsPath, hint: 'the weights do not belong to this model.json' });
    if (w.shape.join('x') !== v.shape.join('x')) {
      throw new FlexiModalError(`weight '${key}' has shape [${w.shape}] but the model expects [${v.shape}]`, { where: weightsPath });
    }
    return w;
  };
  try {
    if (members >= 1) {
      const snapshots = Array.from({ length: members }, (_, i) => new Map(model.variables().map((v) => [v.name, tf.clone(weightFor(v, i))] as const)));
      return { model: new EnsembleModel(model, snapshots, meta.spec.task), meta };
    }
    for (const v of model.variables()) v.assign(weightFor(v, null));
    loadRetrievalState(modelDir, model);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    weights.forEach((t) => t.dispose());
  }
  return { model, meta };
}

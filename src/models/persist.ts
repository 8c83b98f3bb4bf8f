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
import { paramName } from '../engine/params.js';
import { saveWeights } from '../engine/weights.js';
import { FlexiModalError } from '../errors.js';
import { normalizerToJson } from '../data/normalize.js';
import type { FusionModel } from './model.js';
import { EnsembleModel } from './ensemble.js';
import { packageVersion } from '../run/versions.js';
import { saveRetrievalState, readRetrievalFiles } from './retriever/persistBank.js';
import { buildModel } from './build.js';
import { MODEL_FORMAT, memberKey, modelFromFiles, parseModelMeta, type LoadedModel, type ModelMeta } from './modelFiles.js';

export { MODEL_FORMAT, type ModelMeta, type LoadedModel } from './modelFiles.js';

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
    : new Map(model.variables().map((v) => [paramName(v), v as tf.Tensor] as const));
  saveWeights(join(dir, 'weights.safetensors'), weights);
  saveRetrievalState(dir, model);
}

/** The model directory of `dir`: itself when it holds model.json, else its `model/`. */
export function modelDirOf(dir: string): string {
  return existsSync(join(dir, 'model.json')) ? dir : join(dir, 'model');
}

/**
 * Load a model directory. `dir` may also be a run directory (its `model/` is used).
 * Errors name the file and what does not match.
 */
export function loadModel(dir: string): LoadedModel {
  assertRunComplete(dir);
  const modelDir = modelDirOf(dir);
  const metaPath = join(modelDir, 'model.json');
  if (!existsSync(metaPath)) {
    throw new FlexiModalError(`no model.json found`, { where: dir, hint: 'pass a run directory or its model/ directory written by `fleximodal train`' });
  }
  const metaText = readFileSync(metaPath, 'utf8');
  // a model kept in its library's own files (xgboost): no weights.safetensors
  const meta = parseModelMeta(metaText, metaPath);
  if (meta.model.type === 'xgboost') {
    const model = buildModel(meta.model, meta.spec, meta.seed);
    try {
      model.loadFiles!(modelDir);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return { model, meta };
  }
  const weightsPath = join(modelDir, 'weights.safetensors');
  let weights: Uint8Array;
  try {
    weights = readFileSync(weightsPath);
  } catch (e) {
    throw new FlexiModalError(`cannot read weights file (${(e as Error).message})`, { where: weightsPath, hint: 'check the path' });
  }
  // Parsing, validation and building are shared with the browser build (src/models/modelFiles.ts).
  return modelFromFiles({ meta: metaText, weights, bank: readRetrievalFiles(modelDir) }, modelDir, buildModel);
}

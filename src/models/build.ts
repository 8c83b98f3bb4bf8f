/**
 * Model factory: config section + dataset spec + seed → a FusionModel.
 */
import type { DatasetSpec } from '../data/schema.js';
import type { ModelConfig } from '../config/schema.js';
import type { FusionModel } from './model.js';
import { buildTensorModel } from './buildTensorModel.js';
import { XGBoostModel } from './gbt/xgboostModel.js';

/**
 * Build the model a config describes, initialised from `seed`. The TensorFlow.js models come from
 * `buildTensorModel` (shared with the browser build); model types run by a native library are
 * added here.
 */
export function buildModel(cfg: ModelConfig, spec: DatasetSpec, seed: number): FusionModel {
  if (cfg.type === 'xgboost') return new XGBoostModel(spec, cfg, seed);
  return buildTensorModel(cfg, spec, seed);
}

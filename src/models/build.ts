/**
 * Model factory: config section + dataset spec + seed → a FusionModel.
 */
import type { DatasetSpec } from '../data/schema.js';
import type { ModelConfig } from '../config/schema.js';
import type { FusionModel } from './model.js';
import { LateFusionBaseline } from './lateFusionBaseline.js';
import { FuseMoEModel } from './fusemoe.js';
import { MoERetrieverModel } from './moeRetriever.js';
import { RemindModel } from './remind.js';
import { XGBoostModel } from './gbt/xgboostModel.js';

/** Build the model a config describes, initialised from `seed`. */
export function buildModel(cfg: ModelConfig, spec: DatasetSpec, seed: number): FusionModel {
  switch (cfg.type) {
    case 'baseline':
      return new LateFusionBaseline(spec, cfg, seed);
    case 'fusemoe':
      return new FuseMoEModel(spec, cfg, seed);
    case 'moe-retriever':
      return new MoERetrieverModel(spec, cfg, seed);
    case 'remind':
      return new RemindModel(spec, cfg, seed);
    case 'xgboost':
      return new XGBoostModel(spec, cfg, seed);
  }
}

/**
 * The factory of the models computed with TensorFlow.js (baseline, FuseMoE, MoE-Retriever,
 * REMIND / Soft MoE): the ones that load from bytes and run in a browser. `buildModel`
 * (src/models/build.ts) adds the model types that run in a native library.
 */
import type { DatasetSpec } from '../data/schema.js';
import type { ModelConfig } from '../config/schema.js';
import type { FusionModel } from './model.js';
import { LateFusionBaseline } from './lateFusionBaseline.js';
import { FuseMoEModel } from './fusemoe.js';
import { MoERetrieverModel } from './moeRetriever.js';
import { RemindModel } from './remind.js';
import { FlexiModalError } from '../errors.js';

/** Build a TensorFlow.js model from its config; other model types are refused by name. */
export function buildTensorModel(cfg: ModelConfig, spec: DatasetSpec, seed: number): FusionModel {
  switch (cfg.type) {
    case 'baseline':
      return new LateFusionBaseline(spec, cfg, seed);
    case 'fusemoe':
      return new FuseMoEModel(spec, cfg, seed);
    case 'moe-retriever':
      return new MoERetrieverModel(spec, cfg, seed);
    case 'remind':
      return new RemindModel(spec, cfg, seed);
    default:
      throw new FlexiModalError(`model type '${(cfg as { type: string }).type}' runs in a native library, not in TensorFlow.js: it cannot be loaded from bytes or run in a browser`, {
        where: 'model.type',
        hint: 'use it with the Node API or CLI, or export a baseline, fusemoe, remind or moe-retriever model',
      });
  }
}

/**
 * The benchmark's methods: each is a `model` section (and the few `train` keys its recipe needs)
 * of an ordinary run config — the same model types and settings as the presets in configs/
 * (baseline-*, fusemoe-*, softmoe-*, remind-*, moe-retriever-*, learned-embedding-*), at the
 * benchmark's small size (d = 32, mean-pool-MLP time-series encoders) so that every method of a
 * suite trains in the same budget.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigFile } from '../config/parse.js';
import { FlexiModalError } from '../errors.js';
import { modelSchema } from '../config/schema.js';

/** One method of the benchmark. */
export interface MethodDef {
  id: string;
  /** What it is, for the leaderboard. */
  label: string;
  /** The config's `model` section for a dataset id. */
  model: (dataset: string) => Record<string, unknown>;
  /** Config `train` keys of the method's recipe (merged over the suite's schedule), given the suite's epochs and the dataset id. */
  train?: (epochs: number, dataset: string) => Record<string, unknown>;
}

/** The late-fusion baseline every interval is also computed against. */
export const BASELINE_METHOD = 'late-fusion';

const encoder = { kind: 'mean-pool-mlp' };

/** FuseMoE with one gating function (configs/fusemoe-*.json at benchmark size). */
function fusemoe(gating: 'softmax' | 'laplace'): Record<string, unknown> {
  return {
    type: 'fusemoe',
    d: 32,
    encoder,
    blocks: 1,
    heads: 4,
    dropout: 0.1,
    moe: { numExperts: 8, topK: 2, hidden: 64, gating, router: 'per-modality', entropyWeight: 0.01, loadWeight: 0 },
    missing: 'learned',
  };
}

/** The REMIND model type: Soft MoE fusion with the chosen missing-embedding and routing parts. */
function remindModel(groupEmbeddings: boolean | 'residual', residualRouting: boolean): Record<string, unknown> {
  return {
    type: 'remind',
    d: 32,
    encoder,
    blocks: 1,
    heads: 4,
    dropout: 0.1,
    softMoe: { numExperts: 8, slotsPerExpert: 1, hidden: 64 },
    groupEmbeddings,
    residualRouting: { enabled: residualRouting },
  };
}

/** REMIND's two-stage recipe (configs/remind-*.json): focal loss, encoders frozen after half the epochs. */
function remindTrain(groupDro: boolean): (epochs: number) => Record<string, unknown> {
  return (epochs) => ({
    loss: { type: 'focal', focalGamma: 2 },
    groupWeighting: { type: groupDro ? 'group-dro' : 'none' },
    freezeEncodersAfter: Math.max(1, Math.ceil(epochs / 2)),
  });
}

/** MoE-Retriever's model type with one missing-modality strategy (configs/moe-retriever-*.json, learned-embedding-*.json). */
function retriever(missing: 'moe-retriever' | 'learned-modality' | 'learned-group'): Record<string, unknown> {
  return {
    type: 'moe-retriever',
    d: 32,
    encoder,
    heads: 4,
    dropout: 0.1,
    missing,
    retrieval: { intraSamples: 'observed-count', expertsPerModality: 8, sharedExperts: 4, topK: 2, hidden: 64, gating: 'softmax' },
    fusion: { type: 'transformer', blocks: 1, ffnHidden: 64 },
  };
}

/**
 * Gradient-boosted trees (XGBoost) on per-variable summary statistics: the `xgboost` model type
 * (issue 22 §2) with the settings of its preset for the dataset, configs/xgboost-<dataset>.json
 * (the PhysioNet preset for the panel grouping and MIMIC-IV); `{ type: 'xgboost' }` with the type's
 * defaults where no preset is found. Where the build has no such model type the cells fail with a
 * message saying so (see {@link unknownModelTypeMessage}).
 */
function xgboostPreset(configsDir: string, dataset: string): { model?: Record<string, unknown>; train?: Record<string, unknown> } {
  const name = dataset === 'synthetic' || dataset === 'mfeat' ? dataset : 'physionet2012';
  const path = join(configsDir, `xgboost-${name}.json`);
  if (!existsSync(path)) return {};
  const raw = readConfigFile(path) as { model?: Record<string, unknown>; train?: Record<string, unknown> };
  return raw.model?.type === 'xgboost' ? raw : {};
}

/** Every method, in leaderboard order. `configsDir` is the repository's configs/ (for presets). */
export function methodRegistry(configsDir: string): MethodDef[] {
  return [
    { id: BASELINE_METHOD, label: 'late-fusion baseline (per-modality encoders, concatenation, MLP)', model: () => ({ type: 'baseline', d: 32, encoder, hidden: [64], dropout: 0.2 }) },
    { id: 'fusemoe-softmax', label: 'FuseMoE, softmax gating', model: () => fusemoe('softmax') },
    { id: 'fusemoe-laplace', label: 'FuseMoE, Laplace gating', model: () => fusemoe('laplace') },
    { id: 'softmoe', label: 'Soft MoE (per-modality missing tokens)', model: () => remindModel(false, false), train: remindTrain(false) },
    { id: 'remind', label: 'REMIND (paper recipe: group embeddings, residual routing, group DRO)', model: () => remindModel(true, true), train: remindTrain(true) },
    { id: 'remind-residual', label: 'REMIND, residual group embeddings (ours)', model: () => remindModel('residual', true), train: remindTrain(true) },
    { id: 'moe-retriever', label: 'MoE-Retriever', model: () => retriever('moe-retriever') },
    { id: 'learned-modality', label: 'learned per-modality missing embeddings', model: () => retriever('learned-modality') },
    { id: 'learned-group', label: 'learned per-combination missing embeddings', model: () => retriever('learned-group') },
    {
      id: 'xgboost',
      label: 'gradient-boosted trees (XGBoost) on summary statistics + missing indicators',
      model: (dataset) => xgboostPreset(configsDir, dataset).model ?? { type: 'xgboost' },
      // the preset's time-step cap (the features summarise every kept observation)
      train: (_epochs, dataset) => {
        const t = xgboostPreset(configsDir, dataset).train;
        return t?.maxTimesteps ? { maxTimesteps: t.maxTimesteps } : {};
      },
    },
  ];
}

/** The methods named in `ids` (in registry order); throws naming an unknown one. */
export function selectMethods(all: MethodDef[], ids: readonly string[] | undefined): MethodDef[] {
  if (!ids) return all;
  for (const id of ids) {
    if (!all.some((m) => m.id === id)) {
      throw new FlexiModalError(`unknown method '${id}'`, { where: '--methods', hint: `choose from ${all.map((m) => m.id).join(', ')}` });
    }
  }
  return all.filter((m) => ids.includes(m.id));
}

/** The model types this build's config schema accepts (`model.type`). */
export function knownModelTypes(): string[] {
  return modelSchema.options.map((o) => String((o.shape.type as unknown as { value: unknown }).value));
}

/** The message for a method whose model type this build does not know, or null when it knows it. */
export function unknownModelTypeMessage(method: MethodDef): string | null {
  const type = method.model('').type;
  if (typeof type === 'string' && knownModelTypes().includes(type)) return null;
  return `unknown model type '${String(type)}' (method ${method.id}): this build of fleximodal has no such model type${type === 'xgboost' ? ' — gradient-boosted trees arrive with the xgboost model type (issue 22 §2)' : ''}; known: ${knownModelTypes().join(', ')}`;
}

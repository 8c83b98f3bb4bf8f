/**
 * Fine-tuning chosen parts of a trained model (REMIND Fig. 5: nothing / head / router /
 * router + head / router + head + experts), everything else frozen (src/train/freeze.ts).
 */
import type { Sample, TaskSpec } from '../data/schema.js';
import type { Batch } from '../data/batchTypes.js';
import type { FusionModel } from '../models/model.js';
import { FlexiModalError } from '../errors.js';
import { train, type TrainerConfig, type TrainResult } from './trainer.js';
import { inParts, type ModelPart } from './freeze.js';
import type { Predictions } from './predict.js';

/** What a fine-tuning run needs. */
export interface FinetuneInputs {
  model: FusionModel;
  task: TaskSpec;
  /** The labelled fine-tuning samples (no other labels exist for unseen groups: training runs its fixed epochs and keeps the last weights). */
  samples: Sample[];
  toBatch: (samples: Sample[]) => Batch;
  scoreValidation: (pred: Predictions, samples: Sample[]) => Record<string, number>;
  log?: (line: string) => void;
  label?: string;
}

/**
 * Trains only the variables of `parts` on the fine-tuning samples; returns null for no part
 * ("nothing"). Throws when the model has no variable of a requested part (e.g. a router on the
 * late-fusion baseline), naming the part.
 */
export function finetuneParts(inputs: FinetuneInputs, parts: readonly ModelPart[], cfg: TrainerConfig): TrainResult | null {
  if (parts.length === 0) return null;
  if (inputs.model.fit) {
    // a library model (xgboost): no tensor parameters to fine-tune by part
    throw new FlexiModalError(`model type '${inputs.model.type}' has no parts to fine-tune (its trees are fitted by its library)`, {
      where: '--parts',
      hint: 'use --parts nothing: the held-out groups evaluated without fine-tuning',
    });
  }
  const names = inputs.model.variables().map((v) => v.name);
  for (const p of parts) {
    if (!names.some(inParts([p]))) {
      throw new FlexiModalError(`the model has no ${p} variables to fine-tune`, {
        where: '--parts',
        hint: `variables are matched by name (docs/ARCHITECTURE.md); this model has e.g. ${names.slice(0, 4).join(', ')}`,
      });
    }
  }
  return train(
    {
      model: inputs.model,
      task: inputs.task,
      train: inputs.samples,
      val: inputs.samples,
      toBatch: inputs.toBatch,
      scoreValidation: inputs.scoreValidation,
      progress: false,
      log: inputs.log,
      label: inputs.label,
      trainable: inParts(parts),
      keepLastWeights: true,
    },
    { ...cfg, freezeEncodersAfter: null, patience: 0 },
  );
}

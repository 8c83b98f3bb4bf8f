/**
 * Which variables a training step updates, by the variable-name convention of
 * docs/ARCHITECTURE.md: encoders `enc.*`, prediction head `head.*`, routers / gates `*.gate.*`
 * (and `*.router.*`), experts `*.expert<i>.*`, missing / group embeddings `missing.*`.
 *
 * A frozen variable gets no gradient, so AdamW neither updates it nor decays it.
 * Used by two-stage training (REMIND §3: `train.freezeEncodersAfter`) and `fleximodal finetune`.
 */
import { paramName } from '../engine/params.js';
import { FlexiModalError } from '../errors.js';

/** Model parts a fine-tuning choice can unfreeze. */
export const MODEL_PARTS = ['head', 'router', 'experts', 'missing', 'encoders'] as const;
export type ModelPart = (typeof MODEL_PARTS)[number];

const PART_PATTERNS: Record<ModelPart, RegExp> = {
  head: /^head\./,
  router: /(^|\.)(gate|router)\./,
  experts: /(^|\.)expert\d+\./,
  missing: /^missing\./,
  encoders: /^enc\./,
};

/** True when a variable name belongs to the part. */
export function isPartVariable(part: ModelPart, name: string): boolean {
  return PART_PATTERNS[part].test(name);
}

/** True for encoder variables (`enc.*`). */
export function isEncoderVariable(name: string): boolean {
  return isPartVariable('encoders', name);
}

/**
 * Parse a fine-tuning choice: "nothing" or parts joined by '+', e.g. "router+head+experts".
 * Throws naming the bad part.
 */
export function parsePartChoice(choice: string, where: string): ModelPart[] {
  const text = choice.trim();
  if (text === 'nothing') return [];
  const parts = text.split('+').map((p) => p.trim());
  for (const p of parts) {
    if (!(MODEL_PARTS as readonly string[]).includes(p)) {
      throw new FlexiModalError(`unknown model part "${p}" in "${choice}"`, { where, hint: `use "nothing" or parts joined by '+' from: ${MODEL_PARTS.join(', ')}` });
    }
  }
  return parts as ModelPart[];
}

/** Predicate: does a variable belong to any of `parts`? */
export function inParts(parts: readonly ModelPart[]): (name: string) => boolean {
  return (name) => parts.some((p) => isPartVariable(p, name));
}

/**
 * The variables a step of epoch `epoch` (1-based) updates: those passing `trainable` (default
 * all), minus the encoders once `freezeEncodersAfter` epochs are done (null = never frozen).
 */
export function activeVariables<V extends { name: string }>(
  variables: readonly V[],
  epoch: number,
  freezeEncodersAfter: number | null | undefined,
  trainable?: (name: string) => boolean,
): V[] {
  const frozenEncoders = freezeEncodersAfter !== null && freezeEncodersAfter !== undefined && epoch > freezeEncodersAfter;
  return variables.filter((v) => (!trainable || trainable(paramName(v))) && !(frozenEncoders && isEncoderVariable(paramName(v))));
}

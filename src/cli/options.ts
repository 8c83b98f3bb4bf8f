/**
 * Shared parsing of CLI option values.
 */
import { FlexiModalError } from '../errors.js';

/** "1,2,3" → [1, 2, 3] (distinct non-negative integers; an empty list is an error, not the default). */
export function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!seeds.length || seeds.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new FlexiModalError(`--seeds must be a comma-separated list of non-negative integers, got '${text}'`, { where: '--seeds', hint: 'e.g. --seeds 1,2,3' });
  }
  const dup = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dup !== undefined) {
    // a repeated seed would resume the first one's model and report a spread of 0 over "2 seeds"
    throw new FlexiModalError(`--seeds lists seed ${dup} twice ('${text}')`, { where: '--seeds', hint: 'give each seed once, e.g. --seeds 1,2,3' });
  }
  return seeds;
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

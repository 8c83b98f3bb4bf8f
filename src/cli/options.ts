/**
 * Shared parsing of CLI option values.
 */
import { FlexiModalError } from '../errors.js';

/** "1,2,3" → [1, 2, 3] (non-negative integers). */
export function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!seeds.length || seeds.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new FlexiModalError(`--seeds must be a comma-separated list of non-negative integers, got '${text}'`, { hint: 'e.g. --seeds 1,2,3' });
  }
  return seeds;
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

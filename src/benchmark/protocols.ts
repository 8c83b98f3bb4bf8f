/**
 * The benchmark's missingness protocols, each an existing protocol of the run config reached
 * through its keys (no copy of the protocol code):
 *   - natural:   the data as recorded;
 *   - drop30 / drop50: `missingness: random-drop`, every modality dropped with p = 0.3 / 0.5
 *                (src/run/missingnessProtocol.ts);
 *   - longtail:  `missingness: random-drop` with the long-tailed per-modality profile
 *                (docs/CONFIG.md "Long-tailed profile for mfeat": unequal drop probabilities);
 *   - extreme:   `missingness: extreme`, each modality in turn absent from 80 % of the complete
 *                samples (REMIND Table 5; src/run/extremeProtocol.ts) — one protocol per modality,
 *                `extreme-<modality>`;
 *   - unseen:    `split.holdOutGroups` (src/data/holdOut.ts) on the p = 0.3 drop: one modality
 *                combination never seen in training, evaluated zero-shot on its test part.
 */
import { FlexiModalError } from '../errors.js';
import type { DatasetDef } from './datasets.js';

/** The protocol families a suite or `--protocols` names. */
export const PROTOCOL_FAMILIES = ['natural', 'drop30', 'drop50', 'longtail', 'extreme', 'unseen'] as const;
export type ProtocolFamily = (typeof PROTOCOL_FAMILIES)[number];

/** One concrete protocol of one dataset: its id and the config keys it sets. */
export interface ProtocolDef {
  /** e.g. "drop30", "extreme-labs". */
  id: string;
  family: ProtocolFamily;
  label: string;
  /** Top-level config sections it sets (`missingness`, `split`). */
  config: Record<string, unknown>;
  /** The evaluated part whose predictions rank the methods: the test split, or the held-out groups' test part. */
  part: 'test' | 'heldout-test';
}

/** The per-modality drop probabilities of the long-tailed profile (docs/CONFIG.md), assigned in modality order. */
export const LONG_TAIL_PROFILE = [0.05, 0.15, 0.25, 0.75, 0.45, 0.85] as const;

/** Long-tailed profile for a dataset's modalities (cycling through the profile beyond six modalities). */
export function longTailProfile(modalities: readonly string[]): Record<string, number> {
  return Object.fromEntries(modalities.map((m, i) => [m, LONG_TAIL_PROFILE[i % LONG_TAIL_PROFILE.length]!]));
}

/** Checks the names of `--protocols` / a suite. */
export function parseProtocolFamilies(ids: readonly string[], where: string): ProtocolFamily[] {
  for (const id of ids) {
    if (!(PROTOCOL_FAMILIES as readonly string[]).includes(id)) {
      throw new FlexiModalError(`unknown protocol '${id}'`, { where, hint: `choose from ${PROTOCOL_FAMILIES.join(', ')}` });
    }
  }
  return ids as ProtocolFamily[];
}

/**
 * The concrete protocols of `family` for `dataset`: one for most families, one per modality for
 * `extreme`, none (with the reason) where the protocol is not defined for the dataset.
 */
export function protocolsOf(family: ProtocolFamily, dataset: DatasetDef): { protocols: ProtocolDef[]; skipped?: string } {
  const drop = (p: number) => ({ missingness: { protocol: 'random-drop', p, seed: 0 } });
  switch (family) {
    case 'natural':
      return { protocols: [{ id: 'natural', family, label: 'natural missingness', config: {}, part: 'test' }] };
    case 'drop30':
      return { protocols: [{ id: 'drop30', family, label: 'random modality drop p = 0.3', config: drop(0.3), part: 'test' }] };
    case 'drop50':
      return { protocols: [{ id: 'drop50', family, label: 'random modality drop p = 0.5', config: drop(0.5), part: 'test' }] };
    case 'longtail': {
      const p = longTailProfile(dataset.modalities);
      return {
        protocols: [
          {
            id: 'longtail',
            family,
            label: `long-tailed profile (${Object.entries(p).map(([m, q]) => `${m} ${q}`).join(', ')})`,
            config: { missingness: { protocol: 'random-drop', p, seed: 0 } },
            part: 'test',
          },
        ],
      };
    }
    case 'extreme':
      return {
        protocols: dataset.modalities.map((m) => ({
          id: `extreme-${m}`,
          family,
          label: `extreme: ${m} absent from 80 % of the complete samples`,
          config: { missingness: { protocol: 'extreme', modality: m, fraction: 0.8, seed: 0 } },
          part: 'test' as const,
        })),
      };
    case 'unseen':
      if (!dataset.unseenGroup) return { protocols: [], skipped: `no unseen-combination group is defined for ${dataset.id}` };
      return {
        protocols: [
          {
            id: 'unseen',
            family,
            label: `unseen combination ${dataset.unseenGroup} (held out of training after a p = 0.3 drop; zero-shot)`,
            config: { ...drop(0.3), split: { holdOutGroups: [dataset.unseenGroup] } },
            part: 'heldout-test',
          },
        ],
      };
  }
}

/**
 * Unseen modality combinations (REMIND Fig. 5): the samples of chosen groups are held out of
 * training, validation and test, into a pool split per group into a small labelled fine-tuning
 * part (round(fraction × n_g) samples of each held-out group g, seeded shuffle) and a test part.
 */
import { FlexiModalError } from '../errors.js';
import { Rng } from '../engine/rng.js';
import type { Dataset, Sample } from './schema.js';
import { groupIdFromName, groupIdOf, groupName } from './groups.js';

/** The partition of a dataset by held-out groups. */
export interface HeldOutPartition {
  /** The dataset without the held-out groups' samples (to split and train on). */
  rest: Dataset;
  /** Held-out samples used to fine-tune. */
  finetune: Sample[];
  /** Held-out samples used to evaluate. */
  test: Sample[];
  /** Held-out group name → number of samples (all of its samples). */
  counts: Record<string, number>;
}

/**
 * Holds the groups named in `groups` (e.g. "fac+fou"; modality order does not matter) out of the
 * dataset. Throws naming the key when a name is not a combination of the data's modalities or no
 * sample has it.
 */
export function holdOutGroups(dataset: Dataset, groups: readonly string[], fraction: number, seed: number): HeldOutPartition {
  const ids = new Map<number, string>();
  for (const g of groups) {
    let id: number;
    try {
      id = groupIdFromName(dataset.spec, g);
    } catch (e) {
      throw new FlexiModalError((e as Error).message, { where: 'config key split.holdOutGroups', hint: `name groups by their modalities joined with '+', from: ${dataset.spec.modalities.map((m) => m.name).join(', ')}` });
    }
    ids.set(id, groupName(dataset.spec, id));
  }
  const byGroup = new Map<number, Sample[]>([...ids.keys()].map((id) => [id, []]));
  const rest: Sample[] = [];
  for (const s of dataset.samples) (byGroup.get(groupIdOf(dataset.spec, s)) ?? rest).push(s);
  const rng = new Rng(seed);
  const finetune: Sample[] = [];
  const test: Sample[] = [];
  const counts: Record<string, number> = {};
  for (const [id, samples] of [...byGroup.entries()].sort((a, b) => a[0] - b[0])) {
    if (samples.length === 0) {
      throw new FlexiModalError(`no sample has the modality combination "${ids.get(id)}"`, { where: 'config key split.holdOutGroups', hint: 'hold out a combination that occurs in the data (see the run summary’s group table)' });
    }
    counts[ids.get(id)!] = samples.length;
    const order = rng.shuffle(samples.slice());
    const k = Math.round(fraction * samples.length);
    finetune.push(...order.slice(0, k));
    test.push(...order.slice(k));
  }
  const report = structuredClone(dataset.report);
  report.counts['samples held out (split.holdOutGroups)'] = finetune.length + test.length;
  report.notes.push(
    `held out of training: ${Object.entries(counts).map(([g, n]) => `${g} (${n})`).join(', ')} → fine-tuning part ${finetune.length}, test part ${test.length} (fraction ${fraction}, seed ${seed})`,
  );
  return { rest: { ...dataset, samples: rest, report }, finetune, test, counts };
}

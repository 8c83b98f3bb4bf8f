/**
 * Modality combinations ("groups"): a bitmask over the spec's modality order (bit m = modality m),
 * its readable name ("static+vitals+labs", the empty set is "none"), and counts over a dataset.
 */
import { FlexiModalError } from '../errors.js';
import { hasModality, type Dataset, type DatasetSpec, type Sample } from './schema.js';

/** Name of the empty modality combination. */
export const EMPTY_GROUP_NAME = 'none';

/** Bitmask of the modalities the sample has (bit m = spec.modalities[m]). */
export function groupIdOf(spec: DatasetSpec, sample: Sample): number {
  let id = 0;
  spec.modalities.forEach((m, i) => {
    if (hasModality(sample, m.name)) id |= 1 << i;
  });
  return id;
}

/** "static+vitals+labs" (spec order) for a bitmask; "none" for 0. */
export function groupName(spec: DatasetSpec, id: number): string {
  if (id < 0 || id >= 2 ** spec.modalities.length) {
    throw new FlexiModalError(`group id ${id} out of range for ${spec.modalities.length} modalities`);
  }
  const names = spec.modalities.filter((_, i) => (id >>> i) & 1).map((m) => m.name);
  return names.length === 0 ? EMPTY_GROUP_NAME : names.join('+');
}

/** Inverse of `groupName` (modality order in the name does not matter). */
export function groupIdFromName(spec: DatasetSpec, name: string): number {
  if (name === EMPTY_GROUP_NAME) return 0;
  let id = 0;
  for (const part of name.split('+')) {
    const i = spec.modalities.findIndex((m) => m.name === part);
    if (i < 0) {
      throw new FlexiModalError(`unknown modality "${part}" in group name "${name}"`, {
        hint: `modalities: ${spec.modalities.map((m) => m.name).join(', ')}`,
      });
    }
    id |= 1 << i;
  }
  return id;
}

/** One modality combination and how many samples have exactly it. */
export interface GroupCount {
  id: number;
  name: string;
  count: number;
}

/** Counts of modality combinations, most frequent first (ties by id). */
export function groupCounts(dataset: Dataset | { spec: DatasetSpec; samples: Sample[] }): GroupCount[] {
  const counts = new Map<number, number>();
  for (const s of dataset.samples) {
    const id = groupIdOf(dataset.spec, s);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([id, count]) => ({ id, name: groupName(dataset.spec, id), count }))
    .sort((a, b) => b.count - a.count || a.id - b.id);
}

/** Per-modality number of samples that have it (spec order). */
export function modalityCoverage(dataset: { spec: DatasetSpec; samples: Sample[] }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of dataset.spec.modalities) {
    out[m.name] = dataset.samples.filter((s) => hasModality(s, m.name)).length;
  }
  return out;
}

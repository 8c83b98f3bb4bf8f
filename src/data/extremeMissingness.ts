/**
 * The extreme-missingness protocol of REMIND Table 5 / App. 7.5: "for each modality M_i, we start
 * from the subset of the dataset where all modalities are available, and artificially remove a
 * random 80 % of samples from modality M_i", giving an "M_i available" group (20 %) and an
 * "M_i absent" group (80 %).
 *
 * Samples that lack any modality are removed from the dataset first (incomplete = 'drop', the
 * paper's protocol; counted in the report) or kept unchanged (incomplete = 'keep', a deviation
 * for data with few complete samples). The drop itself is `extremeDrop` on the complete samples:
 * exactly round(fraction × k) of the k complete samples lose M_i, chosen by a seeded shuffle.
 */
import { FlexiModalError } from '../errors.js';
import { hasModality, type Dataset } from './schema.js';
import { extremeDrop, type DropResult } from './missingness.js';

/** Options of the protocol (config `missingness` with protocol 'extreme'). */
export interface ExtremeOptions {
  modality: string;
  fraction: number;
  seed: number;
  incomplete: 'drop' | 'keep';
}

/** Result: the drop result on the protocol's dataset, and how many incomplete samples were removed. */
export interface ExtremeResult extends DropResult {
  /** Samples without every modality, removed before the drop (0 with incomplete = 'keep'). */
  incompleteRemoved: number;
  /** Samples with every modality when the protocol started. */
  complete: number;
}

/** Applies the protocol; the input dataset is not modified. */
export function extremeMissingness(dataset: Dataset, opts: ExtremeOptions): ExtremeResult {
  const names = dataset.spec.modalities.map((m) => m.name);
  if (!names.includes(opts.modality)) {
    throw new FlexiModalError(`unknown modality "${opts.modality}"`, { where: 'config key missingness.modality', hint: `the data has ${names.join(', ')}` });
  }
  const isComplete = (s: Dataset['samples'][number]) => names.every((n) => hasModality(s, n));
  const completeSamples = dataset.samples.filter(isComplete);
  if (completeSamples.length === 0) {
    throw new FlexiModalError('no sample has every modality, so the extreme protocol has nothing to start from', {
      where: 'config key missingness.protocol',
      hint: 'use data with complete samples, or the random-drop protocol',
    });
  }
  const incompleteRemoved = opts.incomplete === 'drop' ? dataset.samples.length - completeSamples.length : 0;
  const report = structuredClone(dataset.report);
  if (incompleteRemoved > 0) {
    report.counts['samples removed by extreme protocol (not every modality present)'] = incompleteRemoved;
  }
  const start: Dataset = opts.incomplete === 'drop' ? { ...dataset, samples: completeSamples, report } : dataset;
  // only complete samples may lose the modality: incomplete ones (kept) are left as they are
  const completeIds = new Set(completeSamples.map((s) => s.id));
  const candidates: Dataset = { ...start, samples: start.samples.filter((s) => completeIds.has(s.id)) };
  const r = extremeDrop(candidates, { modality: opts.modality, fraction: opts.fraction, seed: opts.seed, keepAtLeastOne: true });
  const changed = new Map(r.dataset.samples.map((s) => [s.id, s] as const));
  const samples = start.samples.map((s) => changed.get(s.id) ?? s);
  return { ...r, dataset: { ...r.dataset, samples }, incompleteRemoved, complete: completeSamples.length };
}

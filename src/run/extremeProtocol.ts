/**
 * The `missingness.protocol = 'extreme'` branch of the run: applies REMIND's extreme-missingness
 * protocol (src/data/extremeMissingness.ts) and records what it removed in the dataset report.
 */
import type { Dataset } from '../data/schema.js';
import type { RunConfig } from '../config/schema.js';
import { extremeMissingness } from '../data/extremeMissingness.js';

/** The extreme-protocol config. */
export type ExtremeProtocolConfig = Extract<NonNullable<RunConfig['missingness']>, { protocol: 'extreme' }>;

/** The dataset with the protocol applied (the input is not modified); counts go to the report and log. */
export function applyExtremeMissingness(dataset: Dataset, protocol: ExtremeProtocolConfig, log: (l: string) => void): Dataset {
  const r = extremeMissingness(dataset, protocol);
  const report = { ...r.dataset.report, notes: [...r.dataset.report.notes] };
  const dropped = r.dropped[protocol.modality] ?? 0;
  report.notes.push(
    `missingness protocol extreme: ${r.complete} of ${dataset.samples.length} samples have every modality; ` +
      (protocol.incomplete === 'drop' ? `${r.incompleteRemoved} others removed; ` : `the ${dataset.samples.length - r.complete} others kept unchanged; `) +
      `${protocol.modality} removed from ${dropped} of the ${r.complete} complete samples (fraction ${protocol.fraction}, seed ${protocol.seed}): ` +
      `${protocol.modality} available in ${r.complete - dropped}, absent in ${dropped}`,
  );
  log(report.notes[report.notes.length - 1]!);
  return { ...r.dataset, report };
}

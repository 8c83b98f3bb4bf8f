/**
 * Assemble one Sample per labelled cohort stay from the extracted modalities: id = stay_id,
 * subject = subject_id (for patient-level splits), in stay-id order. With `requireObservation`
 * a stay without any time-series / embedding observation in its window is dropped and counted.
 */
import type { ReportBuilder } from '../../report.js';
import type { Sample } from '../../schema.js';
import type { ExtractedModality } from './modalities.js';

/** Reason counted for stays dropped by `requireObservation`. */
export const NO_OBSERVATION = 'stay without any observation in the window (requireObservation)';

/** Samples of the labelled stays (stay id → label), with their subjects (stay id → subject id). */
export function assembleSamples(
  labels: Map<number, number | number[]>,
  subjects: Map<number, string>,
  modalities: ExtractedModality[],
  requireObservation: boolean,
  report: ReportBuilder,
): Sample[] {
  const samples: Sample[] = [];
  let dropped = 0;
  for (const stay of [...labels.keys()].sort((a, b) => a - b)) {
    const mods: Sample['modalities'] = {};
    let observed = false;
    for (const m of modalities) {
      const d = m.data.get(stay);
      if (!d) continue;
      mods[m.spec.name] = d;
      if (m.spec.kind !== 'static') observed = true;
    }
    if (!observed && requireObservation) {
      dropped++;
      continue;
    }
    samples.push({ id: String(stay), subject: subjects.get(stay), label: labels.get(stay)!, modalities: mods, source: `stay ${stay}` });
  }
  report.count(NO_OBSERVATION, dropped);
  return samples;
}

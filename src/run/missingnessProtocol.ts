/**
 * Applies the config's `missingness` protocol (if any) to a loaded dataset and records what was
 * dropped in the dataset report, so the run summary shows it.
 */
import type { Dataset } from '../data/schema.js';
import { dropModalitiesAtRandom } from '../data/missingness.js';
import type { RunConfig } from '../config/schema.js';
import { FlexiModalError } from '../errors.js';
import { applyExtremeMissingness } from './extremeProtocol.js';

/** The dataset with the protocol applied (the input is not modified). */
export function applyMissingness(dataset: Dataset, protocol: RunConfig['missingness'], log: (l: string) => void): Dataset {
  if (!protocol) return dataset;
  if (protocol.protocol === 'extreme') return applyExtremeMissingness(dataset, protocol, log);
  if (protocol.modalities) {
    for (const m of protocol.modalities) {
      if (!dataset.spec.modalities.some((s) => s.name === m)) {
        throw new FlexiModalError(`unknown modality '${m}'`, {
          where: 'config key missingness.modalities',
          hint: `the data has ${dataset.spec.modalities.map((s) => s.name).join(', ')}`,
        });
      }
    }
  }
  const r = dropModalitiesAtRandom(dataset, { p: protocol.p, seed: protocol.seed, modalities: protocol.modalities });
  const report = { ...r.dataset.report, counts: { ...r.dataset.report.counts }, notes: [...r.dataset.report.notes] };
  for (const [m, n] of Object.entries(r.dropped)) report.counts[`modality dropped by protocol: ${m}`] = n;
  const kept = Object.entries(r.keptToAvoidEmpty).filter(([, n]) => n > 0);
  report.notes.push(
    `missingness protocol random-drop p=${typeof protocol.p === 'number' ? protocol.p : JSON.stringify(protocol.p)} seed=${protocol.seed} over [${(protocol.modalities ?? dataset.spec.modalities.map((m) => m.name)).join(', ')}]: ` +
      `${r.samplesAffected} samples lost ≥ 1 modality` +
      (kept.length ? `; drops undone to keep one modality: ${kept.map(([m, n]) => `${m} ${n}`).join(', ')}` : ''),
  );
  log(report.notes[report.notes.length - 1]!);
  return { ...r.dataset, report };
}

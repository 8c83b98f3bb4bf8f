/**
 * Missingness protocols for robustness experiments: each returns a COPY of the dataset with some
 * modalities removed from some samples (seeded), and counts of what was dropped (also added to
 * the copy's report under "modality dropped (<protocol>)").
 */
import { FlexiModalError } from '../errors.js';
import { Rng } from '../engine/rng.js';
import { hasModality, type Dataset, type Sample } from './schema.js';
import { longTailOrder } from './synthetic.js';

/** Result of a protocol. */
export interface DropResult {
  dataset: Dataset;
  /** modality → number of samples it was dropped from. */
  dropped: Record<string, number>;
  /** Samples that lost at least one modality. */
  samplesAffected: number;
  /** Drops undone to keep at least one modality per sample (by modality). */
  keptToAvoidEmpty: Record<string, number>;
}

function checkModalities(dataset: Dataset, names: string[], where: string): void {
  for (const n of names) {
    if (!dataset.spec.modalities.some((m) => m.name === n)) {
      throw new FlexiModalError(`unknown modality "${n}"`, { where, hint: `modalities: ${dataset.spec.modalities.map((m) => m.name).join(', ')}` });
    }
  }
}

/** Apply per-sample drop decisions; `decide` returns the modality names to drop. */
function applyDrops(dataset: Dataset, protocol: string, rng: Rng, keepAtLeastOne: boolean, decide: (s: Sample, present: string[]) => string[]): DropResult {
  const dropped: Record<string, number> = {};
  const kept: Record<string, number> = {};
  let affected = 0;
  const samples = dataset.samples.map((s) => {
    const present = dataset.spec.modalities.map((m) => m.name).filter((n) => hasModality(s, n));
    let drop = decide(s, present).filter((n) => present.includes(n));
    if (keepAtLeastOne && present.length > 0 && drop.length === present.length) {
      const keep = drop[rng.int(drop.length)]!;
      kept[keep] = (kept[keep] ?? 0) + 1;
      drop = drop.filter((n) => n !== keep);
    }
    if (drop.length === 0) return s;
    affected++;
    const modalities = { ...s.modalities };
    for (const n of drop) {
      delete modalities[n];
      dropped[n] = (dropped[n] ?? 0) + 1;
    }
    return { ...s, modalities };
  });
  const reason = `modality dropped (${protocol})`;
  const report = structuredClone(dataset.report);
  const total = Object.values(dropped).reduce((a, b) => a + b, 0);
  if (total > 0) {
    report.counts[reason] = (report.counts[reason] ?? 0) + total;
    report.byVariable[reason] = { ...(report.byVariable[reason] ?? {}), ...dropped };
  }
  report.notes.push(`${protocol}: dropped ${total} modality instances from ${affected} samples`);
  return { dataset: { ...dataset, samples, report }, dropped, samplesAffected: affected, keptToAvoidEmpty: kept };
}

/**
 * Drop each (sample, modality) independently with probability p (the MoE-Retriever protocol uses
 * p = 0.3). `p` is one probability for every modality, or a record modality → probability (a
 * per-modality profile, e.g. a REMIND-style long tail; modalities not in the record are never
 * dropped). `modalities` limits which modalities may be dropped (default all). With
 * keepAtLeastOne (default true) a sample that would lose all its modalities keeps one of them
 * (chosen at random, counted in keptToAvoidEmpty).
 */
export function dropModalitiesAtRandom(
  dataset: Dataset,
  opts: { p: number | Record<string, number>; seed: number; modalities?: string[]; keepAtLeastOne?: boolean },
): DropResult {
  const perModality = typeof opts.p === 'number' ? undefined : opts.p;
  if (perModality) checkModalities(dataset, Object.keys(perModality), 'p');
  const probs = perModality ? Object.values(perModality) : [opts.p as number];
  for (const q of probs) if (!(q >= 0 && q <= 1)) throw new FlexiModalError(`p must be in [0, 1], got ${q}`, { where: 'p' });
  const names = opts.modalities ?? dataset.spec.modalities.map((m) => m.name);
  checkModalities(dataset, names, 'modalities');
  const pOf = (n: string): number => (perModality ? (perModality[n] ?? 0) : (opts.p as number));
  const label = perModality ? `random p={${Object.entries(perModality).map(([n, q]) => `${n}:${q}`).join(',')}}` : `random p=${opts.p}`;
  const rng = new Rng(opts.seed);
  return applyDrops(dataset, label, rng, opts.keepAtLeastOne ?? true, (_s, present) =>
    present.filter((n) => names.includes(n) && rng.next() < pOf(n)),
  );
}

/**
 * Impose a long-tailed distribution of modality combinations: each sample draws a target
 * combination with probability ∝ (rank+1)^−alpha in `longTailOrder` (full set first), and keeps
 * only its present modalities that are in the target (at least one is always kept).
 */
export function longTailDrop(dataset: Dataset, opts: { seed: number; alpha?: number }): DropResult {
  const alpha = opts.alpha ?? 1.5;
  const M = dataset.spec.modalities.length;
  const ids = longTailOrder(M);
  const w = ids.map((_, r) => (r + 1) ** -alpha);
  const tot = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  const cum = w.map((x) => (acc += x / tot));
  const rng = new Rng(opts.seed);
  const names = dataset.spec.modalities.map((m) => m.name);
  return applyDrops(dataset, `long-tail alpha=${alpha}`, rng, true, (_s, present) => {
    const u = rng.next();
    let r = cum.findIndex((c) => u < c);
    if (r < 0) r = ids.length - 1;
    const target = ids[r]!;
    return present.filter((n) => !((target >> names.indexOf(n)) & 1));
  });
}

/**
 * Drop one modality from exactly round(fraction × k) of the k samples that have it (default
 * fraction 0.8; chosen by a seeded shuffle). A sample for which it is the only modality keeps it
 * when keepAtLeastOne (default true; counted in keptToAvoidEmpty).
 */
export function extremeDrop(dataset: Dataset, opts: { modality: string; fraction?: number; seed: number; keepAtLeastOne?: boolean }): DropResult {
  checkModalities(dataset, [opts.modality], 'modality');
  const fraction = opts.fraction ?? 0.8;
  if (!(fraction >= 0 && fraction <= 1)) throw new FlexiModalError(`fraction must be in [0, 1], got ${fraction}`, { where: 'fraction' });
  const rng = new Rng(opts.seed);
  const having = dataset.samples.filter((s) => hasModality(s, opts.modality)).map((s) => s.id);
  const chosen = new Set(rng.shuffle(having).slice(0, Math.round(fraction * having.length)));
  return applyDrops(dataset, `extreme ${opts.modality} ${fraction}`, rng, opts.keepAtLeastOne ?? true, (s) =>
    chosen.has(s.id) ? [opts.modality] : [],
  );
}

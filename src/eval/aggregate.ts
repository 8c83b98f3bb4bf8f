/**
 * Mean ± std over seeds, producing the metrics.json contract (docs/METRICS.md):
 *
 *   { "<split>": { "<metric>": { "mean": n, "std": n, "seeds": [n…] } },
 *     "groups": { "<split>": { "<combination>": { "n": count, "<metric>": {…} } } } }
 *
 * std is the sample standard deviation (n − 1 denominator), 0 for a single seed. NaN becomes null.
 */
import { FlexiModalError } from '../errors.js';
import { SPLITS, type Metrics, type Split } from './task.js';
import type { GroupedMetrics } from './evaluate.js';
import type { LongTailJson } from './longTail.js';
import type { ExtremeJson } from './presence.js';

/** Mean ± std of one metric over seeds; `seeds` holds the per-seed values in input seed order. */
export interface MetricSummary {
  /** Mean over the seeds with a finite value; null when there is none. */
  mean: number | null;
  /** Sample std (n − 1) over those seeds; 0 for one seed; null when there is none. */
  std: number | null;
  /** One entry per input seed, in order: null where the value was NaN or the group was absent. */
  seeds: (number | null)[];
}

/** One group of one split: its size, the number of seeds it occurred in, and metric summaries. */
export interface GroupSummary {
  /** Group size (samples); the mean over seeds if it differed between seeds. */
  n: number;
  /** Number of seeds in which the group occurred (extra key). */
  n_seeds: number;
  [metric: string]: MetricSummary | number;
}

/** Metric name → summary, for one split. */
export type SplitSummary = Record<string, MetricSummary>;

/** The metrics.json contract. Splits that were not evaluated are absent; `groups` is always present. */
export interface MetricsJson {
  train?: SplitSummary;
  val?: SplitSummary;
  test?: SplitSummary;
  external?: SplitSummary;
  groups: Partial<Record<Split, Record<string, GroupSummary>>>;
  /** Head / tail groups (src/eval/longTail.ts); absent in runs written before it existed. */
  longTail?: LongTailJson;
  /** Metrics with / without the modality of the extreme-missingness protocol (src/eval/presence.ts). */
  extreme?: ExtremeJson;
}

/** Top-level sections of metrics.json that are neither splits nor `groups` (checked by their own modules). */
export const EXTRA_SECTIONS: readonly string[] = ['longTail', 'extreme'];

/** One seed's results: split → metrics, and optionally split → group → metrics. */
export interface SeedResult {
  splits: Partial<Record<Split, Metrics | Record<string, number | undefined>>>;
  groups?: Partial<Record<Split, Record<string, Metrics | Record<string, number | undefined>>>>;
}

/** Converts one seed's `evaluateByGroup` outputs (split → overall + groups) into a `SeedResult`. */
export function seedResultFromEvaluations(bySplit: Partial<Record<Split, GroupedMetrics>>): SeedResult {
  const out: SeedResult = { splits: {}, groups: {} };
  for (const [split, g] of Object.entries(bySplit) as [Split, GroupedMetrics][]) {
    out.splits[split] = g.overall;
    out.groups![split] = g.groups;
  }
  return out;
}

/** Mean and sample std (n − 1; 0 for one value) of the finite entries of `values`; NaN → null. */
export function summarize(values: readonly (number | null | undefined)[]): MetricSummary {
  const seeds = values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
  const ok = seeds.filter((v): v is number => v !== null);
  if (ok.length === 0) return { mean: null, std: null, seeds };
  const mean = ok.reduce((a, b) => a + b, 0) / ok.length;
  const std = ok.length < 2 ? 0 : Math.sqrt(ok.reduce((a, b) => a + (b - mean) ** 2, 0) / (ok.length - 1));
  return { mean, std, seeds };
}

function checkSplit(split: string, seed: number): asserts split is Split {
  if (!(SPLITS as readonly string[]).includes(split)) {
    throw new FlexiModalError(`unknown split "${split}" in the results of seed #${seed}`, {
      where: 'aggregateSeeds',
      hint: `use one of ${SPLITS.join(', ')}`,
    });
  }
}

/** Union of the keys of several records, in first-seen order. */
function keysOf(records: readonly (Record<string, unknown> | undefined)[]): string[] {
  const seen = new Set<string>();
  for (const r of records) if (r) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

/**
 * Aggregates per-seed results into the metrics.json contract. Every numeric key of the per-seed
 * metrics is summarised (so extra keys pass through). Groups present in only some seeds are
 * aggregated over the seeds that have them (`seeds` holds null for the others, `n_seeds` says how
 * many had it), with `n` taken as the group size (mean over those seeds if it differed). In groups,
 * `n` is a plain count; at split level it is summarised like a metric.
 */
export function aggregateSeeds(perSeed: readonly SeedResult[]): MetricsJson {
  if (perSeed.length === 0) {
    throw new FlexiModalError('no seed results to aggregate', { where: 'aggregateSeeds', hint: 'pass at least one seed' });
  }
  const out = {} as MetricsJson; // splits first, "groups" last (key order of the written file)
  const allGroups: MetricsJson['groups'] = {};
  perSeed.forEach((r, s) => {
    Object.keys(r.splits).forEach((k) => checkSplit(k, s));
    Object.keys(r.groups ?? {}).forEach((k) => checkSplit(k, s));
  });
  for (const split of SPLITS) {
    const rows = perSeed.map((r) => r.splits[split]);
    if (rows.every((m) => m === undefined)) continue;
    const summary: SplitSummary = {};
    for (const metric of keysOf(rows)) summary[metric] = summarize(rows.map((m) => m?.[metric]));
    out[split] = summary;
  }
  for (const split of SPLITS) {
    const perSeedGroups = perSeed.map((r) => r.groups?.[split]);
    if (perSeedGroups.every((g) => g === undefined)) continue;
    const groups: Record<string, GroupSummary> = {};
    for (const key of keysOf(perSeedGroups)) {
      const rows = perSeedGroups.map((g) => g?.[key]);
      const present = rows.filter((m) => m !== undefined);
      const sizes = present.map((m) => m!.n).filter((v): v is number => typeof v === 'number');
      const n = sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : 0;
      const g: GroupSummary = { n, n_seeds: present.length };
      for (const metric of keysOf(rows)) {
        if (metric === 'n' || metric === 'n_seeds') continue;
        g[metric] = summarize(rows.map((m) => m?.[metric]));
      }
      groups[key] = g;
    }
    allGroups[split] = groups;
  }
  out.groups = allGroups;
  return out;
}

/** `JSON.stringify` of a metrics.json object (indented), with any stray NaN/±Infinity written as null. */
export function metricsJsonString(m: MetricsJson): string {
  return JSON.stringify(m, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** The summary of `metric` in a split or group object, or undefined when absent (skips plain counts). */
export function metricOf(
  obj: SplitSummary | GroupSummary | undefined,
  metric: string,
): MetricSummary | undefined {
  const v = obj?.[metric];
  return v !== undefined && typeof v === 'object' ? v : undefined;
}

/**
 * "mean ± std" with `digits` decimals (default 3), e.g. "0.853 ± 0.004"; "—" when the mean is null
 * or the summary is absent; the mean alone when only one seed has a value; "(k/N seeds)" appended
 * when the metric is undefined for some seeds.
 */
export function formatMeanStd(m: MetricSummary | undefined, digits = 3): string {
  if (!m || m.mean === null) return '—';
  const defined = m.seeds.filter((x) => x !== null).length;
  // one value has no spread to show (the contract's std 0 for one seed is not a measured 0)
  const text = m.std === null || (m.seeds.length > 0 && defined <= 1) ? m.mean.toFixed(digits) : `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
  // a metric undefined for some seeds (e.g. AUROC of a group with one class in some splits)
  return defined < m.seeds.length ? `${text} (${defined}/${m.seeds.length} seeds)` : text;
}

/**
 * Light structural check of a parsed metrics.json (e.g. read by `fleximodal compare`); throws
 * `FlexiModalError` naming the offending key. Returns the object typed as `MetricsJson`.
 */
export function validateMetricsJson(obj: unknown, where = 'metrics.json'): MetricsJson {
  const bad = (what: string, key: string): never => {
    throw new FlexiModalError(what, { where: `${where} key ${key}`, hint: 'regenerate it with aggregateSeeds (docs/METRICS.md)' });
  };
  const isSummary = (v: unknown): boolean =>
    typeof v === 'object' && v !== null && 'mean' in v && 'std' in v && Array.isArray((v as MetricSummary).seeds);
  if (typeof obj !== 'object' || obj === null) bad('not an object', '(root)');
  const o = obj as Record<string, unknown>;
  if (typeof o.groups !== 'object' || o.groups === null) bad('missing "groups" object', 'groups');
  for (const [k, v] of Object.entries(o)) {
    if (k === 'groups' || EXTRA_SECTIONS.includes(k)) continue;
    if (!(SPLITS as readonly string[]).includes(k)) bad(`unknown split "${k}"`, k);
    for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) {
      if (!isSummary(mv)) bad('metric is not { mean, std, seeds }', `${k}.${mk}`);
    }
  }
  for (const [split, gs] of Object.entries(o.groups as Record<string, unknown>)) {
    if (!(SPLITS as readonly string[]).includes(split)) bad(`unknown split "${split}"`, `groups.${split}`);
    for (const [gk, g] of Object.entries(gs as Record<string, unknown>)) {
      const gg = g as Record<string, unknown>;
      if (typeof gg.n !== 'number') bad('group without numeric "n"', `groups.${split}.${gk}`);
      for (const [mk, mv] of Object.entries(gg)) {
        if (typeof mv !== 'number' && !isSummary(mv)) bad('metric is not { mean, std, seeds }', `groups.${split}.${gk}.${mk}`);
      }
    }
  }
  return obj as MetricsJson;
}

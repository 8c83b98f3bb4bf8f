/**
 * Head / tail evaluation over modality-combination groups (REMIND §4–5, SPEC §4.7).
 *
 * Tail groups are the groups holding < `threshold` (default 15 %) of the TRAINING samples; head
 * groups are the rest. Definition (docs/METRICS.md): a part's metric for one seed is the MEAN OVER
 * THE PART'S GROUPS of each group's own metric on the evaluated split (groups weighted equally,
 * not samples pooled), over the groups of that part present in the split with a defined value.
 * `n` is the part's total sample count in the split and `groups` how many of its groups occurred.
 * Across seeds every value is summarised as { mean, std, seeds } like any metric.
 */
import { FlexiModalError } from '../errors.js';
import { summarize, formatMeanStd, type MetricSummary, type MetricsJson } from './aggregate.js';
import type { GroupedMetrics } from './evaluate.js';
import { SPLITS, type Split } from './task.js';
import { markdownTable } from './report.js';

/** Which groups are head and which tail, from training-split group sizes. */
export interface HeadTailGroups {
  threshold: number;
  head: string[];
  tail: string[];
}

/** Per seed: split → part → metric → value. */
export type LongTailSeed = { groups: HeadTailGroups; splits: Partial<Record<Split, Record<'head' | 'tail', Record<string, number>>>> };

/** metrics.json `longTail`: threshold, tail / head group names, and split → part → metric summary. */
export interface LongTailJson {
  threshold: number;
  /** Tail groups (union over seeds when the split differs per seed), sorted. */
  tailGroups: string[];
  headGroups: string[];
  train?: Record<'head' | 'tail', Record<string, MetricSummary>>;
  val?: Record<'head' | 'tail', Record<string, MetricSummary>>;
  test?: Record<'head' | 'tail', Record<string, MetricSummary>>;
  external?: Record<'head' | 'tail', Record<string, MetricSummary>>;
}

/** Per-group keys that are counts or settings, not metrics to average over groups. */
const NOT_AVERAGED = new Set(['n', 'positives', 'val_threshold', 'classes_skipped', 'labels_skipped', 'labels_skipped_f1']);

/** At most this many group names are listed in Markdown (metrics.json has them all). */
const LISTED_GROUPS = 12;

/** "a, b, c" — or the first LISTED_GROUPS names and how many more; "none" when empty. */
function groupList(names: readonly string[]): string {
  if (!names.length) return 'none';
  if (names.length <= LISTED_GROUPS) return names.join(', ');
  return `${names.length} groups: ${names.slice(0, LISTED_GROUPS).join(', ')}, … (all in metrics.json longTail.tailGroups)`;
}

/** Head and tail groups from the group name of every training sample. */
export function headTailGroups(trainGroupNames: readonly string[], threshold = 0.15): HeadTailGroups {
  if (!(threshold > 0 && threshold < 1)) {
    throw new FlexiModalError(`tail threshold must be in (0, 1), got ${threshold}`, { where: 'config key evaluation.tailThreshold', hint: 'REMIND uses 0.15' });
  }
  const counts = new Map<string, number>();
  for (const g of trainGroupNames) counts.set(g, (counts.get(g) ?? 0) + 1);
  const N = trainGroupNames.length;
  const head: string[] = [];
  const tail: string[] = [];
  for (const [g, n] of [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) (n / N < threshold ? tail : head).push(g);
  return { threshold, head, tail };
}

/**
 * One part's metrics on one split: each metric averaged over the part's groups present with a
 * finite value (NaN when none), plus `n` (samples) and `groups` (groups present). Groups of the
 * split that the training split never had are neither head nor tail.
 */
export function partMetrics(grouped: GroupedMetrics, names: readonly string[]): Record<string, number> {
  const present = names.filter((g) => grouped.groups[g]);
  const out: Record<string, number> = { n: present.reduce((a, g) => a + grouped.groups[g]!.n, 0), groups: present.length };
  const keys = new Set(present.flatMap((g) => Object.keys(grouped.groups[g]!)));
  for (const k of keys) {
    if (NOT_AVERAGED.has(k)) continue;
    const vals = present.map((g) => grouped.groups[g]![k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    out[k] = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : NaN;
  }
  return out;
}

/** One seed's head / tail metrics for every evaluated split. */
export function longTailOfSeed(evaluations: Partial<Record<Split, GroupedMetrics>>, groups: HeadTailGroups): LongTailSeed {
  const splits: LongTailSeed['splits'] = {};
  for (const s of SPLITS) {
    const g = evaluations[s];
    if (g) splits[s] = { head: partMetrics(g, groups.head), tail: partMetrics(g, groups.tail) };
  }
  return { groups, splits };
}

/** Mean ± std over seeds of the head / tail metrics (the metrics.json `longTail` section). */
export function aggregateLongTail(perSeed: readonly LongTailSeed[]): LongTailJson {
  if (perSeed.length === 0) throw new FlexiModalError('no seed results to aggregate', { where: 'aggregateLongTail' });
  const union = (key: 'head' | 'tail') => [...new Set(perSeed.flatMap((s) => s.groups[key]))].sort();
  const out: LongTailJson = { threshold: perSeed[0]!.groups.threshold, tailGroups: union('tail'), headGroups: union('head') };
  for (const s of SPLITS) {
    if (perSeed.every((p) => !p.splits[s])) continue;
    const parts = {} as Record<'head' | 'tail', Record<string, MetricSummary>>;
    for (const part of ['head', 'tail'] as const) {
      const rows = perSeed.map((p) => p.splits[s]?.[part]);
      const keys = [...new Set(rows.flatMap((r) => Object.keys(r ?? {})))];
      parts[part] = Object.fromEntries(keys.map((k) => [k, summarize(rows.map((r) => r?.[k]))]));
    }
    out[s] = parts;
  }
  return out;
}

/**
 * Markdown rows head / tail / whole for several variants on one split (the whole set = the split's
 * overall metrics). Empty string when no variant has a `longTail` section.
 */
export function longTailCompareTable(variants: Record<string, MetricsJson>, split: Split, metrics: readonly string[], digits: number): string {
  const names = Object.keys(variants).filter((v) => variants[v]!.longTail?.[split]);
  if (!names.length) return '';
  const rows: string[][] = [];
  for (const part of ['head', 'tail', 'whole'] as const) {
    for (const v of names) {
      const m = variants[v]!;
      const src = part === 'whole' ? m[split] : m.longTail![split]![part];
      const n = src?.n?.mean;
      const groups = part === 'whole' ? '' : ` (${formatMeanStd(src?.groups, 0)} groups)`;
      rows.push([part, v, `${n === null || n === undefined ? '—' : Number.isInteger(n) ? String(n) : n.toFixed(1)}${groups}`, ...metrics.map((k) => formatMeanStd(src?.[k], digits))]);
    }
  }
  const tails = [...new Set(names.flatMap((v) => variants[v]!.longTail!.tailGroups))];
  const threshold = variants[names[0]!]!.longTail!.threshold;
  return [
    '## Head / tail',
    '',
    `Tail = groups with < ${(threshold * 100).toFixed(0)} % of the training samples (${groupList(tails)}); head = the rest. Head and tail values are the mean over the part's groups of each group's metric; whole = all samples pooled.`,
    '',
    markdownTable(['part', 'variant', 'n', ...metrics], rows),
    '',
  ].join('\n');
}

/** Markdown section of one run's head / tail metrics (every evaluated split). */
export function longTailMarkdown(lt: LongTailJson, metrics: readonly string[], digits = 3): string {
  const rows: string[][] = [];
  for (const s of SPLITS) {
    const parts = lt[s];
    if (!parts) continue;
    for (const part of ['head', 'tail'] as const) {
      rows.push([s, part, formatMeanStd(parts[part].n, 0), formatMeanStd(parts[part].groups, 0), ...metrics.map((k) => formatMeanStd(parts[part][k], digits))]);
    }
  }
  return [
    '## Head / tail groups',
    '',
    `Tail groups (< ${(lt.threshold * 100).toFixed(0)} % of the training samples): ${groupList(lt.tailGroups)}. Values: mean over the part's groups of each group's metric (mean ± std over seeds).`,
    '',
    markdownTable(['split', 'part', 'n', 'groups', ...metrics], rows),
    '',
  ].join('\n');
}

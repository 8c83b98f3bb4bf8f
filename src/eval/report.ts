/**
 * Markdown reports from metrics.json objects: `metricsReport` (one run: overall per split, then
 * per group) and `compareTable` (several variants side by side, used by `fleximodal compare`).
 */
import { SPLITS, type Split } from './task.js';
import { formatMeanStd, metricOf, type GroupSummary, type MetricsJson, type SplitSummary } from './aggregate.js';
import { longTailCompareTable } from './longTail.js';

/** Options of the Markdown reports. */
export interface ReportOptions {
  /** Metric columns; default: the contract metrics, plus f1_at_val_threshold, macro_f1 (binary) and ece when present. */
  metrics?: string[];
  /** Decimals (default 3). */
  digits?: number;
  /** Heading of the report (default "Metrics"). */
  title?: string;
}

const DEFAULT_ORDER = ['auroc', 'auprc', 'f1', 'f1_at_val_threshold', 'macro_f1', 'accuracy', 'brier', 'ece'];

/** Default metric columns: the known metrics that occur in at least one split of any of `jsons`. */
function defaultMetrics(jsons: readonly MetricsJson[]): string[] {
  const present = new Set<string>();
  for (const j of jsons) {
    for (const s of SPLITS) for (const k of Object.keys(j[s] ?? {})) present.add(k);
    for (const gs of Object.values(j.groups)) {
      for (const g of Object.values(gs ?? {})) for (const k of Object.keys(g)) present.add(k);
    }
  }
  return DEFAULT_ORDER.filter((m) => present.has(m));
}

/** Markdown table from a header row and body rows (cells have `|` escaped). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  const line = (cells: readonly string[]) => `| ${cells.map(esc).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Groups of one split sorted by n descending, then by name. */
function sortedGroups(groups: Record<string, GroupSummary> | undefined): [string, GroupSummary][] {
  return Object.entries(groups ?? {}).sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]));
}

/** Formats a group size: an integer as is, a mean over seeds with one decimal. */
function fmtN(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** Number of seeds of a summary (length of any metric's `seeds`). */
function seedCount(split: SplitSummary | undefined): number {
  const first = split ? Object.values(split)[0] : undefined;
  return first ? first.seeds.length : 0;
}

/**
 * Markdown summary of one metrics.json: an overall table (one row per split, metric columns,
 * mean ± std over seeds) and, per split, a group table sorted by n descending with the group name
 * and n. Null values print as "—".
 */
export function metricsReport(m: MetricsJson, opts: ReportOptions = {}): string {
  const metrics = opts.metrics ?? defaultMetrics([m]);
  const digits = opts.digits ?? 3;
  const out: string[] = [`# ${opts.title ?? 'Metrics'}`, ''];
  const splits = SPLITS.filter((s) => m[s] !== undefined);
  const seeds = Math.max(0, ...splits.map((s) => seedCount(m[s])));
  out.push(`Mean ± sample std over ${seeds} seed${seeds === 1 ? '' : 's'}; "—" = undefined (null).`, '');
  out.push('## Overall', '');
  out.push(
    markdownTable(
      ['split', 'n', ...metrics],
      splits.map((s) => [s, formatN(metricOf(m[s], 'n')), ...metrics.map((k) => formatMeanStd(metricOf(m[s], k), digits))]),
    ),
    '',
  );
  for (const s of SPLITS) {
    const groups = sortedGroups(m.groups[s]);
    if (groups.length === 0) continue;
    out.push(`## Groups — ${s}`, '');
    out.push(
      markdownTable(
        ['group', 'n', ...metrics],
        groups.map(([name, g]) => [name, fmtN(g.n), ...metrics.map((k) => formatMeanStd(metricOf(g, k), digits))]),
      ),
      '',
    );
  }
  return out.join('\n');
}

/** A split-level `n` summary printed as a count (mean if it varied). */
function formatN(s: { mean: number | null } | undefined): string {
  return s && s.mean !== null ? fmtN(s.mean) : '—';
}

/** Options of `compareTable`. */
export interface CompareOptions extends ReportOptions {
  /** Split to compare (default "test"). */
  split?: Split;
  /** Include the per-group table (default true). */
  groups?: boolean;
  /** Per-group rows only for groups with at least this many samples in the split (default 0 = all). */
  minGroupN?: number;
}

/**
 * Markdown comparison of variants (name → metrics.json): a table of variants × metrics (mean ± std)
 * on one split (default test), then a per-group table with one row per (group, variant), groups
 * sorted by their largest n descending.
 */
export function compareTable(variants: Record<string, MetricsJson>, opts: CompareOptions = {}): string {
  const split = opts.split ?? 'test';
  const names = Object.keys(variants);
  const metrics = opts.metrics ?? defaultMetrics(Object.values(variants));
  const digits = opts.digits ?? 3;
  const out: string[] = [`# ${opts.title ?? `Comparison (${split})`}`, ''];
  out.push('## Overall', '');
  out.push(
    markdownTable(
      ['variant', 'n', ...metrics],
      names.map((v) => {
        const s = variants[v]![split];
        return [v, formatN(metricOf(s, 'n')), ...metrics.map((k) => formatMeanStd(metricOf(s, k), digits))];
      }),
    ),
    '',
  );
  const headTail = longTailCompareTable(variants, split, metrics, digits);
  if (headTail) out.push(headTail);
  if (opts.groups === false) return out.join('\n');
  const sizes = new Map<string, number>();
  for (const v of names) {
    for (const [g, gs] of Object.entries(variants[v]!.groups[split] ?? {})) sizes.set(g, Math.max(sizes.get(g) ?? 0, gs.n));
  }
  if (sizes.size === 0) return out.join('\n');
  const minN = opts.minGroupN ?? 0;
  const order = [...sizes.entries()]
    .filter(([, n]) => n >= minN)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([g]) => g);
  const omitted = sizes.size - order.length;
  const rows: string[][] = [];
  for (const g of order) {
    for (const v of names) {
      const gs = variants[v]!.groups[split]?.[g];
      rows.push([g, v, gs ? fmtN(gs.n) : '—', ...metrics.map((k) => formatMeanStd(metricOf(gs, k), digits))]);
    }
  }
  out.push('## Per group', '');
  if (omitted > 0) out.push(`${omitted} group${omitted === 1 ? '' : 's'} with fewer than ${minN} ${split} samples omitted.`, '');
  out.push(markdownTable(['group', 'variant', 'n', ...metrics], rows), '');
  return out.join('\n');
}

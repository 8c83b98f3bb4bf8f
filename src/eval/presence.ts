/**
 * Metrics split by whether one modality is present (REMIND Table 5: "M_i available" vs
 * "M_i absent"). Unlike head / tail, each part's metrics are POOLED over its samples (the paper's
 * two sample groups), computed with `computeMetrics` at the validation threshold.
 * metrics.json `extreme` = { modality, fraction, <split>: { available, absent } } with every value
 * { mean, std, seeds } over seeds (val and test splits).
 */
import { FlexiModalError } from '../errors.js';
import { evaluateByGroup } from './evaluate.js';
import { summarize, formatMeanStd, type MetricSummary } from './aggregate.js';
import { markdownTable } from './report.js';
import type { Metrics, Split, Task } from './task.js';
import type { Labels, Scores } from './metrics/validate.js';

/** The two parts. */
export const PRESENCE_PARTS = ['available', 'absent'] as const;
export type PresencePart = (typeof PRESENCE_PARTS)[number];

/** One seed: split → part → metrics (a part with no sample is absent). */
export type PresenceSeed = Partial<Record<Split, Partial<Record<PresencePart, Metrics>>>>;

/** metrics.json `extreme`. */
export interface ExtremeJson {
  modality: string;
  fraction: number;
  train?: Partial<Record<PresencePart, Record<string, MetricSummary>>>;
  val?: Partial<Record<PresencePart, Record<string, MetricSummary>>>;
  test?: Partial<Record<PresencePart, Record<string, MetricSummary>>>;
  external?: Partial<Record<PresencePart, Record<string, MetricSummary>>>;
}

/** Pooled metrics of the samples with (`hasModality[i]`) and without the modality. */
export function presenceMetrics(task: Task, probs: Scores, labels: Labels, hasModality: readonly boolean[], threshold: number | undefined): Partial<Record<PresencePart, Metrics>> {
  const parts = hasModality.map((h) => (h ? 'available' : 'absent'));
  return evaluateByGroup(task, probs, labels, parts, { threshold }).groups as Partial<Record<PresencePart, Metrics>>;
}

/** Mean ± std over seeds of the available / absent metrics. */
export function aggregatePresence(modality: string, fraction: number, perSeed: readonly PresenceSeed[]): ExtremeJson {
  if (perSeed.length === 0) throw new FlexiModalError('no seed results to aggregate', { where: 'aggregatePresence' });
  const out: ExtremeJson = { modality, fraction };
  for (const s of ['train', 'val', 'test', 'external'] as const) {
    if (perSeed.every((p) => !p[s])) continue;
    const parts: NonNullable<ExtremeJson['test']> = {};
    for (const part of PRESENCE_PARTS) {
      const rows = perSeed.map((p) => p[s]?.[part]);
      if (rows.every((r) => !r)) continue;
      const keys = [...new Set(rows.flatMap((r) => Object.keys(r ?? {})))];
      parts[part] = Object.fromEntries(keys.map((k) => [k, summarize(rows.map((r) => r?.[k]))]));
    }
    out[s] = parts;
  }
  return out;
}

/** Markdown table: split × {overall, available, absent} × metrics (overall from the split's metrics). */
export function presenceMarkdown(ex: ExtremeJson, overall: Partial<Record<Split, Record<string, MetricSummary>>>, metrics: readonly string[], digits = 3): string {
  const rows: string[][] = [];
  for (const s of ['val', 'test'] as const) {
    if (!ex[s]) continue;
    const cells = (src: Record<string, MetricSummary> | undefined) => [formatMeanStd(src?.n, 0), ...metrics.map((k) => formatMeanStd(src?.[k], digits))];
    rows.push([s, 'overall', ...cells(overall[s])]);
    for (const part of PRESENCE_PARTS) rows.push([s, `${ex.modality} ${part}`, ...cells(ex[s]![part])]);
  }
  return [
    `## Extreme missingness (${ex.modality} removed from ${(ex.fraction * 100).toFixed(0)} % of the complete samples)`,
    '',
    `Metrics pooled over the samples with and without ${ex.modality} (REMIND Table 5), mean ± std over seeds.`,
    '',
    markdownTable(['split', 'samples', 'n', ...metrics], rows),
    '',
  ].join('\n');
}

/**
 * The data report: what a reader cleaned, converted or dropped (nothing is dropped silently).
 * `ReportBuilder` collects counts while reading; `formatReport` renders a DataReport as plain text
 * or Markdown (printed after loading and included in the run summary).
 */
import type { DataReport, Sample } from './schema.js';
import { hasModality } from './schema.js';

/** Report reason for a sample with no modality at all (kept, or refused with emptySamples: 'refuse'). */
export const NO_MODALITY = 'sample without any modality';

/** True when the sample has data for none of its modalities. */
export function hasNoModality(s: Sample): boolean {
  return !Object.keys(s.modalities).some((name) => hasModality(s, name));
}

/** Collects counts (by reason, optionally by variable) and notes while a reader runs. */
export class ReportBuilder {
  readonly counts: Record<string, number> = {};
  readonly byVariable: Record<string, Record<string, number>> = {};
  readonly notes: string[] = [];

  /** Add `n` to the count of `reason` (and to `reason`/`variable` when a variable is given). */
  count(reason: string, n = 1, variable?: string): void {
    if (n === 0) return;
    this.counts[reason] = (this.counts[reason] ?? 0) + n;
    if (variable !== undefined) {
      const per = (this.byVariable[reason] ??= {});
      per[variable] = (per[variable] ?? 0) + n;
    }
  }

  /** Add a free-text note. */
  note(text: string): void {
    this.notes.push(text);
  }

  /** Finish: a DataReport with `observationsKept` counted over the samples. */
  build(source: string, samplesRead: number, samples: Sample[]): DataReport {
    // samples with no modality are kept (emptySamples: 'flag') but always counted
    this.count(NO_MODALITY, samples.filter(hasNoModality).length);
    return {
      source,
      samplesRead,
      samplesKept: samples.length,
      observationsKept: countObservations(samples),
      counts: { ...this.counts },
      byVariable: structuredClone(this.byVariable),
      notes: [...this.notes],
    };
  }
}

/**
 * Number of observations in the samples: time-series rows + embedding vectors + non-missing
 * static entries.
 */
export function countObservations(samples: Sample[]): number {
  let n = 0;
  for (const s of samples) {
    for (const m of Object.values(s.modalities)) {
      if (!m) continue;
      if (m.kind === 'timeseries') n += m.values.length;
      else if (m.kind === 'embedding') n += m.times.length;
      else for (const v of m.values) if (!Number.isNaN(v)) n++;
    }
  }
  return n;
}

/** List ids compactly: the first `max` then "… (+k more)". */
export function listIds(ids: string[], max = 20): string {
  if (ids.length <= max) return ids.join(', ');
  return `${ids.slice(0, max).join(', ')} … (+${ids.length - max} more)`;
}

/** Render a DataReport as plain text (default) or Markdown. */
export function formatReport(r: DataReport, format: 'text' | 'markdown' = 'text'): string {
  const md = format === 'markdown';
  const lines: string[] = [];
  const reasons = Object.keys(r.counts).sort();
  if (md) {
    lines.push(`### Data report: ${r.source}`, '');
    lines.push(`- samples read: ${r.samplesRead}, kept: ${r.samplesKept}`);
    lines.push(`- observations kept: ${r.observationsKept}`);
    if (reasons.length > 0) {
      lines.push('', '| reason | count | by variable |', '| --- | ---: | --- |');
      for (const k of reasons) {
        lines.push(`| ${k} | ${r.counts[k]} | ${formatByVariable(r.byVariable[k])} |`);
      }
    }
    if (r.notes.length > 0) {
      lines.push('', 'Notes:', '');
      for (const n of r.notes) lines.push(`- ${n}`);
    }
  } else {
    lines.push(`Data report: ${r.source}`);
    lines.push(`  samples read ${r.samplesRead}, kept ${r.samplesKept}; observations kept ${r.observationsKept}`);
    for (const k of reasons) {
      const by = formatByVariable(r.byVariable[k]);
      lines.push(`  ${k}: ${r.counts[k]}${by ? ` (${by})` : ''}`);
    }
    for (const n of r.notes) lines.push(`  note: ${n}`);
  }
  return lines.join('\n');
}

function formatByVariable(per: Record<string, number> | undefined): string {
  if (!per) return '';
  return Object.entries(per)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([v, n]) => `${v} ${n}`)
    .join(', ');
}

/**
 * Checks every loaded dataset gets (src/data/load.ts), so bookkeeping mistakes are refused or
 * reported instead of silently changing the result (issue 19 §5):
 *  - a name used twice in the spec (class, label, modality, variable, feature) would collapse
 *    outputs or inputs onto one index: refused;
 *  - a `ranges` entry for a variable the data do not have would be ignored: refused, listing the
 *    names that exist;
 *  - a spec modality no sample has trains a useless encoder: a warning in the data report.
 */
import { FlexiModalError } from '../errors.js';
import { DEFAULT_RANGE_KEY } from './ranges.js';
import { hasModality, type Dataset, type DatasetSpec } from './schema.js';

/** Throw when a list of names in the spec repeats one. */
export function checkDistinctSpecNames(spec: DatasetSpec, where: string): void {
  const lists: [string, string[]][] = [['modality', spec.modalities.map((m) => m.name)]];
  if (spec.task.kind === 'multiclass') lists.push(['class', spec.task.classes]);
  if (spec.task.kind === 'multilabel') lists.push(['label', spec.task.labels]);
  for (const m of spec.modalities) {
    if (m.kind === 'timeseries') lists.push([`variable of modality "${m.name}"`, m.variables]);
    if (m.kind === 'static') lists.push([`feature of modality "${m.name}"`, m.features]);
  }
  for (const [what, names] of lists) {
    const dup = names.find((x, i) => names.indexOf(x) !== i);
    if (dup !== undefined) {
      throw new FlexiModalError(`the ${what} name "${dup}" is listed twice (${JSON.stringify(names)}); outputs or inputs with one name would be merged`, {
        where,
        hint: `give every ${what.split(' ')[0]} its own name`,
      });
    }
  }
}

/** Every variable and feature name of the spec. */
export function specVariableNames(spec: DatasetSpec): string[] {
  return spec.modalities.flatMap((m) => (m.kind === 'timeseries' ? m.variables : m.kind === 'static' ? m.features : []));
}

/** Throw when `ranges` names a variable the spec does not have. */
export function checkRangeNames(ranges: Record<string, unknown> | undefined, spec: DatasetSpec, where: string): void {
  const known = new Set(specVariableNames(spec));
  const unknown = Object.keys(ranges ?? {}).filter((k) => k !== DEFAULT_RANGE_KEY && !known.has(k));
  if (unknown.length) {
    throw new FlexiModalError(`range for unknown variable${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')} (it would be ignored)`, {
      where,
      hint: `names are case-sensitive; the data have: ${[...known].slice(0, 60).join(' ')}${known.size > 60 ? ' …' : ''}`,
    });
  }
}

/** Spec modalities that no sample has. */
export function absentModalities(ds: Pick<Dataset, 'spec' | 'samples'>): string[] {
  return ds.spec.modalities.map((m) => m.name).filter((name) => !ds.samples.some((s) => hasModality(s, name)));
}

/** Add a warning note to the data report for each spec modality no sample has. */
export function warnAbsentModalities(ds: Dataset): Dataset {
  const absent = absentModalities(ds);
  if (!absent.length || !ds.samples.length) return ds;
  const note = `warning: modalit${absent.length > 1 ? 'ies' : 'y'} ${absent.join(', ')} of the spec ${absent.length > 1 ? 'are' : 'is'} in no sample: ${absent.length > 1 ? 'their encoders' : 'its encoder'} will learn nothing (check the modality names in the data)`;
  return { ...ds, report: { ...ds.report, notes: [...ds.report.notes, note] } };
}

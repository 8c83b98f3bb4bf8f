/**
 * THE input check of a model's prediction inputs, shared by `Predictor` (src/serve/predictor.ts),
 * servers built on it and the browser entry: raw records (the JSONL sample format, docs/DATA.md)
 * are validated against the model's spec — or against the caller's `spec`, matched by name to the
 * model's (src/data/specMatch.ts) — and returned as samples in the model's spec.
 *
 * A modality the model knows that a record omits (or sets to null) is a MISSING modality, which
 * every model here is built to handle. With `strict: true` it is refused instead: every record
 * must carry every modality of the model (null allowed: an explicit "not measured"), and a
 * caller's `spec` must list them all.
 */
import { FlexiModalError } from '../errors.js';
import { sampleFromJson } from './sources/jsonlRecords.js';
import { RangePolicy } from './ranges.js';
import { alignSample, matchSpec, type SpecAlignment } from './specMatch.js';
import type { DatasetSpec, Sample } from './schema.js';

/** One input record as a caller sends it (the JSONL sample format of docs/DATA.md). */
export interface RawRecord {
  id: string;
  /** Modality name → its observations; an omitted or null modality is missing. */
  modalities: Record<string, unknown>;
  /** Optional (ignored for prediction). */
  label?: unknown;
  [key: string]: unknown;
}

/** Options of {@link parseInputRecords}. */
export interface InputRecordOptions {
  /** The records' own spec, matched by name against the model's (default: the model's spec). */
  spec?: DatasetSpec;
  /** Refuse records (and a `spec`) that lack a modality of the model. Default false. */
  strict?: boolean;
  /** Out-of-range policy of the model (its model.json `ranges`). */
  ranges?: RangePolicy;
  /** Index of the first record, for messages (`sample #i`). Default 0. */
  firstIndex?: number;
}

/** The alignment of a caller's spec to the model's (null: records are in the model's spec). */
export function inputAlignment(model: DatasetSpec, opts: Pick<InputRecordOptions, 'spec' | 'strict'>): SpecAlignment | null {
  return opts.spec ? matchSpec(model, opts.spec, 'input spec', { strict: opts.strict }) : null;
}

/**
 * Validates raw records against the model's spec (see the module comment) and returns them as
 * samples in the model's spec. Throws a FlexiModalError naming the record and the key.
 */
export function parseInputRecords(model: DatasetSpec, records: readonly unknown[], opts: InputRecordOptions = {}, alignment = inputAlignment(model, opts)): Sample[] {
  const spec = opts.spec ?? model;
  return records.map((raw, k) => {
    const where = `sample #${(opts.firstIndex ?? 0) + k}`;
    if (opts.strict) checkAllModalities(spec, raw, where);
    const s = sampleFromJson(spec, raw, where, undefined, false, opts.ranges);
    return alignment ? alignSample(model, alignment, s) : s;
  });
}

/** strict: every modality of `spec` must be a key of the record's `modalities` (null allowed). */
function checkAllModalities(spec: DatasetSpec, raw: unknown, where: string): void {
  const mods = raw && typeof raw === 'object' ? (raw as { modalities?: unknown }).modalities : undefined;
  if (!mods || typeof mods !== 'object') return; // sampleFromJson reports the shape error
  const lacking = spec.modalities.map((m) => m.name).filter((n) => !(n in (mods as Record<string, unknown>)));
  if (lacking.length) {
    throw new FlexiModalError(`the record has no ${lacking.map((n) => `"${n}"`).join(', ')} modalit${lacking.length > 1 ? 'ies' : 'y'} (strict matching)`, {
      where,
      hint: 'send every modality of the model (null for one not measured), or predict without strict to treat an omitted modality as missing',
    });
  }
}

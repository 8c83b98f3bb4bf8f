/**
 * The range / outlier policy shared by every data source: a plausible range per variable (by
 * name), a default range for variables without one (key `"*"`), and presets (the PhysioNet 2012
 * table is one). Values outside their range are dropped and counted per variable in the data
 * report; non-finite numbers (NaN, ±Infinity, or literals such as 1e999 that overflow) are
 * rejected everywhere with the same message. Format and defaults in docs/DATA.md.
 */
import { z } from 'zod';
import { FlexiModalError } from '../errors.js';
import type { ReportBuilder } from './report.js';
import { P12_RANGES, type Range } from './sources/physionet2012Variables.js';

export type { Range };

/** Report reason for a value outside its plausible range (shared by every reader). */
export const OUT_OF_RANGE = 'out-of-range value dropped';

/** Key of the default range, used for variables without an entry of their own. */
export const DEFAULT_RANGE_KEY = '*';

/**
 * The default range of every variable without an entry: finite values beyond ±1e9 are treated
 * as data-entry errors (they would dominate any mean/std; no clinical variable reaches them).
 */
export const DEFAULT_RANGE: Range = [-1e9, 1e9];

/** Named range tables. */
export const RANGE_PRESETS = {
  /** Only the default range. */
  none: {} as Record<string, Range>,
  /** The PhysioNet 2012 plausible-range table (docs/DATA.md explains every row). */
  physionet2012: P12_RANGES,
} as const;
export type RangePreset = keyof typeof RANGE_PRESETS;

const bound = z.number().nullable();
/** zod schema of a `ranges` table: variable name (or "*") → [low, high] inclusive, null = unbounded. */
export const rangesSchema = z
  .record(z.string().min(1), z.tuple([bound, bound]))
  .superRefine((r, ctx) => {
    for (const [k, [lo, hi]] of Object.entries(r)) {
      if (lo !== null && hi !== null && lo > hi) ctx.addIssue({ code: 'custom', path: [k], message: `low ${lo} is above high ${hi}` });
    }
  });
/** zod schema of a range preset name. */
export const rangePresetSchema = z.enum(Object.keys(RANGE_PRESETS) as [RangePreset, ...RangePreset[]]);

/** How a data source configures its ranges. */
export interface RangeOptions {
  /** Start from this table (default: the source's own default, e.g. 'physionet2012' for PhysioNet). */
  rangePreset?: RangePreset;
  /** Overrides per variable name; `"*"` replaces the default range. */
  ranges?: Record<string, Range>;
}

/** A resolved range table; `keep` tests a value and counts what it drops. */
export class RangePolicy {
  private constructor(readonly table: Readonly<Record<string, Range>>) {}

  /** The default policy: only the default range `DEFAULT_RANGE`. */
  static default(): RangePolicy {
    return new RangePolicy({ [DEFAULT_RANGE_KEY]: DEFAULT_RANGE });
  }

  /**
   * Resolve a preset plus overrides. `known` (optional) lists the variable names of the source:
   * an override for another name is an error naming `where`.
   */
  static from(opts: RangeOptions = {}, defaultPreset: RangePreset = 'none', known?: Iterable<string>, where = 'ranges'): RangePolicy {
    const preset = opts.rangePreset ?? defaultPreset;
    const table: Record<string, Range> = { [DEFAULT_RANGE_KEY]: DEFAULT_RANGE, ...RANGE_PRESETS[preset] };
    const names = known ? new Set([DEFAULT_RANGE_KEY, ...known, ...Object.keys(table)]) : null;
    for (const [k, r] of Object.entries(opts.ranges ?? {})) {
      if (names && !names.has(k)) {
        throw new FlexiModalError(`range for unknown variable "${k}"`, {
          where,
          hint: `names are case-sensitive; known: ${[...names].slice(0, 60).join(' ')}`,
        });
      }
      if (r[0] !== null && r[1] !== null && r[0] > r[1]) throw new FlexiModalError(`range of "${k}" is empty: [${r[0]}, ${r[1]}]`, { where });
      table[k] = r;
    }
    return new RangePolicy(table);
  }

  /** Rebuild from a saved table (e.g. a model's meta); absent = the default policy. */
  static fromTable(table: Record<string, Range> | undefined): RangePolicy {
    return table ? new RangePolicy({ [DEFAULT_RANGE_KEY]: DEFAULT_RANGE, ...table }) : RangePolicy.default();
  }

  /** The range that applies to `variable`. */
  rangeOf(variable: string): Range {
    return this.table[variable] ?? this.table[DEFAULT_RANGE_KEY] ?? [null, null];
  }

  /** True when x lies in the variable's range (inclusive). */
  inRange(variable: string, x: number): boolean {
    const range = this.rangeOf(variable); // no destructuring: this runs once per value read
    const lo = range[0];
    const hi = range[1];
    return (lo === null || x >= lo) && (hi === null || x <= hi);
  }

  /**
   * True when x is kept; otherwise counts it under `out-of-range value dropped` for
   * `label` (default: the variable name).
   */
  keep(variable: string, x: number, report?: ReportBuilder, label = variable): boolean {
    if (this.inRange(variable, x)) return true;
    report?.count(OUT_OF_RANGE, 1, label);
    return false;
  }

  /** The table as plain JSON (saved with a model so prediction input is cleaned the same way). */
  toJson(): Record<string, Range> {
    return structuredClone(this.table) as Record<string, Range>;
  }
}

/** The one message for a non-finite number in any input. */
export function nonFiniteError(what: string, raw: string, where: string): FlexiModalError {
  return new FlexiModalError(`${what} is ${raw}: not a finite number (NaN, Infinity and literals beyond ±1.8e308 are rejected)`, {
    where,
    hint: 'write a finite number; leave a missing observation out (a missing static entry is null / empty)',
  });
}

/** Number(raw) for a string that already looks numeric; throws `nonFiniteError` when it overflows. */
export function finiteNumber(raw: string, what: string, where: string): number {
  const x = Number(raw);
  if (!Number.isFinite(x)) throw nonFiniteError(what, raw.trim(), where);
  return x;
}

/**
 * The cohort (FuseMoE App. A): ICU stays of adults (anchor_age ≥ minAge) lasting at least
 * minStayHours, with the observation window [intime, intime + windowHours) — or the whole stay,
 * capped, for `windowHours: 'stay'`. Built as one SQL statement that labels every ICU stay with the
 * first exclusion rule it fails (in the order listed in COHORT_STEPS), so the count of every
 * exclusion step goes to the data report.
 *
 * Result: a DuckDB temp table `cohort(stay_id, subject_id, hadm_id, intime, outtime, stay_hours,
 * win_hours, anchor_age, gender, hospital_expire_flag, deathtime)`.
 */
import type { DuckSession } from './duck.js';
import type { TableFile } from './layout.js';
import type { ReportBuilder } from '../../report.js';

/** Cohort settings (from the source config). */
export interface CohortOptions {
  minAge: number;
  minStayHours: number | null;
  windowHours: number | 'stay';
  maxWindowHours: number;
}

/** Exclusion reasons, in the order they are tested (a stay is counted under the first it fails). */
export function cohortSteps(o: CohortOptions): { reason: string; sql: string }[] {
  return [
    { reason: 'ICU stay without valid intime/outtime', sql: 'i.intime IS NULL OR i.outtime IS NULL OR i.outtime <= i.intime' },
    { reason: 'ICU stay without its admission row', sql: 'a.hadm_id IS NULL' },
    { reason: 'ICU stay without its patient row (or anchor_age)', sql: 'p.subject_id IS NULL OR p.anchor_age IS NULL' },
    { reason: `patient younger than ${o.minAge} (anchor_age)`, sql: `p.anchor_age < ${o.minAge}` },
    ...(o.minStayHours === null ? [] : [{ reason: `ICU stay shorter than ${o.minStayHours} h`, sql: `(epoch(i.outtime) - epoch(i.intime)) / 3600.0 < ${o.minStayHours}` }]),
  ];
}

/** The SQL that builds the `stays` table (every ICU stay with its exclusion reason or NULL). */
export function staysSql(t: { icustays: TableFile; admissions: TableFile; patients: TableFile }, o: CohortOptions): string {
  const cases = cohortSteps(o)
    .map((s) => `WHEN ${s.sql} THEN '${s.reason}'`)
    .join('\n      ');
  const win = o.windowHours === 'stay' ? `least(stay_hours, ${o.maxWindowHours})` : String(o.windowHours);
  return `CREATE OR REPLACE TEMP TABLE stays AS
    SELECT *, ${win} AS win_hours FROM (
    SELECT i.stay_id, i.subject_id, i.hadm_id, i.intime, i.outtime,
      (epoch(i.outtime) - epoch(i.intime)) / 3600.0 AS stay_hours,
      p.anchor_age, p.gender, a.hospital_expire_flag, a.deathtime,
      CASE
      ${cases}
      ELSE NULL END AS excluded
    FROM ${t.icustays.relation} i
    LEFT JOIN ${t.admissions.relation} a ON a.hadm_id = i.hadm_id
    LEFT JOIN ${t.patients.relation} p ON p.subject_id = i.subject_id)`;
}

/** Counts of the cohort: ICU stays read, kept, and excluded per step. */
export interface CohortCounts {
  icuStays: number;
  kept: number;
  /** Every exclusion step in order, with its count (0 included). */
  steps: { reason: string; excluded: number }[];
}

/** Build `stays` and `cohort` and count every exclusion step into the report. */
export async function buildCohort(
  db: DuckSession,
  tables: { icustays: TableFile; admissions: TableFile; patients: TableFile },
  o: CohortOptions,
  report: ReportBuilder,
): Promise<CohortCounts> {
  await db.exec(staysSql(tables, o));
  await db.exec('CREATE OR REPLACE TEMP TABLE cohort AS SELECT * EXCLUDE (excluded) FROM stays WHERE excluded IS NULL');
  const rows = await db.all('SELECT excluded, CAST(count(*) AS INTEGER) AS n FROM stays GROUP BY excluded');
  const excluded: Record<string, number> = {};
  let icuStays = 0;
  let kept = 0;
  for (const r of rows) {
    const n = Number(r['n']);
    icuStays += n;
    if (r['excluded'] === null) kept = n;
    else excluded[String(r['excluded'])] = n;
  }
  const steps = cohortSteps(o).map((s) => ({ reason: s.reason, excluded: excluded[s.reason] ?? 0 }));
  for (const s of steps) report.count(`cohort: ${s.reason}`, s.excluded);
  return { icuStays, kept, steps };
}

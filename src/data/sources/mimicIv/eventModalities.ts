/**
 * Time-series modalities from MIMIC-IV event tables, extracted by SQL so only the cohort's
 * in-window rows of the wanted items ever leave DuckDB:
 *  - fixed-variable series (vitals from icu/chartevents, labs from hosp/labevents): itemids,
 *    unit harmonisation and plausible ranges from variables.ts;
 *  - top-item series (ICU inputs / outputs / procedures, prescriptions): the `topItems` items
 *    seen in most cohort stays (a vocabulary fitted on the cohort, labels not used), each item's
 *    values in its most frequent unit.
 * Every candidate row that is not kept is counted in the report under `<modality>: <reason>`
 * (by variable where it has one). Times are hours from ICU admission; the window is
 * [0, cohort.win_hours).
 */
import type { ReportBuilder } from '../../report.js';
import type { TimeSeriesData, TimeSeriesModalitySpec } from '../../schema.js';
import { buildTimeSeries } from '../../timeseries.js';
import { type DuckSession, valuesTable } from './duck.js';
import type { TableFile } from './layout.js';
import { type EventVariable, unitRows } from './variables.js';

/** An extracted time-series modality: its spec and the data per stay id. */
export interface ExtractedSeries {
  spec: TimeSeriesModalitySpec;
  data: Map<number, TimeSeriesData>;
}

/** Hours from ICU admission of a timestamp expression. */
const hoursSql = (time: string) => `(epoch(${time}) - epoch(c.intime)) / 3600.0`;

/**
 * Count the candidate table's rows by (variable, status) into the report, then stream its kept
 * rows ordered by stay (then time, variable, value: a fixed order, so averages of repeats are the
 * same bits on every run) and build each stay's series (repeats at one time averaged, counted).
 * The candidate table has columns stay_id, t, variable (index), value, status ('ok' = kept).
 */
async function collectSeries(db: DuckSession, table: string, name: string, variables: string[], report: ReportBuilder): Promise<ExtractedSeries> {
  const counts = await db.all(`SELECT variable, status, CAST(count(*) AS DOUBLE) AS n FROM ${table} WHERE status <> 'ok' GROUP BY ALL`);
  for (const r of counts) {
    const v = r['variable'] === null ? undefined : variables[Number(r['variable'])];
    report.count(`${name}: ${String(r['status'])}`, Number(r['n']), v);
  }
  const data = new Map<number, TimeSeriesData>();
  let stay = NaN;
  let t: number[] = [];
  let vi: number[] = [];
  let x: number[] = [];
  const flush = () => {
    const ts = buildTimeSeries(t, vi, x, variables, report);
    if (ts) data.set(stay, ts);
    t = [];
    vi = [];
    x = [];
  };
  for await (const rows of db.stream(`SELECT CAST(stay_id AS DOUBLE), t, CAST(variable AS INTEGER), value FROM ${table} WHERE status = 'ok' ORDER BY stay_id, t, variable, value`)) {
    for (const r of rows) {
      const s = r[0] as number;
      if (s !== stay) {
        if (t.length > 0) flush();
        stay = s;
      }
      t.push(r[1] as number);
      vi.push(r[2] as number);
      x.push(r[3] as number);
    }
  }
  if (t.length > 0) flush();
  await db.exec(`DROP TABLE ${table}`);
  return { spec: { name, kind: 'timeseries', variables }, data };
}

/** How an event table joins the cohort: by stay (ICU tables) or by subject and time (hosp tables). */
export type CohortJoin = 'stay_id' | 'subject_id' | 'hadm_id';

/** Vitals / labs: the listed variables, unit-harmonised and range-checked. */
export async function extractVariableSeries(
  db: DuckSession,
  name: string,
  variables: EventVariable[],
  source: TableFile,
  join: CohortJoin,
  ranges: Record<string, [number | null, number | null]>,
  report: ReportBuilder,
): Promise<ExtractedSeries> {
  const units = unitRows(variables, ranges);
  await valuesTable(db, 'unit_rules', ['itemid', 'variable', 'unit', 'scale', 'shift', 'lo', 'hi'], units.map((u) => [u.itemid, u.variable, u.unit ?? '', u.scale, u.offset, u.lo, u.hi]));
  const items = [...new Set(units.map((u) => u.itemid))];
  await valuesTable(db, 'item_vars', ['itemid', 'variable'], [...new Map(units.map((u) => [u.itemid, u.variable])).entries()]);
  const table = `cand_${name}`;
  await db.exec(`CREATE OR REPLACE TEMP TABLE ${table} AS
    SELECT stay_id, t, variable, value,
      CASE WHEN raw IS NULL THEN 'no numeric value'
           WHEN scale IS NULL THEN 'unit not harmonised'
           WHEN (lo IS NOT NULL AND value < lo) OR (hi IS NOT NULL AND value > hi) THEN 'out of plausible range'
           ELSE 'ok' END AS status
    FROM (
      SELECT c.stay_id, ${hoursSql('e.charttime')} AS t, iv.variable, e.valuenum AS raw,
        e.valuenum * u.scale + u.shift AS value, u.scale, u.lo, u.hi, c.win_hours
      FROM ${source.relation} e
      JOIN cohort c ON c.${join} = e.${join}
      JOIN item_vars iv ON iv.itemid = e.itemid
      LEFT JOIN unit_rules u ON u.itemid = e.itemid AND u.unit = coalesce(lower(trim(e.valueuom)), '')
      WHERE e.itemid IN (${items.join(', ')}) AND e.charttime IS NOT NULL
    ) WHERE t >= 0 AND t < win_hours`);
  return collectSeries(db, table, name, variables.map((v) => v.name), report);
}

/** A top-item series: which table, how rows join the cohort, which columns hold item, time, value, unit. */
export interface TopItemSource {
  name: string;
  source: TableFile;
  join: CohortJoin;
  /** SQL of the item key (VARCHAR) over alias `e`. */
  item: string;
  time: string;
  /** SQL of the value (NULL = no numeric value). */
  value: string;
  /** SQL of the unit text (lower-cased). */
  unit: string;
  /** itemid → label table (icu/d_items) for variable names, when available. */
  labels?: TableFile;
}

/**
 * Inputs / outputs / procedures / prescriptions: the `topK` items seen in most cohort stays
 * (ties by item key), each in its most frequent unit; rows of other items or units, without a
 * value or with a negative value are dropped and counted. Undefined (with a note) when no row
 * falls in a cohort window.
 */
export async function extractTopItemSeries(db: DuckSession, s: TopItemSource, topK: number, report: ReportBuilder): Promise<ExtractedSeries | undefined> {
  const raw = `raw_${s.name}`;
  await db.exec(`CREATE OR REPLACE TEMP TABLE ${raw} AS
    SELECT c.stay_id, ${hoursSql(`e.${s.time}`)} AS t, CAST(${s.item} AS VARCHAR) AS item, ${s.value} AS value, ${s.unit} AS unit, c.win_hours
    FROM ${s.source.relation} e JOIN cohort c ON c.${s.join} = e.${s.join}
    WHERE e.${s.time} IS NOT NULL`);
  await db.exec(`DELETE FROM ${raw} WHERE NOT (t >= 0 AND t < win_hours)`);
  // the vocabulary: most stays first, ties by item key; each item's main unit: most rows, ties by unit text
  const vocab = await db.all(`WITH items AS (SELECT item, CAST(count(DISTINCT stay_id) AS INTEGER) AS stays FROM ${raw} GROUP BY item),
      units AS (SELECT item, unit, row_number() OVER (PARTITION BY item ORDER BY count(*) DESC, unit NULLS LAST) AS rank FROM ${raw} GROUP BY item, unit)
    SELECT i.item, i.stays, u.unit FROM items i JOIN units u ON u.item = i.item AND u.rank = 1
    ORDER BY i.stays DESC, i.item LIMIT ${topK}`);
  if (vocab.length === 0) {
    await db.exec(`DROP TABLE ${raw}`);
    report.note(`${s.name}: no ${s.source.table} row falls in a cohort window — modality left out`);
    return undefined;
  }
  const labelOf = new Map<string, string>();
  if (s.labels) {
    const keys = vocab.map((v) => `'${String(v['item']).replaceAll("'", "''")}'`).join(', ');
    for (const r of await db.all(`SELECT CAST(itemid AS VARCHAR) AS item, label FROM ${s.labels.relation} WHERE CAST(itemid AS VARCHAR) IN (${keys})`)) {
      labelOf.set(String(r['item']), String(r['label']));
    }
  }
  const variables = vocab.map((v) => {
    const item = String(v['item']);
    const unit = v['unit'] === null ? '' : ` (${String(v['unit'])})`;
    return s.labels ? `${labelOf.get(item) ?? 'item'} [${item}]${unit}` : `${item}${unit}`;
  });
  await valuesTable(db, `vocab_${s.name}`, ['item', 'variable', 'unit'], vocab.map((v, i) => [String(v['item']), i, v['unit'] === null ? '' : String(v['unit'])]));
  const table = `cand_${s.name}`;
  await db.exec(`CREATE OR REPLACE TEMP TABLE ${table} AS
    SELECT r.stay_id, r.t, v.variable, r.value,
      CASE WHEN v.variable IS NULL THEN 'item outside the top-${topK} vocabulary'
           WHEN r.value IS NULL THEN 'no numeric value'
           WHEN coalesce(r.unit, '') <> v.unit THEN 'unit differs from the item''s main unit'
           WHEN r.value < 0 THEN 'negative value'
           ELSE 'ok' END AS status
    FROM ${raw} r LEFT JOIN vocab_${s.name} v ON v.item = r.item`);
  await db.exec(`DROP TABLE ${raw}`);
  return collectSeries(db, table, s.name, variables, report);
}

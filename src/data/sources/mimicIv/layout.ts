/**
 * The MIMIC-IV directory layout: which table lives where (`hosp/`, `icu/`), in which file format
 * (`.parquet`, `.csv.gz` or `.csv`), and which of its columns hold the logical columns the
 * extractor uses. v2.2 and v3.x (PhysioNet's releases) name these columns identically; older or
 * re-exported layouts can be mapped with `data.columns.<table>.<column>`. Every problem is a
 * FlexiModalError naming the file and the fix.
 */
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { existsSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { FlexiModalError } from '../../../errors.js';
import { type DuckSession, sqlIdent, sqlString } from './duck.js';

type ColumnType = 'BIGINT' | 'DOUBLE' | 'VARCHAR' | 'TIMESTAMP';

/** A logical column: accepted names (first = the v2.2/v3.x name) and the SQL type it is cast to. */
interface ColumnDef {
  names: string[];
  type: ColumnType;
}

const id = (name: string): ColumnDef => ({ names: [name], type: 'BIGINT' });
const ts = (...names: string[]): ColumnDef => ({ names, type: 'TIMESTAMP' });
const num = (...names: string[]): ColumnDef => ({ names, type: 'DOUBLE' });
const text = (...names: string[]): ColumnDef => ({ names, type: 'VARCHAR' });

/** Tables the extractor reads: folder and logical columns. */
export const MIMIC_TABLES = {
  patients: { folder: 'hosp', columns: { subject_id: id('subject_id'), gender: text('gender'), anchor_age: num('anchor_age'), anchor_year: num('anchor_year') } },
  admissions: {
    folder: 'hosp',
    columns: { subject_id: id('subject_id'), hadm_id: id('hadm_id'), admittime: ts('admittime'), dischtime: ts('dischtime'), deathtime: ts('deathtime'), hospital_expire_flag: num('hospital_expire_flag') },
  },
  icustays: { folder: 'icu', columns: { subject_id: id('subject_id'), hadm_id: id('hadm_id'), stay_id: id('stay_id'), intime: ts('intime'), outtime: ts('outtime') } },
  diagnoses_icd: { folder: 'hosp', columns: { subject_id: id('subject_id'), hadm_id: id('hadm_id'), icd_code: text('icd_code'), icd_version: num('icd_version') } },
  labevents: {
    folder: 'hosp',
    columns: { subject_id: id('subject_id'), itemid: id('itemid'), charttime: ts('charttime'), valuenum: num('valuenum'), valueuom: text('valueuom') },
  },
  chartevents: {
    folder: 'icu',
    columns: { stay_id: id('stay_id'), itemid: id('itemid'), charttime: ts('charttime'), valuenum: num('valuenum'), valueuom: text('valueuom') },
  },
  inputevents: { folder: 'icu', columns: { stay_id: id('stay_id'), itemid: id('itemid'), starttime: ts('starttime'), amount: num('amount'), amountuom: text('amountuom') } },
  outputevents: { folder: 'icu', columns: { stay_id: id('stay_id'), itemid: id('itemid'), charttime: ts('charttime'), value: num('value'), valueuom: text('valueuom') } },
  procedureevents: { folder: 'icu', columns: { stay_id: id('stay_id'), itemid: id('itemid'), starttime: ts('starttime'), value: num('value'), valueuom: text('valueuom') } },
  prescriptions: { folder: 'hosp', columns: { hadm_id: id('hadm_id'), starttime: ts('starttime'), drug: text('drug') } },
  d_items: { folder: 'icu', columns: { itemid: id('itemid'), label: text('label') } },
} as const satisfies Record<string, { folder: 'hosp' | 'icu'; columns: Record<string, ColumnDef> }>;

export type MimicTable = keyof typeof MIMIC_TABLES;

/** A located table: its file and the SQL relation exposing the logical columns. */
export interface TableFile {
  table: MimicTable;
  path: string;
  /** `(SELECT CAST(col AS type) AS logical, … FROM read_csv(…))`. */
  relation: string;
}

const EXTENSIONS = ['.parquet', '.csv.gz', '.csv'] as const;

/** Check that `dir` is a MIMIC-IV directory (hosp/ and icu/); the error says what it looks like instead. */
export function checkMimicDir(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new FlexiModalError(`MIMIC-IV directory not found: ${dir}`, {
      where: 'config key data.dir',
      hint: 'point data.dir (or $MIMIC_IV_DIR) at the folder holding hosp/ and icu/ (PhysioNet layout, e.g. …/mimiciv/3.1)',
    });
  }
  const hasHosp = existsSync(join(dir, 'hosp'));
  const hasIcu = existsSync(join(dir, 'icu'));
  if (hasHosp && hasIcu) return;
  const hint = existsSync(join(dir, 'core'))
    ? 'this looks like MIMIC-IV v1.x (core/ folder); v2.2 and v3.x (hosp/ + icu/) are supported — use a current release'
    : 'point data.dir at the folder holding hosp/ and icu/ (the PhysioNet layout of MIMIC-IV v2.2 / v3.x)';
  throw new FlexiModalError(`not a MIMIC-IV directory: ${hasHosp ? 'no icu/ folder' : hasIcu ? 'no hosp/ folder' : 'no hosp/ and icu/ folders'}`, { where: dir, hint });
}

/** The file of a table (`.parquet` preferred, then `.csv.gz`, `.csv`), or undefined when absent. */
export function findTableFile(dir: string, table: MimicTable): string | undefined {
  const folder = join(dir, MIMIC_TABLES[table].folder);
  for (const ext of EXTENSIONS) {
    const p = join(folder, table + ext);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The DuckDB table function reading a file (CSV read with the header, empty field = NULL). */
export function readFunction(path: string): string {
  return path.endsWith('.parquet') ? `read_parquet(${sqlString(path)})` : `read_csv(${sqlString(path)}, header = true, all_varchar = true)`;
}

/**
 * Locate a table, read its header and build the relation of its logical columns. Throws when a
 * logical column has no match (naming the file, the columns found and the override key).
 */
export async function openTable(db: DuckSession, dir: string, table: MimicTable, overrides: Record<string, Record<string, string>>): Promise<TableFile | undefined> {
  const path = findTableFile(dir, table);
  if (!path) return undefined;
  const source = readFunction(path);
  let present: string[];
  try {
    present = (await db.all(`DESCRIBE SELECT * FROM ${source}`)).map((r) => String(r['column_name']));
  } catch (e) {
    await assertGzipComplete(path);
    throw new FlexiModalError(`cannot read ${table}: ${(e as Error).message.split('\n')[0]}`, {
      where: path,
      hint: 'the file must be PhysioNet\'s gzip\'d CSV (one header line) or a Parquet export of it',
    });
  }
  const lower = new Map(present.map((c) => [c.toLowerCase(), c]));
  const cols: string[] = [];
  for (const [logical, def] of Object.entries(MIMIC_TABLES[table].columns) as [string, ColumnDef][]) {
    const override = overrides[table]?.[logical];
    const candidates = override ? [override] : def.names;
    const found = candidates.map((c) => lower.get(c.toLowerCase())).find((c) => c !== undefined);
    if (!found) {
      await assertGzipComplete(path); // a truncated .csv.gz reads as a garbled header: say what it is
      throw new FlexiModalError(
        `${basename(path)} has no column ${override ? `"${override}" (configured for ${logical})` : `"${def.names.join('" or "')}"`}; its columns are: ${present.join(', ')}`,
        {
          where: `${path} (config key data.columns.${table}.${logical})`,
          hint: `this is not the MIMIC-IV v2.2/v3.x column layout; map the column with --set data.columns.${table}.${logical}=<column name>`,
        },
      );
    }
    cols.push(`TRY_CAST(${sqlIdent(found)} AS ${def.type}) AS ${logical}`);
  }
  return { table, path, relation: `(SELECT ${cols.join(', ')} FROM ${source})` };
}

/**
 * Throw when `path` is a gzip file that ends early (a download cut short): reading it whole is the
 * only test, so it runs on the error path only.
 */
export async function assertGzipComplete(path: string): Promise<void> {
  if (!path.endsWith('.gz')) return;
  try {
    await pipeline(createReadStream(path), createGunzip(), new Writable({ write: (_c, _e, cb) => cb() }));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const truncated = code === 'Z_BUF_ERROR' || /unexpected end/i.test((e as Error).message);
    throw new FlexiModalError(truncated ? `${basename(path)} is truncated: the gzip stream ends early (an incomplete download or copy)` : `${basename(path)} is not a valid gzip file (${(e as Error).message})`, {
      where: path,
      hint: 'download the file again (PhysioNet lists its size and sha256) and check it with `gzip -t`',
    });
  }
}

/** The MIMIC-IV release named in the directory path (e.g. ".../mimiciv/3.1" → "3.1"), if any. */
export function versionFromPath(dir: string): string | undefined {
  const m = /mimic[-_]?iv(?:[-_]|[/\\]+)v?(\d+\.\d+)/i.exec(dir) ?? /[/\\]v?(\d+\.\d+)[/\\]?$/.exec(dir);
  return m?.[1];
}

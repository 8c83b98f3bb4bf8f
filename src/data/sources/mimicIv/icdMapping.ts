/**
 * ICD mapping tables for 25-PHE, loaded into DuckDB from files the user supplies:
 *  - `icd10Gem`: CMS ICD-10-CM → ICD-9-CM General Equivalence Mapping (e.g. `2018_I10gem.txt`,
 *    lines "A0100   0020     10000": ICD-10 code, ICD-9 code, 5 flags; "NoDx" rows have no map).
 *    All ICD-9 targets of a code are used (approximate and combination entries included), as in
 *    FuseMoE's use of Butler (2007).
 *  - `ccsDxref`: HCUP CCS single-level diagnosis reference (`$DXREF 2015.csv`, lines
 *    `'ICD9 CODE','CCS CATEGORY',…` with single quotes and padding; title/header lines skipped).
 * Neither file is on the npm registry, so neither is shipped; errors say so.
 */
import { existsSync } from 'node:fs';
import { FlexiModalError } from '../../../errors.js';
import { type DuckSession, sqlString } from './duck.js';

function lines(path: string): string {
  return `read_csv(${sqlString(path)}, header = false, delim = '\\t', quote = '', escape = '', columns = {'line': 'VARCHAR'})`;
}

function requireFile(path: string, key: string): void {
  if (!existsSync(path)) throw new FlexiModalError(`file not found: ${path}`, { where: `config key data.${key}`, hint: 'give the path of the file (relative to the config)' });
}

/** Load the GEM into temp table `gem(icd10, icd9)`; returns the number of mapping rows. */
export async function loadGem(db: DuckSession, path: string): Promise<number> {
  requireFile(path, 'icd10Gem');
  await db.exec(`CREATE OR REPLACE TEMP TABLE gem AS
    SELECT DISTINCT p[1] AS icd10, p[2] AS icd9 FROM (
      SELECT regexp_split_to_array(trim(line), '\\s+') AS p FROM ${lines(path)})
    WHERE len(p) = 3 AND regexp_full_match(p[3], '[01]{5}') AND p[2] <> 'NoDx'`);
  const n = Number((await db.all('SELECT CAST(count(*) AS INTEGER) AS n FROM gem'))[0]!['n']);
  if (n === 0) {
    throw new FlexiModalError('no ICD-10 → ICD-9 mapping rows found (expected lines like "A0100   0020     10000")', {
      where: `${path} (config key data.icd10Gem)`,
      hint: "use CMS's ICD-10-CM to ICD-9-CM General Equivalence Mapping file, e.g. 2018_I10gem.txt from the CMS 2018 ICD-10-CM GEM release",
    });
  }
  return n;
}

/** Load the CCS reference into temp table `dxref(icd9, ccs)`; returns the number of codes. */
export async function loadCcsDxref(db: DuckSession, path: string): Promise<number> {
  requireFile(path, 'ccsDxref');
  await db.exec(`CREATE OR REPLACE TEMP TABLE dxref AS
    SELECT DISTINCT m['code'] AS icd9, CAST(m['ccs'] AS INTEGER) AS ccs FROM (
      SELECT regexp_extract(line, '^[''"]\\s*([0-9A-Za-z]+)\\s*[''"]\\s*,\\s*[''"]\\s*([0-9]+)\\s*[''"]', ['code', 'ccs']) AS m FROM ${lines(path)})
    WHERE m['code'] <> ''`);
  const n = Number((await db.all('SELECT CAST(count(*) AS INTEGER) AS n FROM dxref'))[0]!['n']);
  if (n === 0) {
    throw new FlexiModalError("no ICD-9 → CCS rows found (expected lines like '4280 ','108 ',…)", {
      where: `${path} (config key data.ccsDxref)`,
      hint: "use HCUP's single-level CCS diagnosis reference for ICD-9-CM, $DXREF 2015.csv",
    });
  }
  return n;
}

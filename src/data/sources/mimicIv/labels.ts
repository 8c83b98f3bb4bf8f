/**
 * Task labels over the cohort (FuseMoE App. A), each one documented SQL query:
 *  - ihm (48-IHM): the admission's `hospital_expire_flag` (died in hospital), binary;
 *  - los (LOS): discharged from the ICU alive within `losHorizonHours` (48) after the window:
 *    outtime ≤ intime + window + 48 h and no death (admissions.deathtime) before outtime + 1 h;
 *  - phe (25-PHE): the 25 benchmark phenotypes (phenotypes.ts) of the stay's admission
 *    diagnoses (all of them: discharge codes), multi-label. ICD-10 codes are mapped to ICD-9
 *    through the CMS GEM when `icd10Gem` is given; without it, admissions coded in ICD-10 are
 *    excluded (counted). ICD-9 → phenotype through HCUP's $DXREF (`ccsDxref`, exact) or the
 *    built-in prefix rules (approximate).
 * Stays that cannot be labelled are excluded and counted under `label: <reason>`.
 */
import { FlexiModalError } from '../../../errors.js';
import type { ReportBuilder } from '../../report.js';
import { type DuckSession, valuesTable } from './duck.js';
import type { TableFile } from './layout.js';
import type { MimicTask } from './options.js';
import { PHENOTYPES, phenotypeCcsRows, phenotypePrefixRows } from './phenotypes.js';
import { loadCcsDxref, loadGem } from './icdMapping.js';

/** Options of the labelling step. */
export interface LabelOptions {
  task: MimicTask;
  windowHours: number | 'stay';
  losHorizonHours: number;
  icd10Gem?: string;
  ccsDxref?: string;
}

/** The SQL of the binary labels (ihm, los) as `(stay_id, y)`; NULL y = cannot be labelled. */
export function binaryLabelSql(o: LabelOptions): string {
  if (o.task === 'ihm') return 'SELECT stay_id, CAST(hospital_expire_flag AS INTEGER) AS y FROM cohort';
  if (o.windowHours === 'stay') {
    throw new FlexiModalError("the LOS task needs a window in hours, not 'stay'", { where: 'config key data.windowHours', hint: 'use windowHours: 48 (FuseMoE)' });
  }
  const within = o.windowHours + o.losHorizonHours;
  return `SELECT stay_id, CASE WHEN stay_hours <= ${within}
      AND NOT (deathtime IS NOT NULL AND deathtime <= outtime + INTERVAL 1 HOUR) THEN 1 ELSE 0 END AS y FROM cohort`;
}

/** Labels of the cohort's stays: stay id → label (binary 0/1 or multi-hot); unlabelled stays absent. */
export async function buildLabels(db: DuckSession, o: LabelOptions, diagnoses: TableFile | undefined, report: ReportBuilder): Promise<Map<number, number | number[]>> {
  const labels = new Map<number, number | number[]>();
  if (o.task !== 'phe') {
    const rows = await db.all(`SELECT CAST(stay_id AS DOUBLE) AS stay_id, y FROM (${binaryLabelSql(o)})`);
    for (const r of rows) {
      if (r['y'] === null) report.count('label: no hospital_expire_flag');
      else labels.set(Number(r['stay_id']), Number(r['y']));
    }
    return labels;
  }
  if (!diagnoses) {
    throw new FlexiModalError('the 25-PHE task needs hosp/diagnoses_icd (.csv.gz or .parquet), which is missing', { hint: 'use a full MIMIC-IV directory' });
  }
  await db.exec(`CREATE OR REPLACE TEMP TABLE dx AS SELECT DISTINCT d.hadm_id, trim(d.icd_code) AS code, CAST(d.icd_version AS INTEGER) AS v
    FROM ${diagnoses.relation} d WHERE d.hadm_id IN (SELECT hadm_id FROM cohort) AND d.icd_code IS NOT NULL`);
  if (o.icd10Gem) {
    const n = await loadGem(db, o.icd10Gem);
    report.note(`25-PHE: ICD-10 codes mapped to ICD-9 through the GEM ${o.icd10Gem} (${n} mapping rows)`);
  } else {
    await db.exec('CREATE OR REPLACE TEMP TABLE gem (icd10 VARCHAR, icd9 VARCHAR)');
    report.note('25-PHE: no data.icd10Gem given — admissions with ICD-10 diagnoses are excluded (CMS 2018_I10gem.txt maps them, as FuseMoE does)');
  }
  await db.exec(`CREATE OR REPLACE TEMP TABLE dx9 AS
    SELECT hadm_id, code AS icd9 FROM dx WHERE v = 9
    UNION ALL SELECT dx.hadm_id, g.icd9 FROM dx JOIN gem g ON g.icd10 = dx.code WHERE dx.v = 10`);
  const unmapped = await db.all('SELECT CAST(count(*) AS INTEGER) AS n FROM dx WHERE v = 10 AND code NOT IN (SELECT icd10 FROM gem)');
  report.count('25-PHE: ICD-10 diagnosis codes without a GEM mapping', Number(unmapped[0]!['n']));
  if (o.ccsDxref) {
    const n = await loadCcsDxref(db, o.ccsDxref);
    report.note(`25-PHE: ICD-9 → CCS from ${o.ccsDxref} (${n} codes, exact benchmark definition)`);
    await valuesTable(db, 'pheno_ccs', ['phenotype', 'ccs'], phenotypeCcsRows().map((r) => [r.phenotype, r.ccs]));
    await db.exec(`CREATE OR REPLACE TEMP TABLE phe AS SELECT DISTINCT x.hadm_id, p.phenotype
      FROM dx9 x JOIN dxref d ON d.icd9 = x.icd9 JOIN pheno_ccs p ON p.ccs = d.ccs`);
  } else {
    report.note('25-PHE: ICD-9 → phenotype by the built-in CCS 2015 code ranges (approximate; give data.ccsDxref for the exact HCUP table)');
    await valuesTable(db, 'pheno_prefix', ['phenotype', 'prefix', 'is_exclude'], phenotypePrefixRows().map((r) => [r.phenotype, r.prefix, r.exclude]));
    await db.exec(`CREATE OR REPLACE TEMP TABLE phe AS SELECT DISTINCT hadm_id, phenotype FROM (
        SELECT x.hadm_id, x.icd9, r.phenotype, bool_or(NOT r.is_exclude) AS inc, bool_or(r.is_exclude) AS exc
        FROM dx9 x JOIN pheno_prefix r ON starts_with(x.icd9, r.prefix) GROUP BY ALL)
      WHERE inc AND NOT exc`);
  }
  // Which stays can be labelled: their admission has diagnoses, and (without a GEM) none in ICD-10.
  const status = await db.all(`SELECT CAST(c.stay_id AS DOUBLE) AS stay_id, CAST(c.hadm_id AS DOUBLE) AS hadm_id,
      CASE WHEN NOT EXISTS (SELECT 1 FROM dx WHERE dx.hadm_id = c.hadm_id) THEN 'label: admission without diagnoses'
           WHEN ${o.icd10Gem ? 'false' : 'true'} AND EXISTS (SELECT 1 FROM dx WHERE dx.hadm_id = c.hadm_id AND dx.v = 10)
             THEN 'label: admission coded in ICD-10 and no data.icd10Gem'
           ELSE NULL END AS excluded
    FROM cohort c`);
  const pos = await db.all('SELECT CAST(hadm_id AS DOUBLE) AS hadm_id, phenotype FROM phe');
  const byHadm = new Map<number, number[]>();
  for (const r of pos) {
    const h = Number(r['hadm_id']);
    let y = byHadm.get(h);
    if (!y) byHadm.set(h, (y = PHENOTYPES.map(() => 0)));
    y[Number(r['phenotype'])] = 1;
  }
  for (const r of status) {
    if (r['excluded'] !== null) report.count(String(r['excluded']));
    else labels.set(Number(r['stay_id']), byHadm.get(Number(r['hadm_id'])) ?? PHENOTYPES.map(() => 0));
  }
  return labels;
}

/**
 * Static modalities of a stay:
 *  - priorCodes: ICD diagnosis codes of the patient's earlier admissions (discharged before this
 *    ICU admission) as a multi-hot code set over a vocabulary fitted on the cohort: codes cut to
 *    `codePrefixLength` characters (3 = ICD category) and written "icd<version>:<code>", the
 *    `codeVocabSize` codes held by most stays with at least `codeMinCount` stays. The static
 *    encoder over a multi-hot vector is a bag-of-codes encoder (a sum of learned code
 *    embeddings). Absent for stays without an earlier admission.
 *  - demographics: anchor_age and female (0/1).
 */
import type { ReportBuilder } from '../../report.js';
import type { StaticData, StaticModalitySpec } from '../../schema.js';
import type { DuckSession } from './duck.js';
import type { TableFile } from './layout.js';

/** An extracted static modality: spec and data per stay id. */
export interface ExtractedStatic {
  spec: StaticModalitySpec;
  data: Map<number, StaticData>;
}

/** Options of the code vocabulary. */
export interface CodeVocabOptions {
  codeVocabSize: number;
  codeMinCount: number;
  codePrefixLength: number;
}

/** Prior-admission ICD codes as a multi-hot static modality (undefined when the vocabulary is empty). */
export async function extractPriorCodes(
  db: DuckSession,
  tables: { admissions: TableFile; diagnoses: TableFile },
  o: CodeVocabOptions,
  report: ReportBuilder,
): Promise<ExtractedStatic | undefined> {
  const code = o.codePrefixLength > 0 ? `left(trim(d.icd_code), ${o.codePrefixLength})` : 'trim(d.icd_code)';
  await db.exec(`CREATE OR REPLACE TEMP TABLE prior_codes AS
    SELECT DISTINCT c.stay_id, 'icd' || CAST(CAST(d.icd_version AS INTEGER) AS VARCHAR) || ':' || ${code} AS code
    FROM cohort c
    JOIN ${tables.admissions.relation} a ON a.subject_id = c.subject_id AND a.hadm_id <> c.hadm_id AND a.dischtime <= c.intime
    JOIN ${tables.diagnoses.relation} d ON d.hadm_id = a.hadm_id
    WHERE d.icd_code IS NOT NULL`);
  const vocab = (
    await db.all(`SELECT code FROM (SELECT code, count(*) AS n FROM prior_codes GROUP BY code)
      WHERE n >= ${o.codeMinCount} ORDER BY n DESC, code LIMIT ${o.codeVocabSize}`)
  ).map((r) => String(r['code']));
  const stays = await db.all(`SELECT CAST(stay_id AS DOUBLE) AS stay_id, list(code) AS codes FROM prior_codes GROUP BY stay_id`);
  await db.exec('DROP TABLE prior_codes');
  if (vocab.length === 0) {
    report.note(`priorCodes: no code is held by ≥ ${o.codeMinCount} stays — modality left out`);
    return undefined;
  }
  const index = new Map(vocab.map((c, i) => [c, i]));
  const data = new Map<number, StaticData>();
  let outside = 0;
  for (const r of stays) {
    const values = new Float64Array(vocab.length);
    for (const c of r['codes'] as string[]) {
      const j = index.get(c);
      if (j === undefined) outside++;
      else values[j] = 1;
    }
    data.set(Number(r['stay_id']), { kind: 'static', values });
  }
  report.count('priorCodes: code outside the vocabulary', outside);
  return { spec: { name: 'priorCodes', kind: 'static', features: vocab }, data };
}

/** Demographics: anchor_age and female (NaN when gender is neither F nor M). */
export async function extractDemographics(db: DuckSession): Promise<ExtractedStatic> {
  const rows = await db.all(`SELECT CAST(stay_id AS DOUBLE) AS stay_id, anchor_age, gender FROM cohort`);
  const data = new Map<number, StaticData>();
  for (const r of rows) {
    const g = r['gender'];
    data.set(Number(r['stay_id']), { kind: 'static', values: Float64Array.from([Number(r['anchor_age']), g === 'F' ? 1 : g === 'M' ? 0 : NaN]) });
  }
  return { spec: { name: 'demographics', kind: 'static', features: ['age', 'female'] }, data };
}

/**
 * Which tables each MIMIC-IV modality reads and how it is extracted (one switch over the
 * modality names; the extraction logic lives in eventModalities.ts / staticModalities.ts).
 */
import type { ReportBuilder } from '../../report.js';
import type { ModalityData, ModalitySpec } from '../../schema.js';
import type { DuckSession } from './duck.js';
import { extractTopItemSeries, extractVariableSeries } from './eventModalities.js';
import type { MimicTable, TableFile } from './layout.js';
import type { MimicIvSource, MimicModality } from './options.js';
import { extractDemographics, extractPriorCodes } from './staticModalities.js';
import { LABS, VITALS } from './variables.js';

/** An extracted modality: its spec and data per stay id. */
export interface ExtractedModality {
  spec: ModalitySpec;
  data: Map<number, ModalityData>;
}

/** Tables each modality reads (besides the cohort's). */
export const MODALITY_TABLES: Record<MimicModality, MimicTable[]> = {
  vitals: ['chartevents'],
  labs: ['labevents'],
  inputs: ['inputevents'],
  outputs: ['outputevents'],
  procedures: ['procedureevents'],
  prescriptions: ['prescriptions'],
  priorCodes: ['diagnoses_icd'],
  demographics: [],
};

/** What an extraction needs besides the modality's own tables. */
export interface ModalityContext {
  db: DuckSession;
  cfg: MimicIvSource;
  admissions: TableFile;
  /** icu/d_items for item labels (absent: item ids only). */
  dItems?: TableFile;
  report: ReportBuilder;
}

/** Extract one modality from its tables (in MODALITY_TABLES order); undefined = left out (noted). */
export async function extractModality(m: MimicModality, tables: TableFile[], c: ModalityContext): Promise<ExtractedModality | undefined> {
  const { db, cfg, report } = c;
  const source = tables[0]!;
  const icuItems = (name: string, time: string, value: string, unit: string) =>
    extractTopItemSeries(db, { name, source, join: 'stay_id', item: 'e.itemid', time, value, unit: `lower(trim(${unit}))`, labels: c.dItems }, cfg.topItems, report);
  switch (m) {
    case 'vitals':
      return extractVariableSeries(db, 'vitals', VITALS, source, 'stay_id', cfg.ranges, report);
    case 'labs':
      return extractVariableSeries(db, 'labs', LABS, source, 'subject_id', cfg.ranges, report);
    case 'inputs':
      return icuItems('inputs', 'starttime', 'e.amount', 'e.amountuom');
    case 'outputs':
      return icuItems('outputs', 'charttime', 'e.value', 'e.valueuom');
    case 'procedures':
      return icuItems('procedures', 'starttime', 'e.value', 'e.valueuom');
    case 'prescriptions':
      return extractTopItemSeries(
        db,
        { name: 'prescriptions', source, join: 'hadm_id', item: 'lower(trim(e.drug))', time: 'starttime', value: 'CASE WHEN e.drug IS NULL THEN NULL ELSE 1.0 END', unit: "'order'" },
        cfg.topItems,
        report,
      );
    case 'priorCodes':
      return extractPriorCodes(db, { admissions: c.admissions, diagnoses: source }, cfg, report);
    case 'demographics':
      return extractDemographics(db);
  }
}

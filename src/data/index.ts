/** The data layer's public API (re-exports). */
export * from './schema.js';
export * from './batchTypes.js';
export { ReportBuilder, formatReport, countObservations } from './report.js';
export { buildTimeSeries, DUPLICATE_MERGED } from './timeseries.js';
export { sha256, sha256File, listingDigest } from './hash.js';
export * from './groups.js';
export * from './normalize.js';
export * from './batch.js';
export * from './split.js';
export * from './synthetic.js';
export * from './missingness.js';
export * from './load.js';
export {
  readPhysioNet2012,
  resolveP12Grouping,
  P12_GROUPINGS,
  P12_RANGES,
  P12_VARIABLES,
  P12_STATIC_FEATURES,
  P12_DESCRIPTORS,
  P12_REASONS,
  type PhysioNet2012Options,
} from './sources/physionet2012.js';
export * from './sources/jsonl.js';
export * from './sources/longCsv.js';
export { readMimicIv, mimicDir, labelSummary, type ReadMimicIvOptions } from './sources/mimicIv/reader.js';
export { mimicIvSourceSchema, MIMIC_TASKS, MIMIC_MODALITIES, MIMIC_DIR_ENV, type MimicIvSource } from './sources/mimicIv/options.js';
export { PHENOTYPES, type Phenotype } from './sources/mimicIv/phenotypes.js';
export { VITALS, LABS, type EventVariable } from './sources/mimicIv/variables.js';

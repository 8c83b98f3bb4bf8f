/**
 * The theory lab's public API (seed 002 and FuseMoE §4): the multinomial-logistic MoE, its EM and
 * bounded MLE, the Voronoi loss, the identifiability (Fisher) diagnostics and the rate studies.
 * Exported from the package root as `theory`.
 */
export * from './gateTransform.js';
export * from './mlogitMoe.js';
export { fitMlogitEm, initFromTruth, initRandom, type MlogitEmOptions, type MlogitEmResult, type InitFromTruthOptions } from './mlogitEm.js';
export * from './boundedMle.js';
export * from './fisher.js';
export * from './quadrature.js';
export * from './regimes.js';
export { voronoiLoss, voronoiLossDetailed, type VoronoiOptions, type VoronoiResult } from './voronoi.js';
export { runRateStudy, logSpacedSizes, linearSpacedSizes, formatStudyTable, median, type StudyResult, type SizeSummary, type LogLogFit } from './rateStudy.js';
export type { MlogitStudyConfig, StudyConfig, UnitResult } from './rateUnit.js';

/** Evaluation: metrics, per-group evaluation, aggregation over seeds (metrics.json), reports, plots. */
export * from './task.js';
export * from './evaluate.js';
export * from './aggregate.js';
export * from './report.js';
export { auroc, aurocMulticlass, aurocMultilabel, midranks } from './metrics/auroc.js';
export { auprc, auprcMulticlass, auprcMultilabel } from './metrics/auprc.js';
export {
  bestF1Threshold,
  bestF1ThresholdsMultilabel,
  confusionAt,
  f1AtThreshold,
  f1Multiclass,
  f1Multilabel,
  type Confusion,
  type ThresholdChoice,
} from './metrics/f1.js';
export { accuracy, accuracyMulticlass, accuracyMultilabel } from './metrics/accuracy.js';
export { brier, brierMulticlass, brierMultilabel } from './metrics/brier.js';
export { ece, eceMulticlass, eceMultilabel, reliabilityBins, type ReliabilityBin } from './metrics/calibration.js';
export type { MacroResult } from './metrics/macro.js';
export * from './plots/index.js';

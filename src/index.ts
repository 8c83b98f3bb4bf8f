/**
 * fleximodal — the public API.
 */
export { tf } from './engine/tf.js';
export { initEngine, type BackendName, type EngineOptions } from './engine/backend.js';
export { Rng } from './engine/rng.js';
export { FlexiModalError } from './errors.js';

export * from './data/index.js';

export { configSchema, type RunConfig, type ModelConfig } from './config/schema.js';
export { parseConfig, readConfigFile, applyOverride } from './config/parse.js';

export type { FusionModel, ForwardOutput, SampleExplanation } from './models/model.js';
export { buildModel } from './models/build.js';
export { LateFusionBaseline } from './models/lateFusionBaseline.js';
export { FuseMoEModel } from './models/fusemoe.js';
export { RemindModel, type RemindRouting } from './models/remind.js';
export { GroupMissingEmbedding } from './models/groupMissingEmbedding.js';
export { saveModel, loadModel, type ModelMeta, type LoadedModel } from './models/persist.js';

export * from './moe/index.js';
export { makeEncoder, type ModalityEncoder, type EncoderConfig } from './encoders/encoder.js';

export { train, type TrainerConfig, type TrainResult, type EpochRecord } from './train/trainer.js';
export { predict, labelsOf, type Predictions } from './train/predict.js';
export { taskLoss, logitsToProbs } from './train/taskLoss.js';
export type { TrainerCallback, EpochEndInfo } from './train/callbacks.js';

export {
  computeMetrics,
  evaluateByGroup,
  modalityComboKey,
  aggregateSeeds,
  seedResultFromEvaluations,
  formatMeanStd,
  validateMetricsJson,
  metricsReport,
  compareTable,
  auroc,
  auprc,
  bestF1Threshold,
  f1AtThreshold,
  accuracy,
  brier,
  ece,
  type Task,
  type Metrics,
  type MetricsJson,
  type MetricSummary,
  type GroupedMetrics,
  type Split as EvalSplit,
} from './eval/index.js';
export * as plots from './eval/plots/index.js';

export { runExperiment, evaluateSamples, type ExperimentResult } from './run/experiment.js';
export { expertUsage, type ExpertUsage } from './analysis/expertUsage.js';
export { Predictor, type Prediction } from './serve/predictor.js';
export * as theory from './theory/index.js';
// gradient-boosted trees (model.type "xgboost"): XGBoost's C library via koffi, optional
export { XGBoostModel } from './models/gbt/xgboostModel.js';
export { treeFeatures, treeFeatureNames } from './models/gbt/features.js';
export { openXGBoost, xgboostAvailable, XGBOOST_HINT } from './models/gbt/xgboostLibrary.js';
export type { XGBoostModelConfig } from './config/schema.js';
// the benchmark (docs/BENCHMARK.md): suites of cells, leaderboard, paired bootstrap intervals
export { runBenchmark, benchmarkPlan, type BenchmarkOptions } from './benchmark/benchmark.js';
export { buildLeaderboard, type Leaderboard, type ProtocolBoard, type MethodEntry } from './benchmark/leaderboard.js';
export { bootstrapReplicates, differenceInterval, type DifferenceInterval } from './benchmark/bootstrap.js';
export { SUITES, type SuiteDef } from './benchmark/suites.js';
export { readPredictionsFile, type PredictionsFile } from './run/predictionsFile.js';

/**
 * fleximodal — the public API.
 */
export { tf } from './engine/tf.js';
export { initEngine, type BackendName, type EngineOptions } from './engine/backend.js';
export { engineSummary, engineBlas, engineThreads } from './engine/backend.js';
export type { BlasStatus, BlasSetting } from './engine/blas.js';
export type { ThreadsSetting } from './engine/autoThreads.js';
export { Rng } from './engine/rng.js';
export { param, paramName, paramsByName } from './engine/params.js';
export { FlexiModalError } from './errors.js';

export * from './data/index.js';

export { configSchema, type RunConfig, type ModelConfig } from './config/schema.js';
export { parseConfig, readConfigFile, applyOverride } from './config/parse.js';
export { defineConfig, type RunConfigInput } from './config/defineConfig.js';

export type { FusionModel, ForwardOutput, SampleExplanation, ModalityAttribution, RoutingExplanation } from './models/model.js';
export { buildModel } from './models/build.js';
export { LateFusionBaseline } from './models/lateFusionBaseline.js';
export { FuseMoEModel } from './models/fusemoe.js';
export { RemindModel, type RemindRouting } from './models/remind.js';
export { GroupMissingEmbedding } from './models/groupMissingEmbedding.js';
export { saveModel, loadModel, type ModelMeta, type LoadedModel } from './models/persist.js';
export { modelFromFiles, parseModelMeta, MODEL_FILES, type ModelFileContents, type BankFiles } from './models/modelFiles.js';

export * from './moe/index.js';
export { makeEncoder, type ModalityEncoder, type EncoderConfig } from './encoders/encoder.js';

export { train, type TrainerConfig, type TrainResult, type EpochRecord } from './train/trainer.js';
export { predict, labelsOf, type Predictions } from './train/predict.js';
export { taskLoss, logitsToProbs } from './train/taskLoss.js';
export type { TrainerCallback, EpochEndInfo, StepEndInfo } from './train/callbacks.js';

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
export type { ExperimentOptions } from './run/experiment.js';
export { expertUsage, type ExpertUsage } from './analysis/expertUsage.js';
export { Predictor, type Prediction } from './serve/predictor.js';
export { explainPredictions, type ExplainMeta, type ExplainOptions, type ExplainedPredictions } from './serve/explain.js';
export { trainInWorker, type TrainInWorkerOptions } from './worker/trainInWorker.js';
export { predictInWorker, type PredictInWorkerOptions } from './worker/predictInWorker.js';
export { AbortError, type TrainProgress, type PredictProgress } from './worker/protocol.js';
export { predictSamples, type PredictOptions } from './serve/predictor.js';
export { parseInputRecords, inputAlignment, type RawRecord, type InputRecordOptions } from './data/inputRecords.js';
export type { SpecMatchOptions, SpecAlignment } from './data/specMatch.js';
export { optionalDependency } from './optionalDependency.js';
export { createServer, fleximodalServe } from './serve/lazyServer.js';
export type { ServeOptions, CreateServerOptions, ServeHandle } from './serve/server.js';
export { exportWebSite, type WebExportOptions, type WebExportResult } from './export/web/exportWeb.js';
export * as theory from './theory/index.js';
// gradient-boosted trees (model.type "xgboost"): XGBoost's C library via koffi, optional
export { XGBoostModel } from './models/gbt/xgboostModel.js';
export { treeFeatures, treeFeatureNames } from './models/gbt/features.js';
export { openXGBoost, xgboostAvailable, XGBOOST_HINT } from './models/gbt/xgboostLibrary.js';
export type { XGBoostModelConfig } from './config/schema.js';
// issue 19: owned output directories, the output-file policy, training input bounds
export { OwnedOutputDir, checkOwnedOpen, clearOwned, inspectOwned, readLedger, recordOwnedWrite, OWNED_LEDGER, OWNED_FORMAT, type OwnedDirMode, type OwnedHeader, type OwnedInspection, type OpenOwnedOptions } from './io/ownedOutput.js';
export { OutputFile, checkOutputFile, writeOutputFile, type OutputTarget, type OutputFileOptions } from './io/outputFile.js';
export { fitInputBounds, applyInputBounds, robustBounds, type InputBounds, type OutOfRangeMark, type OutOfRangePolicy } from './data/inputBounds.js';
export { exportOnnx } from './export/onnx/lazyExport.js';
export type { OnnxExportReport, ExportOnnxOptions, OnnxSidecar } from './export/onnx/exportOnnx.js';
export { recordsToOnnxTensors, inputSpecs as onnxInputSpecs, type PlainTensor, type OnnxInputSpec } from './export/onnx/tensors.js';
// the benchmark (docs/BENCHMARK.md): suites of cells, leaderboard, paired bootstrap intervals
export { runBenchmark, benchmarkPlan, type BenchmarkOptions } from './benchmark/benchmark.js';
export { buildLeaderboard, type Leaderboard, type ProtocolBoard, type MethodEntry } from './benchmark/leaderboard.js';
export { bootstrapReplicates, differenceInterval, type DifferenceInterval } from './benchmark/bootstrap.js';
export { SUITES, type SuiteDef } from './benchmark/suites.js';
export { readPredictionsFile, type PredictionsFile } from './run/predictionsFile.js';

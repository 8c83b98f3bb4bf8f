/**
 * `fleximodal/browser`: the inference path in a web page. No file system, no native addon, no
 * DuckDB, no worker threads: TensorFlow.js on its WASM backend (binaries served by the site),
 * models loaded from URLs or `File`s through the same validation as Node, the same by-name record
 * checks, the same prediction and explanation code. Bundled by scripts/build-browser.mjs into
 * dist/browser/fleximodal.js (docs/EXPORT.md).
 */
export { initBrowserEngine, fastKernelsInUse, type BrowserEngineOptions, type BrowserEngineInfo } from './engine.js';
export { BrowserPredictor, type JsonlSamples } from './predictor.js';
export { loadModelFromUrl, loadModelFromFiles, type FetchLike, type NamedBlob } from './loadModel.js';
export { modelFromFiles, parseModelMeta, MODEL_FILES, type ModelMeta, type LoadedModel, type ModelFileContents, type BankFiles } from '../models/modelFiles.js';
export { predictSamples, probabilityRecord, parseSampleRecord, samplesFromRecords, type Prediction, type PredictOptions } from '../serve/predictSamples.js';
export { parseJsonlText, sampleFromJson, JsonlLineReader } from '../data/sources/jsonlRecords.js';
export type { SampleExplanation } from '../models/model.js';
export type { DatasetSpec, Sample } from '../data/schema.js';
export { FlexiModalError } from '../errors.js';

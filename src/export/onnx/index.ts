/** ONNX export: the entry function, the tensor contract and records → tensors. */
export { exportOnnx, buildOnnx, type OnnxExportReport, type ExportOnnxOptions, type OnnxSidecar } from './exportOnnx.js';
export { recordsToOnnxTensors, inputSpecs as onnxInputSpecs, type PlainTensor, type OnnxInputSpec } from './tensors.js';

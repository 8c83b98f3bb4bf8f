/**
 * `exportOnnx` loaded on first use: the ONNX protobuf schema (onnx-proto, protobufjs) is not
 * imported with the package (import cost, issue 18 §6). Same signature as ./exportOnnx.ts.
 */
import type { ExportOnnxOptions, OnnxExportReport } from './exportOnnx.js';

/** Write the model directory's inference graph as ONNX plus its JSON sidecar (see ./exportOnnx.ts). */
export async function exportOnnx(modelDir: string, outPath: string, opts: ExportOnnxOptions = {}): Promise<OnnxExportReport> {
  const m = await import('./exportOnnx.js');
  return m.exportOnnx(modelDir, outPath, opts);
}

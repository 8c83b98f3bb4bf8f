/**
 * The `--format onnx` branch of `fleximodal export` (registers nothing by itself: src/cli/export.ts
 * calls `runOnnxExport`). Writes OUT (.onnx) and OUT.json (the sidecar describing the tensors).
 */
import type { OnnxExportReport } from '../export/onnx/exportOnnx.js';
import { exportOnnx } from '../export/onnx/lazyExport.js';

/** Options shared with the export command. */
export interface OnnxExportCliOptions {
  model: string;
  out: string;
  overwrite?: boolean;
  backend?: string;
}

/** Export `o.model` to `o.out` (+ `.json`) and log one summary line. */
export async function runOnnxExport(o: OnnxExportCliOptions, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<OnnxExportReport> {
  const r = await exportOnnx(o.model, o.out, { overwrite: o.overwrite, backend: o.backend === 'cpu' ? 'cpu' : 'wasm' });
  log(
    `exported the ${r.modelType} model to ${r.onnxPath} (ONNX opset ${r.opset}, ${r.nodes} nodes, ${(r.bytes / 1e6).toFixed(2)} MB) and its tensor description to ${r.sidecarPath}; inputs: ${r.inputs.join(', ')}`,
  );
  return r;
}

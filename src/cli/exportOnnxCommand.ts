/**
 * TEMPORARY stand-alone registration of `fleximodal export --format onnx` for this branch's
 * end-to-end test; the merged src/cli/export.ts (web + onnx) replaces it. Not wired into main.ts.
 */
import type { Command } from 'commander';
import { FlexiModalError } from '../errors.js';
import { runOnnxExport, type OnnxExportCliOptions } from './exportOnnx.js';

export function registerExportOnnxCommand(program: Command, log?: (line: string) => void): void {
  program
    .command('export')
    .description('export a trained model as an ONNX file (onnx)')
    .requiredOption('-m, --model <dir>', 'a run directory or its model/ directory')
    .requiredOption('-f, --format <format>', 'export format: onnx')
    .requiredOption('-o, --out <path>', 'the .onnx file (its sidecar is written to <path>.json)')
    .option('--overwrite', 'replace an earlier export at --out')
    .option('--backend <name>', 'tensor backend used to read the weights: wasm (default) or cpu', 'wasm')
    .action(async (o: OnnxExportCliOptions & { format: string }) => {
      if (o.format !== 'onnx') throw new FlexiModalError(`unknown export format '${o.format}'`, { where: '--format', hint: 'use onnx' });
      await runOnnxExport(o, log);
    });
}

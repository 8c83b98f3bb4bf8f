/**
 * `fleximodal export --model DIR --format web|onnx --out PATH [--overwrite]`
 *  - web: a static site that runs the model in a browser tab (src/export/web/, docs/EXPORT.md);
 *  - onnx: the model's inference graph as an ONNX file (src/export/onnx/, docs/EXPORT.md "ONNX").
 */
import type { Command } from 'commander';
import { FlexiModalError } from '../errors.js';
import { exportWebSite } from '../export/web/exportWeb.js';
import { runOnnxExport } from './exportOnnx.js';

/** Options of the export command. */
export interface ExportOptions {
  model: string;
  format: string;
  out: string;
  overwrite?: boolean;
}

export const EXPORT_FORMATS = ['web', 'onnx'] as const;

/** Run one export (the command's action; callable in-process). */
export async function runExport(o: ExportOptions, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<void> {
  if (o.format === 'web') {
    const r = await exportWebSite(o.model, o.out, { overwrite: o.overwrite, log });
    const total = r.files.reduce((a, f) => a + f.bytes, 0);
    log(`exported the ${r.modelType} model to ${r.outDir} (${r.files.length} files, ${(total / 1e6).toFixed(1)} MB${r.metrics ? ', with the run metrics' : ''}); serve it with any static file server, e.g. \`python3 -m http.server -d ${o.out}\``);
    return;
  }
  if (o.format === 'onnx') {
    await runOnnxExport(o, log);
    return;
  }
  throw new FlexiModalError(`unknown export format '${o.format}'`, { where: '--format', hint: `use one of: ${EXPORT_FORMATS.join(', ')}` });
}

/** Register `export` on the program; `log` receives its lines (stderr by default). */
export function registerExportCommand(program: Command, log?: (line: string) => void): void {
  program
    .command('export')
    .description('export a trained model: a static web site that runs it in the browser (web) or an ONNX file (onnx)')
    .requiredOption('-m, --model <dir>', 'a run directory or its model/ directory')
    .requiredOption('-f, --format <format>', `export format: ${EXPORT_FORMATS.join(' | ')}`)
    .requiredOption('-o, --out <path>', 'web: the site directory; onnx: the .onnx file')
    .option('--overwrite', 'replace an earlier export at --out (a non-empty directory that is not one is never deleted)')
    .action(async (o: ExportOptions) => runExport(o, log));
}

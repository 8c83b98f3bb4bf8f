/**
 * `fleximodal export --format web`: a static site that runs a trained model in the browser.
 *
 *   SITE/index.html          the page (src/browser/site/index.html)
 *   SITE/app.js              the page's script (src/browser/app.ts, bundled)
 *   SITE/fleximodal.js       the `fleximodal/browser` bundle (TensorFlow.js core + wasm backend)
 *   SITE/wasm/*.wasm         tfjs-backend-wasm binaries (plain, SIMD, threaded SIMD)
 *   SITE/model/              model.json, weights.safetensors (+ the retrieval bank files)
 *   SITE/metrics.json        the run's metrics, when the model came from a run directory
 *   SITE/site.json           manifest (written last)
 *
 * Serve SITE/ from any static file server; the page loads only these files.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlexiModalError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomicWrite.js';
import { initEngine } from '../../engine/backend.js';
import { loadModel, modelDirOf } from '../../models/persist.js';
import { MODEL_FILES } from '../../models/modelFiles.js';
import { validateMetricsJson } from '../../eval/aggregate.js';
import { packageVersion } from '../../run/versions.js';
import { prepareSiteDir, SITE_FORMAT, SITE_MANIFEST } from './siteDir.js';

/** Options of `exportWebSite`. */
export interface WebExportOptions {
  /** Replace a site exported into `out` before (never deletes anything else). */
  overwrite?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What was written. */
export interface WebExportResult {
  outDir: string;
  /** Paths relative to `outDir`, with their sizes in bytes. */
  files: { path: string; bytes: number }[];
  /** Whether the run's metrics.json was found and copied. */
  metrics: boolean;
  modelType: string;
}

/** Where `npm run build` puts the browser bundle (dist/browser). */
export function browserBuildDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../browser');
}

/** The tfjs-backend-wasm `.wasm` binaries of the installed package. */
export function wasmBinaries(): string[] {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const files = readdirSync(dir).filter((f) => f.endsWith('.wasm')).map((f) => join(dir, f));
  if (!files.length) throw new FlexiModalError('no .wasm files in the installed @tensorflow/tfjs-backend-wasm', { where: dir, hint: 'reinstall the dependencies (npm ci)' });
  return files;
}

/** metrics.json of the run a model directory belongs to (the run directory's, or the model's parent's). */
function runMetricsPath(modelArg: string, modelDir: string): string | undefined {
  const candidates = [join(modelArg, 'metrics.json'), join(modelDir, 'metrics.json')];
  if (basename(modelDir) === 'model') candidates.push(join(dirname(modelDir), 'metrics.json'));
  return candidates.find((p) => existsSync(p));
}

/**
 * Write the static site for the model in `modelArg` (a run directory or its model/ directory)
 * into `out`. The model is loaded first with the same checks `predict` runs, so a site is never
 * written for a model that does not load.
 */
export async function exportWebSite(modelArg: string, out: string, opts: WebExportOptions = {}): Promise<WebExportResult> {
  const log = opts.log ?? (() => {});
  const bundle = browserBuildDir();
  const bundleFiles = ['index.html', 'app.js', 'fleximodal.js'];
  const missing = bundleFiles.filter((f) => !existsSync(join(bundle, f)));
  if (missing.length) {
    throw new FlexiModalError(`the browser bundle is not built (missing ${missing.join(', ')})`, { where: bundle, hint: 'run `npm run build` first' });
  }
  await initEngine();
  const { model, meta } = loadModel(modelArg); // throws with file and reason when the model is broken
  const modelType = model.type;
  model.dispose();
  const modelDir = modelDirOf(modelArg);
  const metricsPath = runMetricsPath(modelArg, modelDir);
  let metricsText: string | undefined;
  if (metricsPath) {
    const text = readFileSync(metricsPath, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new FlexiModalError(`metrics.json is not valid JSON (${(e as Error).message})`, { where: metricsPath, hint: 'evaluate the model again, or remove the file' });
    }
    validateMetricsJson(parsed, metricsPath);
    metricsText = text;
  } else {
    log(`no metrics.json beside ${modelArg}: the page will show no run metrics`);
  }

  const outDir = prepareSiteDir(out, { overwrite: opts.overwrite });
  const files: WebExportResult['files'] = [];
  const copy = (from: string, to: string) => {
    mkdirSync(dirname(join(outDir, to)), { recursive: true });
    copyFileSync(from, join(outDir, to));
    files.push({ path: to, bytes: statSync(from).size });
  };
  const write = (to: string, data: string) => {
    writeFileAtomic(join(outDir, to), data);
    files.push({ path: to, bytes: Buffer.byteLength(data) });
  };
  for (const f of bundleFiles) copy(join(bundle, f), f);
  for (const w of wasmBinaries()) copy(w, `wasm/${basename(w)}`);
  for (const f of [MODEL_FILES.meta, MODEL_FILES.weights, MODEL_FILES.bank, MODEL_FILES.pool]) {
    if (existsSync(join(modelDir, f))) copy(join(modelDir, f), `model/${f}`);
  }
  if (metricsText !== undefined) write('metrics.json', metricsText);
  const manifest = {
    format: SITE_FORMAT,
    version: 1,
    fleximodal: packageVersion(),
    exportedAt: new Date().toISOString(),
    model: './model/',
    wasm: './wasm/',
    ...(metricsText !== undefined ? { metrics: './metrics.json' } : {}),
    modelType,
    dataset: meta.spec.name,
  };
  write(SITE_MANIFEST, JSON.stringify(manifest, null, 2) + '\n');
  log(`wrote ${files.length} files to ${outDir}`);
  return { outDir, files, metrics: metricsText !== undefined, modelType };
}

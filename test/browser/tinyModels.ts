/**
 * Tiny models trained in-process for the browser / export tests: every model type, a few epochs,
 * small dims, on synthetic data or the real data under /work/shared/data.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';

export const SHARED_DATA = process.env['FLEXIMODAL_SHARED_DATA'] ?? '/work/shared/data';

/** Small model configs, one per model type (and REMIND's two token variants). */
export const TINY_MODELS: Record<string, Record<string, unknown>> = {
  baseline: { type: 'baseline', d: 8, hidden: [8], encoder: { kind: 'mean-pool-mlp' } },
  'fusemoe-laplace': {
    type: 'fusemoe',
    d: 8,
    blocks: 1,
    heads: 2,
    encoder: { kind: 'mtand', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 },
    moe: { numExperts: 4, topK: 2, hidden: 8, gating: 'laplace', router: 'per-modality' },
  },
  'fusemoe-gaussian-joint': {
    type: 'fusemoe',
    d: 8,
    blocks: 1,
    heads: 2,
    encoder: { kind: 'utde', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 },
    moe: { numExperts: 4, topK: 2, hidden: 8, gating: 'gaussian', router: 'joint' },
  },
  'soft-moe': { type: 'remind', d: 8, heads: 2, encoder: { kind: 'mean-pool-mlp' }, softMoe: { numExperts: 4, hidden: 8 }, groupEmbeddings: false },
  remind: { type: 'remind', d: 8, heads: 2, encoder: { kind: 'mean-pool-mlp' }, softMoe: { numExperts: 4, hidden: 8 }, groupEmbeddings: true },
  'moe-retriever': {
    type: 'moe-retriever',
    d: 8,
    heads: 2,
    encoder: { kind: 'mean-pool-mlp' },
    retrieval: { expertsPerModality: 2, sharedExperts: 1, topK: 1, hidden: 8 },
    fusion: { ffnHidden: 8 },
  },
};

/** Train `model` on `data` (relative paths under `baseDir`) into `outDir`: one seed, `epochs` epochs. */
export async function trainTiny(outDir: string, data: Record<string, unknown>, model: Record<string, unknown>, opts: { baseDir?: string; epochs?: number; extra?: Record<string, unknown> } = {}): Promise<string> {
  const cfg = parseConfig(
    { name: `tiny-${String(model['type'])}`, seeds: [1], data, model, train: { epochs: opts.epochs ?? 1, batchSize: 32 }, ...(opts.extra ?? {}) },
    'tiny model config',
  );
  await runExperiment(cfg, { baseDir: opts.baseDir ?? process.cwd(), outDir, progress: false, log: () => {} });
  return outDir;
}

/** PhysioNet 2012 set-a sample (51 stays) as a data source under SHARED_DATA, or null when absent. */
export function physionetSample(): Record<string, unknown> | null {
  if (!existsSync(join(SHARED_DATA, 'physionet2012/sample/set-a'))) return null;
  return { type: 'physionet2012', records: 'physionet2012/sample/set-a', outcomes: 'physionet2012/sample/Outcomes-sample.txt', grouping: 'vitals-labs' };
}

/** UCI mfeat (2000 digits, 6 views) as a data source under SHARED_DATA, or null when absent. */
export function mfeat(): Record<string, unknown> | null {
  const dir = join(SHARED_DATA, 'uci-mfeat');
  if (!existsSync(dir)) return null;
  const views = Object.fromEntries(['fac', 'fou', 'kar', 'mor', 'pix', 'zer'].map((v) => [v, `uci-mfeat/mfeat-${v}.csv`]));
  return { type: 'multiview-csv', views, labels: 'uci-mfeat/labels.csv', labelColumn: 'digit', idColumn: 'index' };
}

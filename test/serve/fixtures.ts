/**
 * Tiny trained models for the serving tests: synthetic FlexiModal data, 1 epoch, small dims,
 * trained in-process into a temporary run directory once per test file (removed by `cleanup`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { sampleToJson } from '../../src/data/sources/jsonl.js';

const encoder = { kind: 'mtand', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 };
const moe = { numExperts: 4, topK: 2, hidden: 16 };

/** Model configs of every served model type, by name. */
export const MODEL_CONFIGS: Record<string, Record<string, unknown>> = {
  baseline: { type: 'baseline', d: 16, encoder, hidden: [16] },
  'fusemoe-softmax': { type: 'fusemoe', d: 16, blocks: 1, heads: 2, encoder, moe: { ...moe, gating: 'softmax', router: 'joint' } },
  'fusemoe-gaussian': { type: 'fusemoe', d: 16, blocks: 1, heads: 2, encoder, moe: { ...moe, gating: 'gaussian', router: 'per-modality' } },
  'fusemoe-laplace': { type: 'fusemoe', d: 16, blocks: 1, heads: 2, encoder, moe: { ...moe, gating: 'laplace', router: 'disjoint' }, missing: 'learned' },
  softmoe: { type: 'remind', d: 16, blocks: 1, heads: 2, encoder, softMoe: { numExperts: 4, slotsPerExpert: 1, hidden: 16 }, groupEmbeddings: false, residualRouting: { enabled: false } },
  remind: { type: 'remind', d: 16, blocks: 1, heads: 2, encoder, softMoe: { numExperts: 4, slotsPerExpert: 1, hidden: 16 }, groupEmbeddings: true, residualRouting: { enabled: true, metric: 'entropy', threshold: 0.8 } },
  'moe-retriever': {
    type: 'moe-retriever',
    d: 16,
    heads: 2,
    encoder,
    missing: 'moe-retriever',
    retrieval: { intraSamples: 'observed-count', expertsPerModality: 2, sharedExperts: 2, topK: 2, hidden: 16, gating: 'softmax' },
    fusion: { type: 'transformer', blocks: 1, ffnHidden: 16 },
  },
};

/** Train the named model types (1 epoch on 120 synthetic samples); returns name → run directory. */
export async function trainModels(names: string[], opts: { emptySamples?: 'flag' | 'refuse' } = {}): Promise<{ root: string; dirs: Record<string, string>; cleanup: () => void }> {
  const root = mkdtempSync(join(tmpdir(), 'fm-serve-'));
  const dirs: Record<string, string> = {};
  for (const name of names) {
    const cfg = parseConfig(
      {
        name: `serve-${name}`,
        seeds: [1],
        data: { type: 'synthetic', n: 120, seed: 3, missingness: 'long-tail' },
        model: MODEL_CONFIGS[name],
        train: { epochs: 1, batchSize: 32, patience: 0 },
        ...(opts.emptySamples ? { emptySamples: opts.emptySamples } : {}),
      },
      `test config ${name}`,
    );
    dirs[name] = join(root, name);
    await runExperiment(cfg, { baseDir: '.', outDir: dirs[name]!, log: () => {}, progress: false });
  }
  return { root, dirs, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** `n` synthetic records (JSONL sample objects, labels removed) of another seed than the training data. */
export function records(n: number, seed = 11): Record<string, unknown>[] {
  const data = generateSynthetic({ n, seed, missingness: 'long-tail' });
  return data.samples.map((s) => {
    const { label: _label, ...rest } = sampleToJson(data.spec, s);
    return rest;
  });
}

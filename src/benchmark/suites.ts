/**
 * Benchmark suites: which datasets, protocols, methods and seeds, and the training budget.
 * Sized for the 2-core machines this project runs on (docs/BENCHMARK.md has the measured times):
 *   - quick:    small datasets, two protocols, one seed, 2 epochs — ≤ 15 min on 2 cores (README);
 *   - standard: PhysioNet 2012 under natural, p = 0.5 drop and unseen-combination missingness,
 *               mfeat under the long-tailed profile, 3 seeds, 5 epochs — sized for ≈ 45 min on 2
 *               free cores (docs/BENCHMARK.md has what it took on the shared machine);
 *   - full:     every dataset × every protocol × every method, 3 seeds, longer training.
 */
import { FlexiModalError } from '../errors.js';
import type { ProtocolFamily } from './protocols.js';

export interface SuiteDef {
  id: 'quick' | 'standard' | 'full';
  description: string;
  datasets: string[];
  protocols: ProtocolFamily[];
  /** Per-dataset protocol lists that replace `protocols` for that dataset (when `--protocols` is not given). */
  protocolsByDataset?: Record<string, ProtocolFamily[]>;
  /** Method ids, or 'all'. */
  methods: string[] | 'all';
  seeds: number[];
  epochs: number;
  patience: number;
  batchSize: number;
  lr: number;
  /** Samples of the synthetic generator. */
  syntheticN: number;
  /** Bootstrap replicates of the leaderboard's intervals. */
  bootstrapReps: number;
}

const common = { batchSize: 64, lr: 0.002, bootstrapReps: 1000 };

export const SUITES: Record<SuiteDef['id'], SuiteDef> = {
  quick: {
    id: 'quick',
    description: 'synthetic + mfeat, natural and p = 0.3 drop, every method, seed 1, 2 epochs',
    datasets: ['synthetic', 'mfeat'],
    protocols: ['natural', 'drop30'],
    methods: 'all',
    seeds: [1],
    epochs: 2,
    patience: 2,
    syntheticN: 600,
    ...common,
  },
  standard: {
    id: 'standard',
    description:
      'PhysioNet 2012 (3 modalities, set-b external): natural, p = 0.5 drop, unseen combination; mfeat: long-tailed profile; every method, seeds 1–3, 5 epochs',
    datasets: ['physionet2012', 'mfeat'],
    protocols: ['natural', 'drop50', 'unseen'],
    protocolsByDataset: { mfeat: ['longtail'] },
    methods: 'all',
    seeds: [1, 2, 3],
    epochs: 5,
    patience: 3,
    syntheticN: 1200,
    ...common,
  },
  full: {
    id: 'full',
    description: 'every dataset × every protocol × every method, seeds 1–3, 15 epochs',
    datasets: ['synthetic', 'mfeat', 'physionet2012', 'physionet2012-panels', 'mimic-iv-ihm', 'mimic-iv-los', 'mimic-iv-phe'],
    protocols: ['natural', 'drop30', 'drop50', 'longtail', 'extreme', 'unseen'],
    methods: 'all',
    seeds: [1, 2, 3],
    epochs: 15,
    patience: 4,
    syntheticN: 2000,
    ...common,
  },
};

/** The suite named `id`; throws naming the option. */
export function suiteOf(id: string): SuiteDef {
  const s = (SUITES as Record<string, SuiteDef>)[id];
  if (!s) throw new FlexiModalError(`unknown suite '${id}'`, { where: '--suite', hint: `choose from ${Object.keys(SUITES).join(', ')}` });
  return s;
}

/**
 * The benchmark's datasets: the data sources of the presets in configs/ (PhysioNet 2012 set-a with
 * 3 modalities and with the 7 clinical panels, set-b only as the external column; UCI mfeat; the
 * synthetic generator; the MIMIC-IV tasks when a MIMIC-IV directory is configured), with paths
 * resolved against a data directory. A dataset whose files are absent is skipped with the reason.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MIMIC_DIR_ENV, MIMIC_MODALITIES } from '../data/sources/mimicIv/options.js';
import { MODALITY_TABLES } from '../data/sources/mimicIv/modalities.js';
import { findTableFile } from '../data/sources/mimicIv/layout.js';

/** One dataset of the benchmark. */
export interface DatasetDef {
  id: string;
  label: string;
  /** The metric that ranks methods (and that the bootstrap intervals are about). */
  primaryMetric: 'auroc' | 'accuracy';
  /** The config's `data` section (absolute paths). */
  data: Record<string, unknown>;
  /** The config's `externalData` section (evaluated only, never used to choose anything). */
  externalData?: Record<string, unknown>;
  /** Modalities, in the data's order (for the long-tailed profile and the extreme protocol). */
  modalities: string[];
  /** A modality combination held out by the unseen-combinations protocol (absent: protocol not defined). */
  unseenGroup?: string;
  /** The metric training monitors on validation (default: primaryMetric). */
  monitor?: string;
  /** Why the dataset cannot run here (files absent), or null. */
  unavailable: () => string | null;
  /** Modalities of the source left out here because their files are absent (named with the reason in the plan's skipped list). */
  absentModalities?: { modality: string; reason: string }[];
}

/** Where the real data is: an explicit directory, $FLEXIMODAL_DATA_DIR, or the shared data folder beside the checkout. */
export function resolveDataDir(explicit: string | undefined, repoRoot: string): string {
  if (explicit) return resolve(explicit);
  const env = process.env['FLEXIMODAL_DATA_DIR'];
  if (env) return resolve(env);
  const candidates = [join(repoRoot, '..', 'shared', 'data'), join(repoRoot, '..', '..', 'shared', 'data'), join(repoRoot, 'data')];
  return candidates.find((c) => existsSync(c)) ?? candidates[candidates.length - 1]!;
}

/** A reason naming the first missing file, or null. */
function missing(files: string[], how: string): () => string | null {
  return () => {
    const absent = files.find((f) => !existsSync(f));
    return absent ? `${absent} not found (${how})` : null;
  };
}

/**
 * The `externalData` of a PhysioNet 2012 cell: the held-out test set (set-b), evaluated after
 * training as the external column and never read for training, early stopping, thresholds or any
 * choice. Absent (no external column) when its files are not there.
 */
function externalEvaluation(p12: string, grouping: string): { externalData?: Record<string, unknown> } {
  const heldOut = { records: join(p12, 'set-b.tar.gz'), outcomes: join(p12, 'Outcomes-b.txt') };
  if (!existsSync(heldOut.records) || !existsSync(heldOut.outcomes)) return {};
  return { externalData: { type: 'physionet2012', ...heldOut, grouping } };
}

/** Options that size the datasets of a suite. */
export interface DatasetSizing {
  /** Samples of the synthetic generator. */
  syntheticN: number;
}

/** Every dataset; `mimicDir` (or $MIMIC_IV_DIR) enables the MIMIC-IV tasks. */
export function datasetRegistry(dataDir: string, sizing: DatasetSizing, mimicDir?: string): DatasetDef[] {
  const p12 = join(dataDir, 'physionet2012');
  // set-a: training, validation splits, every choice
  const setA = { records: join(p12, 'set-a.tar.gz'), outcomes: join(p12, 'Outcomes-a.txt') };
  const p12How = `fetch it with \`fleximodal data fetch physionet2012 --dir ${p12}\` or pass --data-dir`;
  const physionet = (grouping: 'vitals-labs' | 'seven-groups') => ({
    data: { type: 'physionet2012', ...setA, grouping },
    ...externalEvaluation(p12, grouping),
  });
  const mf = join(dataDir, 'uci-mfeat');
  const views = ['fac', 'fou', 'kar', 'mor', 'pix', 'zer'];
  const mfeatData = {
    type: 'multiview-csv',
    views: Object.fromEntries(views.map((v) => [v, join(mf, `mfeat-${v}.csv`)])),
    labels: join(mf, 'labels.csv'),
    labelColumn: 'digit',
    idColumn: 'index',
  };
  const out: DatasetDef[] = [
    {
      id: 'synthetic',
      label: `synthetic generator (n = ${sizing.syntheticN}, binary, 4 modalities)`,
      primaryMetric: 'auroc',
      data: { type: 'synthetic', n: sizing.syntheticN, seed: 0 },
      modalities: ['demo', 'vitals', 'labs', 'notes'],
      unseenGroup: 'demo+vitals+labs',
      unavailable: () => null,
    },
    {
      id: 'mfeat',
      label: 'UCI mfeat (6 views, 10 digits)',
      primaryMetric: 'accuracy',
      data: mfeatData,
      modalities: views,
      unseenGroup: 'fac+fou+kar+mor+pix',
      unavailable: missing([...Object.values(mfeatData.views), mfeatData.labels], 'see /work/shared/data/uci-mfeat/README.md or pass --data-dir'),
    },
    {
      id: 'physionet2012',
      label: 'PhysioNet 2012 set-a, 3 modalities (static, vitals, labs); set-b external',
      primaryMetric: 'auroc',
      ...physionet('vitals-labs'),
      modalities: ['static', 'vitals', 'labs'],
      unseenGroup: 'static+vitals',
      unavailable: missing([setA.records, setA.outcomes], p12How),
    },
    {
      id: 'physionet2012-panels',
      label: 'PhysioNet 2012 set-a, static + 7 clinical panels; set-b external',
      primaryMetric: 'auroc',
      ...physionet('seven-groups'),
      modalities: ['static', 'vitals', 'bp_invasive', 'bp_noninvasive', 'chem_hema', 'blood_gas_vent', 'liver', 'cardiac_lipid'],
      unavailable: missing([setA.records, setA.outcomes], p12How),
    },
  ];
  const mimic = mimicDir ?? process.env[MIMIC_DIR_ENV];
  // a modality whose table is absent (e.g. the MIMIC-IV demo has no icu/chartevents: no vitals) is
  // left out of the data and of the per-modality protocols, and said so in the plan
  const absentModalities = mimic
    ? MIMIC_MODALITIES.flatMap((m) => {
        const gone = MODALITY_TABLES[m].filter((t) => !findTableFile(resolve(mimic), t));
        return gone.length ? [{ modality: m, reason: `table ${gone.join(', ')} not found in the MIMIC-IV directory` }] : [];
      })
    : [];
  const mimicModalities: string[] = MIMIC_MODALITIES.filter((m) => !absentModalities.some((a) => a.modality === m));
  for (const task of ['ihm', 'los', 'phe'] as const) {
    out.push({
      id: `mimic-iv-${task}`,
      label: `MIMIC-IV ${task.toUpperCase()}`,
      primaryMetric: 'auroc',
      data: { type: 'mimic-iv', task, modalities: mimicModalities, ...(mimic ? { dir: resolve(mimic) } : {}), ...(task === 'phe' ? { windowHours: 'stay' } : {}) },
      modalities: mimicModalities,
      ...(absentModalities.length ? { absentModalities } : {}),
      unavailable: () =>
        !mimic
          ? `no MIMIC-IV directory configured (pass --mimic-iv DIR or set $${MIMIC_DIR_ENV} to the folder holding hosp/ and icu/)`
          : missing([join(mimic, 'hosp'), join(mimic, 'icu')], `--mimic-iv / $${MIMIC_DIR_ENV} must hold hosp/ and icu/`)(),
    });
  }
  return out;
}

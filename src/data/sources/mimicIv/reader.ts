/**
 * `readMimicIv`: a MIMIC-IV directory → a FlexiModal Dataset for one FuseMoE task. Steps (each
 * a progress line on stderr): locate the tables and resolve their columns (layout.ts) → build the
 * cohort (cohort.ts) → label it (labels.ts) → extract each selected modality (event/static/
 * embedding modules) → assemble one Sample per labelled stay (id = stay_id, subject = subject_id)
 * → write the cache. Everything is filtered and aggregated inside DuckDB; JS only receives the
 * kept, in-window observations of the cohort.
 */
import { existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { FlexiModalError } from '../../../errors.js';
import { ReportBuilder } from '../../report.js';
import type { Dataset, DatasetSpec, Sample } from '../../schema.js';
import { cacheKey, defaultCacheRoot, readCache, writeCache } from './cache.js';
import { buildCohort } from './cohort.js';
import { DuckSession } from './duck.js';
import { extractEmbeddings } from './embeddings.js';
import { buildLabels } from './labels.js';
import { checkMimicDir, findTableFile, MIMIC_TABLES, openTable, versionFromPath, type MimicTable, type TableFile } from './layout.js';
import { MIMIC_DIR_ENV, type MimicIvSource, type MimicModality } from './options.js';
import { phenotypeLabels } from './phenotypes.js';
import { assembleSamples } from './assemble.js';
import { extractModality, MODALITY_TABLES, type ExtractedModality, type ModalityContext } from './modalities.js';

const TASK_NAMES = { ihm: '48-IHM (in-hospital mortality)', los: 'LOS (ICU discharge alive within 48 h after the window)', phe: '25-PHE (acute-care phenotypes)' };

/** Options of readMimicIv beyond the source config. */
export interface ReadMimicIvOptions {
  /** Relative paths of the config resolve against this (default process.cwd()). */
  baseDir?: string;
  /** Progress sink (default: stderr when `progress` is on). */
  log?: (line: string) => void;
}

/** The MIMIC-IV directory: data.dir, else $MIMIC_IV_DIR, else an error saying how to set it. */
export function mimicDir(src: Pick<MimicIvSource, 'dir'>, baseDir: string): string {
  const dir = src.dir ?? process.env[MIMIC_DIR_ENV];
  if (!dir) {
    throw new FlexiModalError('no MIMIC-IV directory given', {
      where: 'config key data.dir',
      hint: `pass --set data.dir=/path/to/mimiciv/3.1 or set the environment variable ${MIMIC_DIR_ENV}`,
    });
  }
  return resolve(baseDir, dir);
}

/** Read (or extract and cache) the dataset a `mimic-iv` source describes. */
export async function readMimicIv(src: MimicIvSource, opts: ReadMimicIvOptions = {}): Promise<Dataset> {
  const baseDir = opts.baseDir ?? process.cwd();
  const log = opts.log ?? (src.progress ? (l: string) => process.stderr.write(`mimic-iv: ${l}\n`) : () => {});
  const dir = mimicDir(src, baseDir);
  checkMimicDir(dir);
  const cfg = {
    ...src,
    dir,
    icd10Gem: src.icd10Gem && resolve(baseDir, src.icd10Gem),
    ccsDxref: src.ccsDxref && resolve(baseDir, src.ccsDxref),
    embeddings: src.embeddings.map((e) => ({ ...e, path: resolve(baseDir, e.path) })),
    duckdb: { ...src.duckdb, tempDir: src.duckdb.tempDir && resolve(baseDir, src.duckdb.tempDir) },
  };
  for (const t of ['patients', 'admissions', 'icustays'] as const) {
    if (!findTableFile(dir, t)) {
      throw new FlexiModalError(`required table ${MIMIC_TABLES[t].folder}/${t} (.csv.gz, .csv or .parquet) is missing`, {
        where: dir,
        hint: 'the cohort needs hosp/patients, hosp/admissions and icu/icustays',
      });
    }
  }
  const wanted = new Set<MimicTable>(['patients', 'admissions', 'icustays', 'd_items']);
  if (cfg.task === 'phe' || cfg.modalities.includes('priorCodes')) wanted.add('diagnoses_icd');
  for (const m of cfg.modalities) for (const t of MODALITY_TABLES[m]) wanted.add(t);
  const files = [...wanted].map((t) => findTableFile(dir, t)).filter((p): p is string => p !== undefined);
  const extra = [cfg.icd10Gem, cfg.ccsDxref, ...cfg.embeddings.map((e) => e.path)].filter((p): p is string => p !== undefined);
  const { cache, cacheDir, progress: _p, duckdb: _d, ...keyed } = cfg;
  const key = cacheKey([...files, ...extra.filter((p) => existsSync(p))], keyed);
  const cachePath = join(cacheDir ? resolve(baseDir, cacheDir) : defaultCacheRoot(), key);
  const hashes = { [src.dir ?? dir]: `fingerprint ${key} (files' sizes and mtimes + extraction config)` };
  if (cache) {
    const hit = await readCache(cachePath);
    if (hit) {
      log(`read from the cache ${cachePath} (${hit.samples.length} stays)`);
      hit.report.notes.push(`read from the extraction cache ${cachePath}`);
      return { ...hit, hashes };
    }
  }
  const ds = await extract(cfg, dir, log);
  if (cache) {
    await writeCache(cachePath, ds);
    log(`cache written: ${cachePath}`);
  }
  return { ...ds, hashes };
}

type ResolvedSource = MimicIvSource & { dir: string };

/** The extraction proper (no cache). */
async function extract(cfg: ResolvedSource, dir: string, log: (l: string) => void): Promise<Dataset> {
  const report = new ReportBuilder();
  const db = await DuckSession.open(cfg.duckdb);
  try {
    const timed = async <T>(what: string, fn: () => Promise<T>, done: (r: T) => string): Promise<T> => {
      const t0 = Date.now();
      const r = await fn();
      log(`${what}: ${done(r)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return r;
    };
    const open = async (t: MimicTable) => openTable(db, dir, t, cfg.columns);
    const patients = (await open('patients'))!;
    const admissions = (await open('admissions'))!;
    const icustays = (await open('icustays'))!;
    const diagnoses = await open('diagnoses_icd');
    const pathVersion = versionFromPath(dir);
    report.note(
      `MIMIC-IV at ${dir}: release ${pathVersion ?? 'not named in the path'}${cfg.version !== 'auto' ? ` (configured ${cfg.version})` : ''}; columns resolved by name (v2.2 / v3.x layout)`,
    );
    const windowText = cfg.windowHours === 'stay' ? `the whole stay (capped at ${cfg.maxWindowHours} h)` : `the first ${cfg.windowHours} h`;
    const counts = await timed('cohort (icustays × admissions × patients)', () => buildCohort(db, { icustays, admissions, patients }, cfg, report), (c) => `${c.icuStays} ICU stays → ${c.kept} in the cohort`);
    report.note(
      `cohort: ${counts.icuStays} ICU stays; ${counts.steps.map((s) => `${s.reason}: ${s.excluded} excluded`).join('; ')}; ${counts.kept} kept; window: ${windowText}`,
    );
    const labels = await timed(`labels ${cfg.task}`, () => buildLabels(db, cfg, diagnoses, report), (l) => `${l.size} stays labelled`);

    const modalities: ExtractedModality[] = [];
    const tableOrSkip = async (m: MimicModality, t: MimicTable): Promise<TableFile | undefined> => {
      const f = await open(t);
      if (f) return f;
      const what = `${MIMIC_TABLES[t].folder}/${t} (.csv.gz, .csv or .parquet)`;
      if (cfg.missingTable === 'error') {
        throw new FlexiModalError(`table ${what} is missing; the "${m}" modality needs it`, {
          where: dir,
          hint: `remove "${m}" from data.modalities, or set data.missingTable=skip to leave it out with a message`,
        });
      }
      log(`modality ${m} skipped: ${what} not found`);
      report.note(`modality ${m} skipped: table ${what} not found in ${dir}`);
      return undefined;
    };
    const ctx: ModalityContext = { db, cfg, admissions, dItems: await open('d_items'), report };
    for (const m of cfg.modalities) {
      const tables: TableFile[] = [];
      let missing = false;
      for (const t of MODALITY_TABLES[m]) {
        const f = await tableOrSkip(m, t);
        if (f) tables.push(f);
        else missing = true;
      }
      if (missing) continue;
      const got = await timed(`${m}${tables.length > 0 ? ` (${tables.map((t) => t.table).join(', ')})` : ''}`, () => extractModality(m, tables, ctx), (r) =>
        r ? `${r.data.size} stays with data` : 'left out',
      );
      if (got) modalities.push(got);
    }
    for (const [i, e] of cfg.embeddings.entries()) {
      modalities.push(await timed(`embeddings ${e.name} (${e.path})`, () => extractEmbeddings(db, e, `data.embeddings[${i}]`), (r) => `${r.data.size} stays with data, dim ${r.spec.dim}`));
    }
    if (modalities.length === 0) {
      throw new FlexiModalError('no modality could be extracted (every selected modality\'s table is missing)', { where: dir, hint: 'check data.modalities and the directory' });
    }
    const subjects = new Map((await db.all('SELECT CAST(stay_id AS DOUBLE) AS s, CAST(subject_id AS VARCHAR) AS p FROM cohort')).map((r) => [Number(r['s']), String(r['p'])]));
    const samples = assembleSamples(labels, subjects, modalities, cfg.requireObservation, report);
    const spec: DatasetSpec = {
      name: `mimic-iv-${cfg.task}`,
      modalities: modalities.map((m) => m.spec),
      task: cfg.task === 'phe' ? { kind: 'multilabel', name: TASK_NAMES.phe, labels: phenotypeLabels() } : { kind: 'binary', name: TASK_NAMES[cfg.task] },
      horizonHours: cfg.windowHours === 'stay' ? cfg.maxWindowHours : cfg.windowHours,
    };
    report.note(labelSummary(spec, samples));
    log(`${samples.length} samples (${labelSummary(spec, samples)})`);
    return { spec, samples, report: report.build(`MIMIC-IV ${dir} (${cfg.task})`, counts.icuStays, samples) };
  } finally {
    db.close();
  }
}

/** "label counts: 12 positive / 62 negative" or per phenotype for 25-PHE. */
export function labelSummary(spec: DatasetSpec, samples: Sample[]): string {
  if (spec.task.kind === 'multilabel') {
    const pos = spec.task.labels.map((_, j) => samples.reduce((a, s) => a + ((s.label as number[])[j] ?? 0), 0));
    return `label counts (positives per phenotype of ${samples.length} stays): ${spec.task.labels.map((l, j) => `${l} ${pos[j]}`).join('; ')}`;
  }
  const pos = samples.reduce((a, s) => a + (s.label as number), 0);
  return `label counts: ${pos} positive / ${samples.length - pos} negative`;
}

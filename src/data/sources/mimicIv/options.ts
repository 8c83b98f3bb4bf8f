/**
 * The `mimic-iv` data source's configuration (the `data` section of a run config with
 * `type: "mimic-iv"`). Defaults live here, once; docs/DATA.md "MIMIC-IV" and docs/CONFIG.md
 * describe every key.
 */
import { z } from 'zod';

/** The three FuseMoE tasks (App. A). */
export const MIMIC_TASKS = ['ihm', 'los', 'phe'] as const;
export type MimicTask = (typeof MIMIC_TASKS)[number];

/** Modalities the extractor can build (each optional). */
export const MIMIC_MODALITIES = ['vitals', 'labs', 'inputs', 'outputs', 'procedures', 'prescriptions', 'priorCodes', 'demographics'] as const;
export type MimicModality = (typeof MIMIC_MODALITIES)[number];

/** Environment variable read when `data.dir` is not set. */
export const MIMIC_DIR_ENV = 'MIMIC_IV_DIR';

const bound = z.number().nullable();

/** One file of user-supplied timed embeddings (notes, CXR, ECG computed elsewhere). */
export const mimicEmbeddingFileSchema = z
  .object({
    /** Modality name in the dataset (e.g. "notes", "cxr", "ecg"). */
    name: z.string().min(1),
    /** CSV (.csv / .csv.gz) or Parquet file of rows (subject_id or stay_id, charttime, vector). */
    path: z.string().min(1),
    /** Vector width; checked on every row (default: the width of the first row). */
    dim: z.number().int().positive().optional(),
  })
  .strict();

export const mimicIvSourceSchema = z
  .object({
    type: z.literal('mimic-iv'),
    /** The MIMIC-IV directory (holding hosp/ and icu/); default: $MIMIC_IV_DIR. */
    dir: z.string().min(1).optional(),
    /** 48-IHM (in-hospital death), LOS (ICU discharge alive within 48 h after the window), 25-PHE. */
    task: z.enum(MIMIC_TASKS),
    /** Expected column layout; 'auto' resolves columns by name (v2.2 and v3.x share them). */
    version: z.enum(['auto', '2.2', '3.0', '3.1']).default('auto'),
    /** Column-name overrides: table → logical column → column name in the file. */
    columns: z.record(z.string(), z.record(z.string(), z.string().min(1))).default({}),
    /** Cohort: minimum anchor_age. */
    minAge: z.number().min(0).default(18),
    /** Cohort: minimum ICU stay length in hours (FuseMoE 48; null = none, FuseMoE's 25-PHE cohort). */
    minStayHours: z.number().min(0).nullable().default(48),
    /** Observation window from ICU admission: hours, or 'stay' (the whole stay, capped at maxWindowHours). */
    windowHours: z.union([z.number().positive(), z.literal('stay')]).default(48),
    /** Cap of a 'stay' window (hours); also the spec's horizon then. */
    maxWindowHours: z.number().positive().default(240),
    /** LOS: discharged alive within this many hours after the window (FuseMoE: 48). */
    losHorizonHours: z.number().positive().default(48),
    /** Modalities to extract (each becomes its own FlexiModal modality). */
    modalities: z.array(z.enum(MIMIC_MODALITIES)).min(1).default([...MIMIC_MODALITIES]),
    /** User-supplied timed embeddings joined into the window (each its own modality). */
    embeddings: z.array(mimicEmbeddingFileSchema).default([]),
    /** A table a modality needs is absent: 'skip' the modality (with a message) or 'error'. */
    missingTable: z.enum(['skip', 'error']).default('skip'),
    /** Keep only stays with at least one observation in some modality (FuseMoE: in the vitals). */
    requireObservation: z.boolean().default(true),
    /** CMS ICD-10-CM → ICD-9-CM General Equivalence Mapping (2018_I10gem.txt) for 25-PHE. */
    icd10Gem: z.string().min(1).optional(),
    /** HCUP CCS single-level diagnosis file ($DXREF 2015.csv): exact CCS categories for 25-PHE. */
    ccsDxref: z.string().min(1).optional(),
    /** Items per inputs / outputs / procedures / prescriptions modality (most frequent in the cohort). */
    topItems: z.number().int().positive().default(20),
    /** Prior-admission code vocabulary: at most this many codes, each seen in ≥ codeMinCount stays. */
    codeVocabSize: z.number().int().positive().default(200),
    codeMinCount: z.number().int().positive().default(2),
    /** ICD code prefix length of the code vocabulary (3 = ICD category; 0 = full codes). */
    codePrefixLength: z.number().int().min(0).default(3),
    /** Override plausible ranges of vitals / labs: variable → [min, max] (null = unbounded). */
    ranges: z.record(z.string(), z.tuple([bound, bound])).default({}),
    /** DuckDB resources: memory limit (e.g. "2GB"), threads, spill directory. */
    duckdb: z
      .object({
        memoryLimit: z.string().default('2GB'),
        threads: z.number().int().positive().default(2),
        tempDir: z.string().optional(),
      })
      .strict()
      .prefault({}),
    /** Extraction cache: on by default; directory default $XDG_CACHE_HOME/fleximodal/mimic-iv. */
    cache: z.boolean().default(true),
    cacheDir: z.string().optional(),
    /** Per-table progress lines on stderr. */
    progress: z.boolean().default(true),
  })
  .strict();

export type MimicIvSource = z.infer<typeof mimicIvSourceSchema>;

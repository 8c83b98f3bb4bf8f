/**
 * The run configuration: one zod schema validates every config file and CLI override; defaults
 * live here, once. Errors name the offending key (see `parseConfig`).
 */
import { z } from 'zod';
import { dataSourceSchema } from '../data/load.js';

const encoderSchema = z
  .object({
    /** Time-series encoder: mTAND, UTDE (mTAND + imputation branch), or summary statistics + MLP. */
    kind: z.enum(['mtand', 'utde', 'mean-pool-mlp']).default('mtand'),
    /** Number of mTAND reference points γ. */
    gamma: z.number().int().positive().default(48),
    /** Time-embedding width d_t (divisible by heads). */
    dt: z.number().int().positive().default(64),
    /** Attention heads in mTAND. */
    heads: z.number().int().positive().default(8),
    /** Tokens (reference points) per timed-embedding modality. */
    embeddingGamma: z.number().int().positive().default(8),
    /** Keep only the last k timed embeddings per sample (paper: 5 notes); 0 = all. */
    keepLast: z.number().int().min(0).default(0),
    /** Tokens per static modality. */
    staticTokens: z.number().int().positive().default(1),
    /** Append one summary-statistics token to each time-series modality's mTAND/UTDE tokens. */
    summaryToken: z.boolean().default(false),
    /**
     * Statistics of the summary-statistics encoder ('mean-pool-mlp') and of the summary token:
     * 'basic' = last, mean, log count, time of last; 'extended' adds min, max and first value.
     */
    summaryStats: z.enum(['basic', 'extended']).default('basic'),
    /** UTDE causal convolution kernel size (paper: 1). */
    kernelSize: z.number().int().positive().default(1),
  })
  .strict()
  .prefault({});

const baselineModelSchema = z
  .object({
    type: z.literal('baseline'),
    /** Token width d. */
    d: z.number().int().positive().default(64),
    encoder: encoderSchema,
    /** Hidden layer widths of the MLP head over the concatenated pooled modalities. */
    hidden: z.array(z.number().int().positive()).default([128]),
    dropout: z.number().min(0).max(0.9).default(0.1),
  })
  .strict();

export const gatingSchema = z.enum(['softmax', 'gaussian', 'laplace', 'modified-softmax']);

const moeSchema = z
  .object({
    numExperts: z.number().int().positive().default(16),
    topK: z.number().int().positive().default(4),
    hidden: z.number().int().positive().default(512),
    gating: gatingSchema.default('laplace'),
    /** M in modified softmax gating β₁ᵀM(x) + β₀. */
    modifiedGateFn: z.enum(['sigmoid', 'tanh', 'cos', 'l2-normalize']).default('sigmoid'),
    router: z.enum(['joint', 'per-modality', 'disjoint']).default('per-modality'),
    /** Noisy top-k gating during training (Shazeer 2017). */
    noisyGating: z.boolean().default(false),
    /** Weight of the entropy regularizer (FuseMoE eq. 4). */
    entropyWeight: z.number().min(0).default(0.01),
    /** Weight of the importance/load-balancing loss. */
    loadWeight: z.number().min(0).default(0),
  })
  .strict();

const fusemoeModelSchema = z
  .object({
    type: z.literal('fusemoe'),
    d: z.number().int().positive().default(128),
    encoder: encoderSchema,
    /** Transformer blocks with an MoE feed-forward. */
    blocks: z.number().int().positive().default(3),
    heads: z.number().int().positive().default(8),
    dropout: z.number().min(0).max(0.9).default(0.1),
    moe: moeSchema.prefault({}),
    /** Pooling before the head: mean over all tokens, or the concatenation of per-modality token means. */
    pooling: z.enum(['mean', 'per-modality']).default('mean'),
    /** Missing modality tokens: a learnable per-modality embedding (paper) or zeros. */
    missing: z.enum(['learned', 'zeros']).default('learned'),
    /** Switches that reproduce the public reference code where it deviates from the paper. */
    referenceCode: z
      .object({
        /** Keep the gating noise at inference (reference code); the paper is deterministic. */
        noiseAtInference: z.boolean().default(false),
        /** Route each sample over its flattened token sequence (reference code). */
        flattenedSequenceRouting: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const modelSchema = z.discriminatedUnion('type', [baselineModelSchema, fusemoeModelSchema]);

const trainSchema = z
  .object({
    epochs: z.number().int().positive().default(20),
    batchSize: z.number().int().positive().default(32),
    accumulateSteps: z.number().int().positive().default(1),
    lr: z.number().positive().default(1e-3),
    weightDecay: z.number().min(0).default(1e-4),
    schedule: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('constant'), warmupSteps: z.number().int().min(0).default(0) }).strict(),
        z
          .object({
            type: z.literal('cosine'),
            warmupSteps: z.number().int().min(0).default(0),
            minFactor: z.number().min(0).max(1).default(0.05),
          })
          .strict(),
        z
          .object({
            type: z.literal('step'),
            warmupSteps: z.number().int().min(0).default(0),
            stepEpochs: z.number().int().positive().default(5),
            gamma: z.number().positive().default(0.1),
          })
          .strict(),
      ])
      .prefault({ type: 'cosine' }),
    clipNorm: z.number().min(0).default(1),
    patience: z.number().int().min(0).default(5),
    monitor: z.enum(['auroc', 'auprc', 'accuracy', 'f1']).default('auroc'),
    loss: z
      .object({
        type: z.enum(['default', 'focal']).default('default'),
        /** Weight of positives in BCE: a number, or 'auto' = negatives/positives on the training split. */
        posWeight: z.union([z.number().positive(), z.literal('auto')]).default(1),
        focalGamma: z.number().min(0).default(2),
      })
      .strict()
      .prefault({}),
    /** Exponential moving average of the weights (decay, e.g. 0.99) used for validation and the saved model; null = off. */
    ema: z.number().min(0).max(0.99999).nullable().default(null),
    /**
     * Training-time augmentation (training batches only): remove each time-series / embedding
     * observation with probability dropObservations, each present modality with probability
     * dropModalities (never the last one). Zeros = off.
     */
    augment: z
      .object({
        dropObservations: z.number().min(0).max(0.95).default(0),
        dropModalities: z.number().min(0).max(0.95).default(0),
      })
      .strict()
      .prefault({}),
    /**
     * Members per seed: > 1 trains that many independently seeded copies of the model one after
     * another and averages their predicted probabilities (a seed ensemble; costs M× the training).
     */
    ensemble: z.number().int().min(1).max(32).default(1),
    /** Watch MoE expert parameters for collapse and warn (seed 002's practical implication). */
    collapseDetector: z.boolean().default(true),
    /** Keep at most this many (latest) distinct observation times per time-series modality. */
    maxTimesteps: z.number().int().positive().default(256),
  })
  .strict();

export const configSchema = z
  .object({
    name: z.string().default('run'),
    /** Seeds to train with; metrics report mean ± std over them. */
    seeds: z.array(z.number().int().min(0)).nonempty().default([1]),
    engine: z
      .object({ backend: z.enum(['wasm', 'cpu']).default('wasm'), threads: z.number().int().positive().default(1) })
      .strict()
      .prefault({}),
    data: dataSourceSchema,
    /** A second test set (e.g. PhysioNet set-b), evaluated only, never used for selection. */
    externalData: dataSourceSchema.nullable().optional(),
    split: z
      .object({
        /** train / val / test fractions. */
        fractions: z.tuple([z.number().positive(), z.number().positive(), z.number().min(0)]).default([0.7, 0.15, 0.15]),
        /**
         * Seed of the split: one number = the same split for every model seed; 'per-seed' =
         * repeated random splits, model seed s trains and is evaluated on the split drawn with seed s.
         */
        seed: z.union([z.number().int().min(0), z.literal('per-seed')], { error: "expected a non-negative integer or 'per-seed'" }).default(0),
        /** Use this split file instead of drawing a split (path relative to the config). */
        file: z.string().optional(),
      })
      .strict()
      .refine((s) => !(s.file !== undefined && s.seed === 'per-seed'), {
        message: "split.file and split.seed 'per-seed' exclude each other: a split file fixes one split for every seed; drop one of them",
        path: ['seed'],
      })
      .prefault({}),
    /**
     * A missingness protocol applied to the loaded data before splitting (for missing-modality
     * experiments): every listed modality (default: all) is dropped from each sample independently
     * with probability p, never dropping a sample's last modality. Counts go to the log and report.
     */
    missingness: z
      .object({
        protocol: z.literal('random-drop'),
        p: z.number().min(0).max(1),
        modalities: z.array(z.string()).optional(),
        seed: z.number().int().min(0).default(0),
      })
      .strict()
      .optional(),
    /**
     * Samples with no modality at all (nothing to predict from): 'flag' keeps them and counts them
     * in the data report; 'refuse' stops with an error listing their ids.
     */
    emptySamples: z.enum(['flag', 'refuse']).default('flag'),
    model: modelSchema,
    /** Normalisation fitted on the training split. */
    normalize: z
      .object({
        /** Clip standardised time-series and static values to ±clip (null = no clipping); clipped values are counted. */
        clip: z.number().positive().nullable().default(null),
        /** log1p-transform non-negative variables whose training skewness exceeds this (e.g. 2); null = never. */
        logSkewed: z.number().positive().nullable().default(null),
        /** Robust scaling (median / IQR) for heavy-tailed variables: true = all, or a list of variable names. */
        robust: z.union([z.boolean(), z.array(z.string().min(1))]).default(false),
      })
      .strict()
      .prefault({}),
    train: trainSchema.prefault({}),
  })
  .strict();

export type RunConfig = z.infer<typeof configSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type BaselineModelConfig = z.infer<typeof baselineModelSchema>;
export type FuseMoEModelConfig = z.infer<typeof fusemoeModelSchema>;
export type EncoderConfig = z.infer<typeof encoderSchema>;
export type MoEConfig = z.infer<typeof moeSchema>;
export type TrainConfig = z.infer<typeof trainSchema>;

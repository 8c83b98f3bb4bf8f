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
    /**
     * Missing modality tokens: a learnable per-modality embedding (paper) or zeros;
     * 'learned-group' = one learnable embedding per modality combination (REMIND §3.1).
     */
    missing: z.enum(['learned', 'zeros', 'learned-group']).default('learned'),
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

/** MoE-Retriever (seed 001): missing-modality strategies over one embedding per modality, then fusion. */
const moeRetrieverModelSchema = z
  .object({
    type: z.literal('moe-retriever'),
    /** Token width d (one token per modality: the mean of its encoder tokens). */
    d: z.number().int().positive().default(64),
    encoder: encoderSchema,
    heads: z.number().int().positive().default(4),
    dropout: z.number().min(0).max(0.9).default(0.1),
    /**
     * What fills a missing modality's token: MoE-Retriever (paper), zeros, the training mean of the
     * modality's embeddings, a learned per-modality embedding (FuseMoE-style), a learned
     * per-modality-combination embedding (Flex-MoE/REMIND-style), or the embedding of the nearest
     * supporting-group member (no router).
     */
    missing: z.enum(['moe-retriever', 'zeros', 'mean', 'learned-modality', 'learned-group', 'nearest-neighbour']).default('moe-retriever'),
    retrieval: z
      .object({
        /** Intra-modal context size: |mc| (paper) or a fixed number; 0 = no intra-modal context. */
        intraSamples: z.union([z.literal('observed-count'), z.number().int().min(0)]).default('observed-count'),
        /** Inter-modal context: the sample's own observed embeddings (false = ablation). */
        interContext: z.boolean().default(true),
        /** Context-aware routing: sparse MoE (true) or the mean of the attended context (false = ablation). */
        router: z.boolean().default(true),
        /** Experts in each target modality's pool |E_T| (paper: 8). */
        expertsPerModality: z.number().int().positive().default(8),
        /** Shared experts b (paper: 4). */
        sharedExperts: z.number().int().min(0).default(4),
        /** Experts chosen per context token among T's pool + the shared ones. */
        topK: z.number().int().positive().default(2),
        /** Hidden width of each expert FFN. */
        hidden: z.number().int().positive().default(128),
        gating: z.enum(['softmax', 'laplace']).default('softmax'),
        /**
         * Embeddings of the drawn pool members during training: encoded live with the current
         * encoders (gradient flows) or read from the bank (recomputed once per pass over the pool).
         * Inference always reads the bank (training pool, final encoders).
         */
        poolEmbeddings: z.enum(['live', 'bank']).default('live'),
      })
      .strict()
      .prefault({}),
    fusion: z
      .object({
        /** A transformer encoder (paper default) or FuseMoE blocks (sparse MoE feed-forward). */
        type: z.enum(['transformer', 'moe']).default('transformer'),
        blocks: z.number().int().positive().default(1),
        /** Feed-forward width of the transformer blocks. */
        ffnHidden: z.number().int().positive().default(128),
        /** The MoE of the 'moe' fusion (FuseMoE's settings). */
        moe: moeSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    /** First epochs train with zeros for missing modalities (paper's optional warm-up). */
    warmupEpochs: z.number().int().min(0).default(0),
    /** Switches that reproduce the public reference code (see docs/DEVIATIONS.md). */
    referenceCode: z
      .object({
        /** Overwrite the MoE output with the plain average of the context embeddings. */
        averageContextOutput: z.boolean().default(false),
        /** At inference the pool also holds the other samples of the evaluated batch (a test-to-test leak). */
        evaluatedSamplesInPool: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The Soft MoE layer of a REMIND / Soft MoE fusion model (REMIND eqs. 5–6). */
const softMoeSchema = z
  .object({
    /** Experts n. */
    numExperts: z.number().int().positive().default(8),
    /** Slots per expert p (REMIND: 1). */
    slotsPerExpert: z.number().int().positive().default(1),
    /** Hidden width of each expert FFN. */
    hidden: z.number().int().positive().default(128),
  })
  .strict();

/** Group-residual routing Φ = Φ_shared + Φ_k with the uncertainty switch (REMIND eqs. 7–8). */
const residualRoutingSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** 'entropy': apply Φ_k when the shared router's entropy exceeds threshold · ln(n·p); 'kl': when KL to uniform is below threshold. */
    metric: z.enum(['entropy', 'kl']).default('entropy'),
    /** Default 0.8 (a fraction of the maximum entropy) for 'entropy', 0.1 nats for 'kl' (appendix 7.2.11). */
    threshold: z.number().min(0).optional(),
  })
  .strict()
  .transform((r) => ({ ...r, threshold: r.threshold ?? (r.metric === 'entropy' ? 0.8 : 0.1) }));

const remindModelSchema = z
  .object({
    type: z.literal('remind'),
    d: z.number().int().positive().default(64),
    encoder: encoderSchema,
    /** Fusion blocks: x + MHA(LN x), then x + SoftMoE(LN x). REMIND uses one. */
    blocks: z.number().int().positive().default(1),
    heads: z.number().int().positive().default(4),
    dropout: z.number().min(0).max(0.9).default(0.1),
    softMoe: softMoeSchema.prefault({}),
    /**
     * Missing modalities' tokens: true = one learned embedding per modality combination B_k
     * (REMIND); false = one learned token set per modality (Soft MoE); 'residual' (ours, not in the
     * paper) = the per-modality tokens plus a zero-initialised per-combination residual B_k, so a
     * rare or unseen combination falls back to the shared per-modality tokens.
     */
    groupEmbeddings: z.union([z.boolean(), z.literal('residual')]).default(true),
    /**
     * Tokens of absent modalities (filled with the missing embeddings): 'dispatch' = ordinary tokens
     * of the Soft MoE (paper); 'mask' = they reach the others through self-attention only, get no
     * dispatch weight and are left out of pooling.
     */
    absentTokens: z.enum(['dispatch', 'mask']).default('dispatch'),
    residualRouting: residualRoutingSchema.prefault({}),
  })
  .strict();

/**
 * Gradient-boosted trees (XGBoost's C library through FFI, src/models/gbt) on per-variable summary
 * statistics with missing indicators (src/models/gbt/features.ts). Parameters are XGBoost's own
 * (names in camelCase): https://xgboost.readthedocs.io/en/release_1.7.0/parameter.html
 */
const xgboostModelSchema = z
  .object({
    type: z.literal('xgboost'),
    /** Maximum boosting rounds (num_boost_round). */
    nRounds: z.number().int().positive().default(500),
    /** max_depth */
    maxDepth: z.number().int().positive().max(32).default(4),
    /** Learning rate eta. */
    eta: z.number().gt(0).max(1).default(0.05),
    /** Row subsampling per tree. */
    subsample: z.number().gt(0).max(1).default(0.8),
    /** colsample_bytree */
    colsampleBytree: z.number().gt(0).max(1).default(0.8),
    /** min_child_weight */
    minChildWeight: z.number().min(0).default(1),
    /** L2 regularisation lambda. */
    lambda: z.number().min(0).default(1),
    /** L1 regularisation alpha. */
    alpha: z.number().min(0).default(0),
    /** tree_method */
    treeMethod: z.enum(['hist', 'approx', 'exact']).default('hist'),
    /**
     * Validation metric for early stopping (XGBoost's eval_metric): 'auto' = logloss (binary,
     * multilabel) / mlogloss (multiclass); or auc, aucpr, error (merror for multiclass).
     */
    evalMetric: z.enum(['auto', 'logloss', 'auc', 'aucpr', 'error']).default('auto'),
    /** Stop after this many rounds without improvement on the validation split; 0 = never. */
    earlyStoppingRounds: z.number().int().min(0).default(50),
    /** XGBoost threads; null = the engine's thread count (engine.threads). */
    nthread: z.number().int().positive().nullable().default(null),
    /** XGBoost's seed; null = the run seed (each of `seeds` trains its own booster). */
    seed: z.number().int().min(0).nullable().default(null),
  })
  .strict();

export const modelSchema = z.discriminatedUnion('type', [baselineModelSchema, fusemoeModelSchema, remindModelSchema, moeRetrieverModelSchema, xgboostModelSchema]);

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
    /**
     * Loss weighting by modality-combination group (src/train/groupWeighting.ts): 'group-dro' =
     * REMIND eqs. 2–4 (λ refreshed every `everySteps` optimizer steps with sharpness `gamma`);
     * 'reweigh' = inverse-frequency group weights n_g^(−power); 'none' = plain mean loss.
     */
    groupWeighting: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('none') }).strict(),
        z
          .object({
            type: z.literal('group-dro'),
            gamma: z.number().positive().default(0.02),
            everySteps: z.number().int().positive().default(1),
          })
          .strict(),
        z.object({ type: z.literal('reweigh'), power: z.number().min(0).max(1).default(1) }).strict(),
      ])
      .prefault({ type: 'none' }),
    /** Two-stage training (REMIND §3): freeze the encoders (`enc.*`) after this many epochs; null = never. */
    freezeEncodersAfter: z.number().int().min(0).nullable().default(null),
  })
  .strict();

export const configSchema = z
  .object({
    name: z.string().default('run'),
    /** Seeds to train with; metrics report mean ± std over them. */
    seeds: z.array(z.number().int().min(0)).nonempty().default([1]),
    engine: z
      .object({
        backend: z.enum(['wasm', 'cpu']).default('wasm'),
        /** wasm (and native BLAS) threads; 'auto' = what measured fastest (src/engine/autoThreads.ts). */
        threads: z.union([z.number().int().positive(), z.literal('auto')], { error: "expected a positive integer or 'auto'" }).default('auto'),
        /** Native BLAS for matrix products: 'auto' (use one if found), 'off', or a library path. */
        blas: z.string().min(1, { error: "expected 'auto', 'off' or a path to a BLAS library" }).default('auto'),
      })
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
        /**
         * Unseen combinations (REMIND Fig. 5): groups (e.g. "fac+fou") held out of train/val/test,
         * into a fine-tuning part (holdOutFinetuneFraction of each group) and a test part; see
         * `fleximodal finetune`.
         */
        holdOutGroups: z.array(z.string().min(1)).default([]),
        holdOutFinetuneFraction: z.number().min(0).max(1).default(0.2),
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
     * with probability p — one number, or a record modality → probability (a per-modality profile;
     * modalities not named are kept) — never dropping a sample's last modality. Counts go to the
     * log and report.
     */
    missingness: z
      .discriminatedUnion('protocol', [
      z.object({
        protocol: z.literal('random-drop'),
        p: z.union([z.number().min(0).max(1), z.record(z.string().min(1), z.number().min(0).max(1))]),
        modalities: z.array(z.string()).optional(),
        seed: z.number().int().min(0).default(0),
      })
      .strict(),
      /**
       * REMIND Table 5 (src/data/extremeMissingness.ts): keep the samples with every modality
       * (incomplete: 'drop', the paper) and remove `modality` from exactly round(fraction·k) of them.
       */
      z
        .object({
          protocol: z.literal('extreme'),
          modality: z.string().min(1),
          fraction: z.number().min(0).max(1).default(0.8),
          seed: z.number().int().min(0).default(0),
          incomplete: z.enum(['drop', 'keep']).default('drop'),
        })
        .strict(),
      ])
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
    /** Evaluation settings. */
    evaluation: z
      .object({
        /** Tail groups = modality combinations holding less than this share of the training samples (REMIND: 0.15). */
        tailThreshold: z.number().gt(0).lt(1).default(0.15),
      })
      .strict()
      .prefault({}),
    /** Analyses of the run (REMIND App. 7.1, Fig. 4); written next to metrics.json and into the report. */
    analysis: z
      .object({
        /** Gradient consistency of head and tail groups over training (costs one forward/backward per sampled example). */
        gradientConsistency: z
          .object({
            enabled: z.boolean().default(false),
            /** Sample after epoch 1 and every `every` epochs. */
            every: z.number().int().positive().default(2),
            /** Whole-set sample size. */
            samples: z.number().int().positive().default(64),
            /** Examples per group. */
            perGroup: z.number().int().positive().default(16),
            /** Groups with fewer training samples are skipped. */
            minGroupSize: z.number().int().positive().default(8),
            maxGroups: z.number().int().positive().default(12),
            /** Regular expression over variable names selecting the fusion block's parameters. */
            params: z.string().default('^fusion\\.'),
          })
          .strict()
          .prefault({}),
        /** Top-experts pattern per group (Soft MoE models): top-k by combine weight. */
        topExperts: z
          .object({ k: z.number().int().positive().default(3), minGroupSize: z.number().int().positive().default(5) })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type RunConfig = z.infer<typeof configSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type BaselineModelConfig = z.infer<typeof baselineModelSchema>;
export type FuseMoEModelConfig = z.infer<typeof fusemoeModelSchema>;
export type MoERetrieverModelConfig = z.infer<typeof moeRetrieverModelSchema>;
export type RemindModelConfig = z.infer<typeof remindModelSchema>;
export type XGBoostModelConfig = z.infer<typeof xgboostModelSchema>;
export type EncoderConfig = z.infer<typeof encoderSchema>;
export type MoEConfig = z.infer<typeof moeSchema>;
export type TrainConfig = z.infer<typeof trainSchema>;

/**
 * The common modality-encoder interface: a batch of one modality (plain typed arrays) in,
 * `numTokens` tokens of width d per sample out. Samples that have no data for the modality get
 * all-zero tokens and `empty = 1`, so the model can substitute its missing-modality embedding.
 */
import { tf } from '../engine/tf.js';
import type { ModalityBatch } from '../data/batchTypes.js';
import type { ModalityKind, ModalitySpec } from '../data/schema.js';
import type { ActivationName } from '../nn/activations.js';
import { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import { MTandEncoder } from './mtand.js';
import { UtdeEncoder } from './utde.js';
import { WithSummaryToken } from './withSummaryToken.js';
import { MeanPoolEncoder, type SummaryStats } from './meanPoolEncoder.js';
import { TimedEmbeddingEncoder } from './timedEmbedding.js';
import { StaticEncoder } from './staticEncoder.js';

/** What an encoder returns. */
export interface EncoderOutput {
  /** [B, L, d] (L = numTokens); all-zero rows where `empty` is 1. */
  tokens: tf.Tensor3D;
  /** [B] 1 where the sample has no observation of this modality, else 0 (constant). */
  empty: tf.Tensor1D;
}

/** A per-modality encoder. */
export interface ModalityEncoder {
  readonly name: string;
  /** The modality kind it consumes. */
  readonly kind: ModalityKind;
  /** L, the number of tokens per sample. */
  readonly numTokens: number;
  /** d, the token width. */
  readonly dim: number;
  apply(batch: ModalityBatch, training: boolean): EncoderOutput;
  variables(): tf.Variable[];
}

/** Time-series encoder choices. */
export type TimeSeriesEncoderKind = 'mtand' | 'utde' | 'mean-pool-mlp';

/** Encoder hyper-parameters (one object for all modality kinds; each reads its own keys). */
export interface EncoderConfig {
  /** Token width d. Paper: 128. */
  d: number;
  /** Time-series encoder. Default 'utde' (FuseMoE's vitals/labs encoder). */
  kind?: TimeSeriesEncoderKind;
  /** Number of reference points γ for time series. Default 48. */
  gamma?: number;
  /** Attention heads h of mTAND. Default 8. */
  heads?: number;
  /** Time-embedding width d_t. Default 64 (must be divisible by heads). */
  dt?: number;
  /** Half-width of the uniform init of the time-embedding frequencies. Default 10. */
  freqInit?: number;
  /** UTDE: causal convolution kernel size. Default 1 (paper Table 6). */
  kernelSize?: number;
  /** UTDE: add a "time since last observation" channel per variable (extra). Default false. */
  timeSinceLast?: boolean;
  /** UTDE: hidden width of the gate MLP; 0 = one linear layer (paper). Default 0. */
  gateHidden?: number;
  /** Timed embeddings: number of reference points γ'. Default 8. */
  embeddingGamma?: number;
  /** Timed embeddings: keep only the last k vectors per sample (paper: 5 notes); 0 = all. Default 0. */
  keepLast?: number;
  /** Static vectors: number of output tokens. Default 1. */
  staticTokens?: number;
  /** Hidden width of the static / mean-pool MLPs. Default d. */
  hidden?: number;
  /** Activation of the MLPs. Default 'gelu'. */
  activation?: ActivationName;
  /** Dropout inside the MLPs (training only). Default 0. */
  dropout?: number;
  /** Time series (mtand/utde): append one summary-statistics token (WithSummaryToken). Default false. */
  summaryToken?: boolean;
  /** Statistics of the summary-statistics encoder / summary token (default 'basic'). */
  summaryStats?: SummaryStats;
}

/**
 * Build the encoder for one modality. Variable names are prefixed by `name`
 * (e.g. "enc.vitals" → "enc.vitals.mtand.q.w"):
 *  - timeseries: kind 'utde' (default) → UtdeEncoder(name) [γ tokens]; 'mtand' →
 *    MTandEncoder(`${name}.mtand`) [γ tokens]; 'mean-pool-mlp' → MeanPoolEncoder(name) [1 token]
 *  - embedding: TimedEmbeddingEncoder(`${name}.mtand`) [γ' tokens]
 *  - static: StaticEncoder(name) [staticTokens tokens]
 */
export function makeEncoder(name: string, spec: ModalitySpec, cfg: EncoderConfig, rng: Rng): ModalityEncoder {
  const common = { d: cfg.d, heads: cfg.heads, dt: cfg.dt, freqInit: cfg.freqInit };
  switch (spec.kind) {
    case 'timeseries': {
      const kind = cfg.kind ?? 'utde';
      if (cfg.summaryToken && kind !== 'mean-pool-mlp') {
        const V = spec.variables.length;
        const base = makeEncoder(name, spec, { ...cfg, summaryToken: false }, rng);
        const summary = new MeanPoolEncoder(`${name}.summary`, { inputDim: V, d: cfg.d, hidden: cfg.hidden, activation: cfg.activation, dropout: cfg.dropout, stats: cfg.summaryStats }, rng);
        return new WithSummaryToken(base, summary);
      }
      const V = spec.variables.length;
      switch (kind) {
        case 'mtand':
          return new MTandEncoder(`${name}.mtand`, { ...common, inputDim: V, gamma: cfg.gamma }, rng);
        case 'utde':
          return new UtdeEncoder(
            name,
            {
              ...common,
              inputDim: V,
              gamma: cfg.gamma,
              kernelSize: cfg.kernelSize,
              timeSinceLast: cfg.timeSinceLast,
              gateHidden: cfg.gateHidden,
              activation: cfg.activation,
            },
            rng,
          );
        case 'mean-pool-mlp':
          return new MeanPoolEncoder(name, { inputDim: V, d: cfg.d, hidden: cfg.hidden, activation: cfg.activation, dropout: cfg.dropout, stats: cfg.summaryStats }, rng);
        default:
          throw new FlexiModalError(`unknown time-series encoder kind '${String(kind)}'`, {
            where: `config key kind (modality ${spec.name})`,
            hint: "use 'utde', 'mtand' or 'mean-pool-mlp'",
          });
      }
    }
    case 'embedding':
      return new TimedEmbeddingEncoder(
        `${name}.mtand`,
        { ...common, inputDim: spec.dim, gamma: cfg.embeddingGamma, keepLast: cfg.keepLast },
        rng,
      );
    case 'static':
      return new StaticEncoder(
        name,
        {
          inputDim: spec.features.length,
          d: cfg.d,
          numTokens: cfg.staticTokens,
          hidden: cfg.hidden,
          activation: cfg.activation,
          dropout: cfg.dropout,
        },
        rng,
      );
    default:
      throw new FlexiModalError(`unknown modality kind '${String((spec as { kind: unknown }).kind)}'`, {
        where: `modality ${(spec as { name?: string }).name ?? '?'}`,
        hint: 'modality kinds are timeseries, embedding and static',
      });
  }
}

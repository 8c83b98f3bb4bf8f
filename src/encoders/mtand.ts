/**
 * mTAND: multi-time attention (Shukla & Marlin 2021) as used by FuseMoE §3.2 (SPEC §1.1).
 *
 *   φ      learnable time embedding of width d_t (nn/timeEmbedding.ts)
 *   Q      = φ(r)·W_q + b_q          [γ, d_t]   r = γ reference points evenly spaced over [0, 1]
 *   K      = φ(t)·W_k + b_k          [B, T, d_t]
 *   S      = Q_h K_hᵀ / √(d_t/h)      [B, h, γ, T]   (heads: d_t split into h slices)
 *   per input channel c (x channels then mask channels, 2V in all), with m_c = mask[:, c mod V]:
 *   Î[b, h, γ, c] = Σ_t exp(S) m_c[t] · value_c[t] / Σ_t exp(S) m_c[t]
 *   Z      = concat_h(Î)·W_o + b_o     [B, γ, d]
 *
 * The per-variable masked softmax is computed with two batched matmuls over the shared scores:
 * E = exp(S − max_t S) (the max over the sample's real times, a constant per (b, h, γ) that
 * cancels in the ratio), numerator E·(mask ⊙ value) and denominator E·mask (which is also the
 * numerator of the mask channels, so one matmul over [mask ⊙ x, mask] gives both). A variable never
 * observed in a sample has numerator = denominator = 0 and yields 0 (no NaN); a sample with no
 * observation at all yields all-zero tokens and empty = 1. See docs/ENCODERS.md.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import type { ModalityBatch, TimeSeriesBatch } from '../data/batchTypes.js';
import { Linear } from '../nn/linear.js';
import { TimeEmbedding } from '../nn/timeEmbedding.js';
import { subtractMaxNoGrad } from '../nn/stopGradient.js';
import { batchSizeOf, expectKind, referencePoints } from './batchArrays.js';
import type { EncoderOutput, ModalityEncoder } from './encoder.js';

/** Configuration of the mTAND core. */
export interface MTandConfig {
  /** Input channels V (time-series variables or embedding width). */
  inputDim: number;
  /** Output width d. Default 128. */
  d?: number;
  /** Reference points γ. Default 48. */
  gamma?: number;
  /** Heads h. Default 8. */
  heads?: number;
  /** Time-embedding width d_t. Default 64; must be divisible by h. */
  dt?: number;
  /** Time-embedding frequency init half-width. Default 10. */
  freqInit?: number;
  /**
   * 'per-variable': each variable attends only over its own observed times (time series);
   * 'shared': all channels share the time mask (timed embeddings). Default 'per-variable'.
   */
  maskMode?: 'per-variable' | 'shared';
  /** Append the mask as extra value channels (values = x ⊕ mask, 2V channels). Default true. */
  maskChannels?: boolean;
}

/** Plain-array inputs of the mTAND core (all row-major). */
export interface MTandInput {
  B: number;
  T: number;
  /** [B, T] in [0, 1] */
  times: Float32Array;
  /** [B, T] 1 at real time steps */
  timeMask: Float32Array;
  /** [B, T, V] */
  values: Float32Array;
  /** [B, T, V] per-variable observation mask ('per-variable' mode; ignored in 'shared' mode) */
  mask?: Float32Array;
}

/**
 * The mTAND core (no batch-type knowledge). Variables: `${name}.time.{w,b}`, `${name}.q.{w,b}`,
 * `${name}.k.{w,b}`, `${name}.out.{w,b}`.
 */
export class MTand {
  readonly name: string;
  readonly inputDim: number;
  readonly d: number;
  readonly gamma: number;
  readonly heads: number;
  readonly dt: number;
  readonly maskMode: 'per-variable' | 'shared';
  readonly maskChannels: boolean;
  /** Value channels C = V (or 2V with mask channels). */
  readonly channels: number;
  readonly time: TimeEmbedding;
  readonly q: Linear;
  readonly k: Linear;
  readonly out: Linear;
  private readonly refs: Float32Array; // [γ] (a tensor is made per call, so models hold no constants)
  /** Q_h of the variables' current data (inference only); see queries(). */
  private queryCache: { ids: object[]; values: Float32Array } | null = null;

  constructor(name: string, cfg: MTandConfig, rng: Rng) {
    this.name = name;
    this.inputDim = cfg.inputDim;
    this.d = cfg.d ?? 128;
    this.gamma = cfg.gamma ?? 48;
    this.heads = cfg.heads ?? 8;
    this.dt = cfg.dt ?? 64;
    this.maskMode = cfg.maskMode ?? 'per-variable';
    this.maskChannels = cfg.maskChannels ?? true;
    const bad = (key: string, msg: string): never => {
      throw new FlexiModalError(msg, { where: `config key ${key} (encoder ${name})`, hint: 'use positive integers; dt must be a multiple of heads' });
    };
    for (const [k, v] of [['inputDim', this.inputDim], ['d', this.d], ['gamma', this.gamma], ['heads', this.heads], ['dt', this.dt]] as const) {
      if (!(Number.isInteger(v) && v > 0)) bad(k, `${k} must be a positive integer, got ${v}`);
    }
    if (this.dt % this.heads !== 0) bad('dt', `dt=${this.dt} is not divisible by heads=${this.heads}`);
    this.channels = this.maskChannels ? 2 * this.inputDim : this.inputDim;
    this.time = new TimeEmbedding(`${name}.time`, { dim: this.dt, freqInit: cfg.freqInit }, rng);
    this.q = new Linear(`${name}.q`, { inDim: this.dt, outDim: this.dt }, rng);
    this.k = new Linear(`${name}.k`, { inDim: this.dt, outDim: this.dt }, rng);
    this.out = new Linear(`${name}.out`, { inDim: this.heads * this.channels, outDim: this.d }, rng);
    this.refs = Float32Array.from(referencePoints(this.gamma));
  }

  /** Per-head queries of the reference points, Q_h = q(φ(r)) as [h, γ, dk]. */
  private computeQueries(): tf.Tensor3D {
    const Q = this.q.apply(this.time.apply(tf.tensor1d(this.refs))); // [γ, d_t]
    return Q.reshape([this.gamma, this.heads, this.dt / this.heads]).transpose([1, 0, 2]) as tf.Tensor3D; // [h, γ, dk]
  }

  /**
   * Q_h: they depend only on the weights, so outside a gradient tape (inference) the values of the
   * last computation are reused while the four variables hold the same data (an optimizer step or a
   * weight load gives a variable new data, which recomputes them). Inside a tape they are always
   * recomputed. The cache holds numbers, not a tensor, so the model owns no extra tensor.
   */
  private queries(): tf.Tensor3D {
    if (tf.engine().isTapeOn()) return this.computeQueries();
    const ids = [...this.time.variables(), ...this.q.variables()].map((v) => v.dataId);
    const shape: [number, number, number] = [this.heads, this.gamma, this.dt / this.heads];
    const c = this.queryCache;
    if (c && c.ids.every((id, i) => id === ids[i])) return tf.tensor3d(c.values, shape);
    const q = this.computeQueries();
    this.queryCache = { ids, values: q.dataSync() as Float32Array };
    return q;
  }

  /** Scores S = Q_h K_hᵀ/√(d_t/h).  times [B, T] → [B, h, γ, T]. */
  scores(times: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => {
      const [B, T] = times.shape;
      const h = this.heads;
      const dk = this.dt / h;
      const g = this.gamma;
      const Qh = this.queries(); // [h, γ, dk]
      const K = this.k.apply(this.time.apply(times)); // [B, T, d_t]
      // Per-head batched matmul with no broadcasting: [h, γ, dk] × [h, dk, B·T]
      const Kh = K.reshape([B, T, h, dk]).transpose([2, 3, 0, 1]).reshape([h, dk, B * T]); // [h, dk, B·T]
      const S = tf.matMul(Qh as tf.Tensor3D, Kh as tf.Tensor3D); // [h, γ, B·T]
      return tf.mul(S.reshape([h, g, B, T]).transpose([2, 0, 1, 3]), 1 / Math.sqrt(dk)) as tf.Tensor4D; // [B, h, γ, T]
    });
  }

  /**
   * The interpolation Î before the output projection: [B, γ, h·C] (head-major: channels of head
   * 0, then head 1, …; within a head x channels then mask channels).
   */
  interpolate(input: MTandInput): tf.Tensor3D {
    const { B, T } = input;
    const V = this.inputDim;
    const C = this.channels;
    const h = this.heads;
    const g = this.gamma;
    const perVar = this.maskMode === 'per-variable';
    if (perVar && !input.mask) {
      throw new FlexiModalError('per-variable mTAND needs an observation mask', { where: `encoder ${this.name}` });
    }
    // JS side (constant data): masked values ⊕ mask channels, the mask used for denominators,
    // and whether each (sample, variable) was observed at all.
    const vx = new Float32Array(B * T * C); // [B, T, C]
    const dm = perVar ? new Float32Array(B * T * V) : new Float32Array(B * T); // [B, T, V|1]
    const has = perVar ? new Float32Array(B * V) : new Float32Array(B); // [B, V|1]
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const real = input.timeMask[b * T + t]! > 0 ? 1 : 0;
        if (!perVar) {
          dm[b * T + t] = real;
          if (real) has[b] = 1;
        }
        for (let v = 0; v < V; v++) {
          const i = (b * T + t) * V + v;
          const m = perVar ? (input.mask![i]! > 0 && real ? 1 : 0) : real;
          const o = (b * T + t) * C;
          vx[o + v] = m ? input.values[i]! : 0;
          if (this.maskChannels) vx[o + V + v] = m;
          if (perVar) {
            dm[i] = m;
            if (m) has[b * V + v] = 1;
          }
        }
      }
    }
    const Vd = perVar ? V : 1;
    return tf.tidy(() => {
      const times = tf.tensor2d(input.times, [B, T]);
      const padOffset = tf.tensor4d(input.timeMask.map((m) => (m > 0 ? 0 : -1e9)), [B, 1, 1, T]); // (mask − 1)·1e9
      const S = this.scores(times); // [B, h, γ, T]
      // padding → −1e9 (exp → 0); stabilise with the max over real times (cancels in the ratio)
      const Sm = tf.add(S, padOffset); // [B, h, γ, T]
      const E = tf.exp(subtractMaxNoGrad(Sm)).reshape([B, h * g, T]) as tf.Tensor3D; // [B, hγ, T]
      const num = tf.matMul(E, tf.tensor3d(vx, [B, T, C])); // [B, hγ, C]
      // with mask channels (per-variable) the numerator of mask channel v is Σ_t E·m_v, which is
      // exactly the denominator of variable v: reuse it instead of a second matmul
      let den =
        this.maskChannels && perVar
          ? tf.slice(num, [0, 0, V], [B, h * g, V]) // [B, hγ, V]
          : tf.matMul(E, tf.tensor3d(dm, [B, T, Vd])); // [B, hγ, V|1]
      // never-observed variables: 0/0 → 0/1; 1e-30 guards an underflowed denominator
      den = tf.add(den, tf.tensor3d(has.map((x) => 1 - x + 1e-30), [B, 1, Vd]));
      if (this.maskChannels && perVar) den = tf.concat([den, den], -1); // [B, hγ, 2V]
      const I = tf.div(num, den); // [B, hγ, C]
      return I.reshape([B, h, g, C]).transpose([0, 2, 1, 3]).reshape([B, g, h * C]) as tf.Tensor3D; // [B, γ, h·C]
    });
  }

  /** Z [B, γ, d] and empty flags [B] (Z rows are 0 for empty samples). */
  apply(input: MTandInput): { z: tf.Tensor3D; empty: tf.Tensor1D } {
    const { B } = input;
    const empty = new Float32Array(B);
    const T = input.T;
    for (let b = 0; b < B; b++) {
      let any = false;
      if (this.maskMode === 'per-variable') {
        const V = this.inputDim;
        for (let t = 0; t < T && !any; t++) {
          if (input.timeMask[b * T + t]! <= 0) continue;
          for (let v = 0; v < V && !any; v++) any = input.mask![(b * T + t) * V + v]! > 0;
        }
      } else {
        for (let t = 0; t < T && !any; t++) any = input.timeMask[b * T + t]! > 0;
      }
      empty[b] = any ? 0 : 1;
    }
    return tf.tidy(() => {
      const I = this.interpolate(input); // [B, γ, h·C]
      const keep = tf.tensor3d(empty.map((e) => 1 - e), [B, 1, 1]);
      const z = tf.mul(this.out.apply(I), keep) as tf.Tensor3D; // [B, γ, d]
      return { z, empty: tf.tensor1d(empty) };
    });
  }

  variables(): tf.Variable[] {
    return [...this.time.variables(), ...this.q.variables(), ...this.k.variables(), ...this.out.variables()];
  }
}

/** Time-series encoder: mTAND over values ⊕ mask with per-variable masking → γ tokens of width d. */
export class MTandEncoder implements ModalityEncoder {
  readonly kind = 'timeseries' as const;
  readonly name: string;
  readonly mtand: MTand;

  /** `name` prefixes the variables (`${name}.q.w`, …); V = number of variables. */
  constructor(name: string, cfg: Omit<MTandConfig, 'maskMode' | 'maskChannels'>, rng: Rng) {
    this.name = name;
    this.mtand = new MTand(name, { ...cfg, maskMode: 'per-variable', maskChannels: true }, rng);
  }

  get numTokens(): number {
    return this.mtand.gamma;
  }

  get dim(): number {
    return this.mtand.d;
  }

  /** batch: TimeSeriesBatch with V = inputDim → tokens [B, γ, d], empty [B]. */
  apply(batch: ModalityBatch, _training = false): EncoderOutput {
    const ts = checkTimeSeries(batch, this.mtand.inputDim, this.name);
    const B = batchSizeOf(ts, `encoder ${this.name}`);
    const { z, empty } = this.mtand.apply({ B, T: ts.T, times: ts.times, timeMask: ts.timeMask, values: ts.values, mask: ts.mask });
    return { tokens: z, empty };
  }

  variables(): tf.Variable[] {
    return this.mtand.variables();
  }
}

/** Validate a time-series batch against the expected number of variables. */
export function checkTimeSeries(batch: ModalityBatch, V: number, name: string): TimeSeriesBatch {
  expectKind(batch, 'timeseries', `encoder ${name}`);
  if (batch.V !== V) {
    throw new FlexiModalError(`encoder ${name} was built for ${V} variables, the batch has ${batch.V}`, {
      where: `encoder ${name}`,
      hint: 'build the encoder from the same dataset spec as the batches',
    });
  }
  batchSizeOf(batch, `encoder ${name}`);
  return batch;
}


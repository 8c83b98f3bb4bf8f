/**
 * Summary-statistics time-series encoder (late-fusion baseline, summary tokens, fast tests): per
 * variable
 *   basic:    last value, mean of observed values, log(1 + count), time of the last observation
 *   extended: the basic four + minimum, maximum and first value (extremes carry much of the
 *             signal in ICU outcome prediction: worst GCS, highest lactate, ...)
 * (all 0 — the training mean after normalisation — for a variable never observed)
 * → [B, S·V] → MLP → 1 token [B, 1, d]. Samples with no observation get a zero token and empty = 1.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import type { ModalityBatch, TimeSeriesBatch } from '../data/batchTypes.js';
import type { ActivationName } from '../nn/activations.js';
import { Mlp } from '../nn/mlp.js';
import { emptyRows } from './batchArrays.js';
import type { EncoderOutput, ModalityEncoder } from './encoder.js';
import { checkTimeSeries } from './mtand.js';

export interface MeanPoolEncoderConfig {
  /** Number of variables V. */
  inputDim: number;
  d: number;
  /** Hidden width. Default d. */
  hidden?: number;
  activation?: ActivationName;
  dropout?: number;
  /** Which statistics (default 'basic'). */
  stats?: SummaryStats;
}

export type SummaryStats = 'basic' | 'extended';

/** Number of statistics per variable. */
export function statsPerVariable(stats: SummaryStats): number {
  return stats === 'extended' ? 7 : 4;
}

/**
 * Summary features [B, S·V], variable-major: per variable (last, mean, log1p(count), time of last)
 * and, for 'extended', (min, max, first) after them.
 */
export function summaryFeatures(batch: TimeSeriesBatch, stats: SummaryStats = 'basic'): Float32Array {
  const { T, V } = batch;
  const B = batch.times.length / T;
  const S = statsPerVariable(stats);
  const out = new Float32Array(B * S * V);
  for (let b = 0; b < B; b++) {
    for (let v = 0; v < V; v++) {
      let n = 0;
      let sum = 0;
      let last = 0;
      let lastT = -1;
      let firstT = Infinity;
      let first = 0;
      let min = Infinity;
      let max = -Infinity;
      for (let t = 0; t < T; t++) {
        const i = (b * T + t) * V + v;
        if (batch.timeMask[b * T + t]! <= 0 || batch.mask[i]! <= 0) continue;
        const x = batch.values[i]!;
        n++;
        sum += x;
        if (x < min) min = x;
        if (x > max) max = x;
        const tau = batch.times[b * T + t]!;
        if (tau >= lastT) {
          lastT = tau;
          last = x;
        }
        if (tau < firstT) {
          firstT = tau;
          first = x;
        }
      }
      const o = (b * V + v) * S;
      out[o] = last;
      out[o + 1] = n > 0 ? sum / n : 0;
      out[o + 2] = Math.log1p(n);
      out[o + 3] = n > 0 ? lastT : 0;
      if (S === 7) {
        out[o + 4] = n > 0 ? min : 0;
        out[o + 5] = n > 0 ? max : 0;
        out[o + 6] = first;
      }
    }
  }
  return out;
}

/** Variables: `${name}.mlp.l*.{w,b}`. */
export class MeanPoolEncoder implements ModalityEncoder {
  readonly kind = 'timeseries' as const;
  readonly name: string;
  readonly numTokens = 1;
  readonly dim: number;
  readonly inputDim: number;
  readonly stats: SummaryStats;
  readonly mlp: Mlp;

  constructor(name: string, cfg: MeanPoolEncoderConfig, rng: Rng) {
    this.name = name;
    this.dim = cfg.d;
    this.inputDim = cfg.inputDim;
    this.stats = cfg.stats ?? 'basic';
    this.mlp = new Mlp(
      `${name}.mlp`,
      { dims: [statsPerVariable(this.stats) * cfg.inputDim, cfg.hidden ?? cfg.d, cfg.d], activation: cfg.activation, dropout: cfg.dropout },
      rng,
    );
  }

  /** batch: TimeSeriesBatch → tokens [B, 1, d], empty [B]. */
  apply(batch: ModalityBatch, training = false): EncoderOutput {
    const ts = checkTimeSeries(batch, this.inputDim, this.name);
    const B = ts.times.length / ts.T;
    const feats = summaryFeatures(ts, this.stats);
    const empty = emptyRows(ts, B);
    return tf.tidy(() => {
      const y = this.mlp.apply(tf.tensor2d(feats, [B, statsPerVariable(this.stats) * this.inputDim]), training); // [B, d]
      const keep = tf.tensor2d(empty.map((e) => 1 - e), [B, 1]);
      return { tokens: tf.mul(y, keep).reshape([B, 1, this.dim]) as tf.Tensor3D, empty: tf.tensor1d(empty) };
    });
  }

  variables(): tf.Variable[] {
    return this.mlp.variables();
  }
}

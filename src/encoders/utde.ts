/**
 * UTDE (FuseMoE App. C, after Zhang et al. 2023): unified temporal discretisation embedding.
 *
 *   imputation branch:  F = LOCF values ⊕ observed-in-bin mask (⊕ time since last, optional)
 *                       [B, γ, C] with C = 2V (3V);  E_imp = CausalConv_k(F)  [B, γ, d]
 *   mTAND branch:       E_mTAND = mTAND(series)  [B, γ, d]  (same γ reference points)
 *   gate:               g = σ(MLP(E_imp ⊕ E_mTAND))  [B, γ, d]
 *                       E = g ⊙ E_imp + (1 − g) ⊙ E_mTAND
 *
 * The causal convolution (kernel size k, stride 1, output width d = the projection to d) is one
 * matmul over k shifted copies of F built on the JS side (no conv op; conv1d has no backward on
 * wasm): E_imp[i] = Σ_{j<k} F[i−j]·W_j + b. Samples without any observation get zero tokens and
 * empty = 1.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import type { ModalityBatch } from '../data/batchTypes.js';
import { FlexiModalError } from '../errors.js';
import { Linear } from '../nn/linear.js';
import { runInferenceKernel } from '../engine/inferenceKernels.js';
import { Mlp } from '../nn/mlp.js';
import type { ActivationName } from '../nn/activations.js';
import { batchSizeOf } from './batchArrays.js';
import { causalShifts, discretiseLocf } from './discretise.js';
import type { EncoderOutput, ModalityEncoder } from './encoder.js';
import { MTand, MTandConfig, checkTimeSeries } from './mtand.js';

export interface UtdeConfig extends Omit<MTandConfig, 'maskMode' | 'maskChannels'> {
  /** Causal convolution kernel size k. Default 1 (paper Table 6). */
  kernelSize?: number;
  /** Extra "time since last observation" channel per variable. Default false. */
  timeSinceLast?: boolean;
  /** Gate MLP hidden width; 0 = a single linear layer (paper's "one-layer MLP"). Default 0. */
  gateHidden?: number;
  /** Activation of the gate MLP's hidden layer. Default 'gelu'. */
  activation?: ActivationName;
}

/**
 * Variables: `${name}.mtand.*` (the mTAND branch), `${name}.imp.conv.{w,b}` ([k·C, d]; rows
 * j·C … (j+1)·C − 1 weight step i − j), `${name}.gate.l*.{w,b}`.
 */
export class UtdeEncoder implements ModalityEncoder {
  readonly kind = 'timeseries' as const;
  readonly name: string;
  readonly mtand: MTand;
  readonly conv: Linear;
  readonly gate: Mlp;
  readonly kernelSize: number;
  readonly timeSinceLast: boolean;
  /** Imputation channels C (2V, or 3V with time since last). */
  readonly impChannels: number;

  constructor(name: string, cfg: UtdeConfig, rng: Rng) {
    this.name = name;
    this.kernelSize = cfg.kernelSize ?? 1;
    if (!(Number.isInteger(this.kernelSize) && this.kernelSize >= 1)) {
      throw new FlexiModalError(`kernelSize must be a positive integer, got ${cfg.kernelSize}`, {
        where: `config key kernelSize (encoder ${name})`,
        hint: 'use 1 (paper) or a small odd number',
      });
    }
    this.timeSinceLast = cfg.timeSinceLast ?? false;
    this.mtand = new MTand(`${name}.mtand`, { ...cfg, maskMode: 'per-variable', maskChannels: true }, rng);
    const d = this.mtand.d;
    const V = this.mtand.inputDim;
    this.impChannels = (this.timeSinceLast ? 3 : 2) * V;
    this.conv = new Linear(`${name}.imp.conv`, { inDim: this.kernelSize * this.impChannels, outDim: d }, rng);
    const gh = cfg.gateHidden ?? 0;
    this.gate = new Mlp(`${name}.gate`, { dims: gh > 0 ? [2 * d, gh, d] : [2 * d, d], activation: cfg.activation }, rng);
  }

  get numTokens(): number {
    return this.mtand.gamma;
  }

  get dim(): number {
    return this.mtand.d;
  }

  /** Imputation features [B, γ, C] (values ⊕ observed ⊕ sinceLast) as a flat array. */
  imputationFeatures(batch: ModalityBatch): { B: number; features: Float32Array } {
    const ts = checkTimeSeries(batch, this.mtand.inputDim, this.name);
    const B = batchSizeOf(ts, `encoder ${this.name}`);
    const g = this.mtand.gamma;
    const V = ts.V;
    const C = this.impChannels;
    const dis = discretiseLocf(ts, g, { timeSinceLast: this.timeSinceLast });
    const features = new Float32Array(B * g * C);
    for (let r = 0; r < B * g; r++) {
      features.set(dis.values.subarray(r * V, (r + 1) * V), r * C);
      features.set(dis.observed.subarray(r * V, (r + 1) * V), r * C + V);
      if (dis.sinceLast) features.set(dis.sinceLast.subarray(r * V, (r + 1) * V), r * C + 2 * V);
    }
    return { B, features };
  }

  /** E = g ⊙ eImp + (1 − g) ⊙ eMtand with g = σ(MLP(eImp ⊕ eMtand)).  [B, γ, d] ×2 → [B, γ, d]. */
  mix(eImp: tf.Tensor3D, eMtand: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const logits = this.gate.apply(tf.concat([eImp, eMtand], -1)); // [B, γ, d]
      const fused = runInferenceKernel('FlexiGatedMix', { logits, a: eImp, b: eMtand });
      if (fused) return fused as tf.Tensor3D; // inference: one kernel
      const g = tf.sigmoid(logits); // [B, γ, d]
      return tf.add(tf.mul(g, eImp), tf.mul(tf.sub(1, g), eMtand)) as tf.Tensor3D;
    });
  }

  /** batch: TimeSeriesBatch → tokens [B, γ, d], empty [B]. */
  apply(batch: ModalityBatch, _training = false): EncoderOutput {
    const ts = checkTimeSeries(batch, this.mtand.inputDim, this.name);
    const { B, features } = this.imputationFeatures(ts);
    const g = this.mtand.gamma;
    const k = this.kernelSize;
    const shifted = causalShifts(features, B, g, this.impChannels, k); // [B, γ, k·C]
    return tf.tidy(() => {
      const { z: eMtand, empty } = this.mtand.apply({
        B,
        T: ts.T,
        times: ts.times,
        timeMask: ts.timeMask,
        values: ts.values,
        mask: ts.mask,
      }); // [B, γ, d]
      const eImp = this.conv.apply(tf.tensor3d(shifted, [B, g, k * this.impChannels])) as tf.Tensor3D; // [B, γ, d]
      const keep = tf.tensor3d(empty.dataSync().map((e) => 1 - e), [B, 1, 1]);
      const tokens = tf.mul(this.mix(eImp, eMtand), keep) as tf.Tensor3D; // [B, γ, d]
      return { tokens, empty };
    });
  }

  variables(): tf.Variable[] {
    return [...this.mtand.variables(), ...this.conv.variables(), ...this.gate.variables()];
  }
}

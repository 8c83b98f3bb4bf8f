/**
 * Soft MoE (Puigcerver et al. 2023; REMIND eqs. 5–8) with optional group-residual routing.
 *
 * Per sample, with tokens X [T, d] (T tokens, of which the masked ones take no part), n experts
 * with p slots each (S = n·p):
 *
 *   X̂ = X / ‖X‖ (row-wise),  Φ̂ = s · Φ / ‖Φ‖ (column-wise, learned scale s)
 *   L = X̂ Φ̂                                    [T, S]  routing logits
 *   D = softmax over the sample's valid tokens, per slot (eq. 5); masked tokens get D = 0
 *   X̃ = Dᵀ X                                    [S, d]  slot inputs (unnormalised tokens)
 *   Ỹ_s = f_{expert(s)}(X̃_s)                    [S, d]  expert i runs on slots i·p … i·p+p−1
 *   C = softmax over all S slots, per token (eq. 6)
 *   Y = C Ỹ                                     [T, d]
 *
 * Group-residual routing (eq. 7): Φ = Φ_shared + Φ_k for a sample of modality-combination group k
 * (Φ_k zero-initialised, one per group). The switch of eq. 8 decides per sample: Φ_k is applied
 * only when the shared router is uncertain — the mean over the sample's valid tokens of the
 * entropy of softmax_S(X̂ Φ̂_shared) exceeds threshold · ln S (or its KL to uniform is below a
 * threshold); see routerUncertainty.ts. The decision is data (no gradient flows through it).
 *
 * Variables: `<name>.gate.phi` [d, S], `<name>.gate.scale` [1], `<name>.gate.residual` [G, d, S]
 * (with residual routing), experts `<name>.expert<i>.w1|b1|w2|b2` (ExpertPool).
 */
import { tf } from '../engine/tf.js';
import { param } from '../engine/params.js';
import type { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import { ExpertPool } from './experts.js';
import { sampleUncertainty, softmaxRows, switchFires, type UncertaintySwitch } from './routerUncertainty.js';

/** Guards the l2 norms (and their gradient) at zero. */
const NORM_EPS = 1e-6;

export interface SoftMoEConfig {
  /** Token width d. */
  dim: number;
  /** Hidden width of each expert FFN. */
  hidden: number;
  /** Number of experts n. */
  numExperts: number;
  /** Slots per expert p (REMIND: 1). */
  slotsPerExpert: number;
  /** Group-residual routing: number of groups G (2^M) and the uncertainty switch; absent = off. */
  residual?: { numGroups: number } & UncertaintySwitch;
}

export interface SoftMoEApplyOptions {
  /** 1 = the token takes part in dispatch.  [B, T]; default all ones. */
  tokenMask?: Float32Array;
  /** Modality-combination group of each sample (needed with residual routing).  [B] */
  groupIds?: Int32Array;
  /** Also return the dispatch and combine weights as arrays (analyses; costs a device read). */
  withWeights?: boolean;
}

/** Routing of one call, for analyses and explanations (plain arrays). */
export interface SoftMoERouting {
  /** Dispatch weights D [B, T, S] (columns sum to 1 over a sample's valid tokens); with `withWeights`. */
  dispatch?: Float32Array;
  /** Combine weights C [B, T, S] (rows sum to 1); with `withWeights`. */
  combine?: Float32Array;
  /** Per sample: 1 where the group residual Φ_k was applied.  [B] */
  switched: Uint8Array;
}

export interface SoftMoEOutput {
  /** [B, T, d] */
  y: tf.Tensor3D;
  routing: SoftMoERouting;
}

/** Φ̂ = scale · Φ / ‖Φ‖ over the input axis (axis −2): [.., d, S] → same shape. */
export function normalizeRouter(phi: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  const norm = tf.sqrt(tf.add(tf.sum(tf.square(phi), -2, true), NORM_EPS));
  return tf.mul(tf.div(phi, norm), scale);
}

/** X̂ = X / ‖X‖ over the last axis. */
export function normalizeTokens(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), -1, true), NORM_EPS)));
}

/**
 * The Soft MoE mixing around arbitrary experts (pure function of its inputs; tested against
 * hand computations and finite differences).
 *   x [B, T, d], logits [B, T, S], mask [B, T] (0/1) → { y [B, T, d], dispatch [B, S, T] (= Dᵀ), combine [B, T, S] }.
 * `experts(slots [B, S, d]) → [B, S, d]`.
 */
export function softMoeMix(
  x: tf.Tensor3D,
  logits: tf.Tensor3D,
  mask: tf.Tensor2D,
  experts: (slots: tf.Tensor3D) => tf.Tensor3D,
): { y: tf.Tensor3D; dispatchT: tf.Tensor3D; combine: tf.Tensor3D } {
  const [B, T] = x.shape;
  const m = tf.reshape(mask, [B, 1, T]); // [B, 1, T]
  const lt = tf.transpose(logits, [0, 2, 1]); // [B, S, T]
  // softmax over the valid tokens of each slot; −1e9 (not −∞) keeps fully masked rows finite, × mask zeroes them
  const dispatchT = tf.mul(tf.softmax(tf.add(lt, tf.mul(tf.sub(m, 1), 1e9)) as tf.Tensor3D), m) as tf.Tensor3D; // [B, S, T]
  const slots = tf.matMul(dispatchT, x) as tf.Tensor3D; // [B, S, d]
  const outs = experts(slots); // [B, S, d]
  const combine = tf.softmax(logits) as tf.Tensor3D; // [B, T, S]
  const y = tf.matMul(combine, outs) as tf.Tensor3D; // [B, T, d]
  return { y, dispatchT, combine };
}

/** A Soft MoE layer over n expert FFNs, with optional group-residual routing. */
export class SoftMoE {
  readonly name: string;
  readonly cfg: SoftMoEConfig;
  readonly numSlots: number;
  /** Φ_shared [d, S]. */
  readonly phi: tf.Variable;
  /** Learned scale s of Φ̂ (scalar, stored as [1]). */
  readonly scale: tf.Variable;
  /** Φ_k for every group [G, d, S] (zeros at init); null without residual routing. */
  readonly residual: tf.Variable | null;
  readonly experts: ExpertPool;

  constructor(name: string, cfg: SoftMoEConfig, rng: Rng) {
    for (const key of ['dim', 'hidden', 'numExperts', 'slotsPerExpert'] as const) {
      if (!(Number.isInteger(cfg[key]) && cfg[key] > 0)) {
        throw new FlexiModalError(`${key} = ${cfg[key]} must be a positive integer`, { where: `config key ${name}.${key}`, hint: `set ${key} ≥ 1` });
      }
    }
    this.name = name;
    this.cfg = cfg;
    this.numSlots = cfg.numExperts * cfg.slotsPerExpert;
    const { dim } = cfg;
    const S = this.numSlots;
    // LeCun normal (Soft MoE); only the direction matters after normalisation
    const phi = new Float32Array(dim * S);
    for (let i = 0; i < phi.length; i++) phi[i] = rng.normal() / Math.sqrt(dim);
    this.phi = param(tf.tensor2d(phi, [dim, S]), true, `${name}.gate.phi`);
    this.scale = param(tf.ones([1]), true, `${name}.gate.scale`);
    this.residual = cfg.residual ? param(tf.zeros([cfg.residual.numGroups, dim, S]), true, `${name}.gate.residual`) : null;
    this.experts = new ExpertPool(name, { dim, hidden: cfg.hidden, numExperts: cfg.numExperts }, rng);
  }

  /** Run every expert on its p slots: slots [B, S, d] → [B, S, d]. */
  private runExperts(slots: tf.Tensor3D): tf.Tensor3D {
    const [B, , d] = slots.shape;
    const p = this.cfg.slotsPerExpert;
    const per = tf.split(slots, this.cfg.numExperts, 1) as tf.Tensor3D[]; // n × [B, p, d]
    const outs = per.map((s, i) => tf.reshape(this.experts.expert(i, tf.reshape(s, [B * p, d]) as tf.Tensor2D), [B, p, d]));
    return (outs.length === 1 ? outs[0]! : tf.concat(outs, 1)) as tf.Tensor3D;
  }

  /** x [B, T, d] → y [B, T, d] and the routing (see the file comment). */
  apply(x: tf.Tensor3D, opts: SoftMoEApplyOptions = {}): SoftMoEOutput {
    const [B, T, d] = x.shape;
    const S = this.numSlots;
    if (d !== this.cfg.dim) throw new FlexiModalError(`Soft MoE '${this.name}' expects tokens of width ${this.cfg.dim}, got ${d}`);
    const maskData = opts.tokenMask ?? new Float32Array(B * T).fill(1);
    if (maskData.length !== B * T) throw new FlexiModalError(`Soft MoE '${this.name}': token mask has ${maskData.length} entries for [${B}, ${T}] tokens`);
    const xn = normalizeTokens(x) as tf.Tensor3D; // [B, T, d]
    const phiShared = normalizeRouter(this.phi, this.scale) as tf.Tensor2D; // [d, S]
    let logits = tf.reshape(tf.matMul(tf.reshape(xn, [B * T, d]) as tf.Tensor2D, phiShared), [B, T, S]) as tf.Tensor3D; // [B, T, S]
    const switched = new Uint8Array(B);
    if (this.residual && this.cfg.residual) {
      const groups = opts.groupIds;
      if (!groups || groups.length !== B) throw new FlexiModalError(`Soft MoE '${this.name}': residual routing needs one group id per sample`);
      const G = this.cfg.residual.numGroups;
      for (const g of groups) {
        if (!(g >= 0 && g < G)) throw new FlexiModalError(`Soft MoE '${this.name}': group id ${g} outside [0, ${G})`, { hint: 'the model was built for a dataset with a different number of modalities' });
      }
      const probs = softmaxRows(logits.dataSync(), B * T, S); // shared router's per-token distributions
      sampleUncertainty(probs, B, T, S, maskData).forEach((u, b) => {
        switched[b] = Number.isFinite(u.entropy) && switchFires(u, S, this.cfg.residual!) ? 1 : 0;
      });
      if (switched.some((s) => s === 1)) {
        const on = tf.tensor3d(Array.from(switched), [B, 1, 1]); // [B, 1, 1]
        const res = tf.mul(tf.gather(this.residual, tf.tensor1d(groups, 'int32')), on); // [B, d, S], zero where not switched
        const phiB = normalizeRouter(tf.add(this.phi, res), this.scale) as tf.Tensor3D; // [B, d, S]
        logits = tf.matMul(xn, phiB) as tf.Tensor3D; // [B, T, S]
      }
    }
    const mask = tf.tensor2d(maskData, [B, T]);
    const { y, dispatchT, combine } = softMoeMix(x, logits, mask, (slots) => this.runExperts(slots));
    const routing: SoftMoERouting = opts.withWeights
      ? { dispatch: tf.transpose(dispatchT, [0, 2, 1]).dataSync() as Float32Array, combine: combine.dataSync() as Float32Array, switched }
      : { switched };
    return { y, routing };
  }

  variables(): tf.Variable[] {
    return [this.phi, this.scale, ...(this.residual ? [this.residual] : []), ...this.experts.variables()];
  }
}

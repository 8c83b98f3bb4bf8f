/**
 * Late-fusion baseline: one encoder per modality → masked mean over its tokens → concatenation of
 * all modalities (zeros for a missing modality) ⊕ the modality-presence flags → MLP head.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import type { Batch } from '../data/batchTypes.js';
import type { DatasetSpec } from '../data/schema.js';
import type { BaselineModelConfig } from '../config/schema.js';
import { makeEncoder } from '../encoders/encoder.js';
import type { ModalityEncoder } from '../encoders/encoder.js';
import { Mlp } from '../nn/mlp.js';
import { outputUnits } from '../train/taskLoss.js';
import { encoderConfigOf } from './encoderConfig.js';
import type { FusionModel, ForwardOutput } from './model.js';

export class LateFusionBaseline implements FusionModel {
  readonly type = 'baseline';
  private readonly encoders: ModalityEncoder[];
  private readonly head: Mlp;

  constructor(
    private readonly spec: DatasetSpec,
    cfg: BaselineModelConfig,
    seed: number,
  ) {
    const rng = new Rng(seed);
    const encCfg = encoderConfigOf(cfg.encoder, cfg.d, cfg.dropout);
    this.encoders = spec.modalities.map((m) => makeEncoder(`enc.${m.name}`, m, encCfg, rng));
    const M = spec.modalities.length;
    this.head = new Mlp('head', { dims: [M * cfg.d + M, ...cfg.hidden, outputUnits(spec.task)], dropout: cfg.dropout }, rng);
  }

  forward(batch: Batch, opts: { training: boolean }): ForwardOutput {
    return tf.tidy(() => {
      const B = batch.size;
      const M = this.spec.modalities.length;
      const present = tf.tensor2d(batch.present, [B, M]); // [B, M]
      const pooled = this.encoders.map((enc, m) => {
        const { tokens, empty } = enc.apply(batch.modalities[this.spec.modalities[m]!.name]!, opts.training); // [B, L, d], [B]
        const keep = tf.mul(tf.sub(1, empty), present.slice([0, m], [B, 1]).reshape([B])); // [B]
        return tf.mul(tf.mean(tokens, 1), keep.reshape([B, 1])); // [B, d], zeros when missing
      });
      const features = tf.concat([...pooled, present], 1); // [B, M·d + M]
      const logits = this.head.apply(features, opts.training) as tf.Tensor2D; // [B, C]
      return { logits };
    });
  }

  variables(): tf.Variable[] {
    return [...this.encoders.flatMap((e) => e.variables()), ...this.head.variables()];
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

/**
 * The first step of the token-based fusion models (FuseMoE, REMIND): every modality's encoder on
 * a batch, and which modalities each sample effectively has (present in the batch and not empty
 * after encoding — those are the ones whose tokens the missing strategy replaces).
 */
import { tf } from '../engine/tf.js';
import type { Batch } from '../data/batchTypes.js';
import type { DatasetSpec } from '../data/schema.js';
import type { ModalityEncoder } from '../encoders/encoder.js';

export interface EncodedModalities {
  /** Per modality (spec order): tokens [B, L_j, d]. */
  tokens: tf.Tensor3D[];
  /** 1 where the sample effectively has the modality.  [B, M] */
  present: Float32Array;
  /** Per modality: the presence column as [B, 1, 1] for masking tokens. */
  keeps: tf.Tensor3D[];
}

/** Encode every modality of `batch` with `encoders` (one per spec modality, in spec order). */
export function encodeModalities(encoders: ModalityEncoder[], spec: DatasetSpec, batch: Batch, training: boolean): EncodedModalities {
  const B = batch.size;
  const M = spec.modalities.length;
  const present = new Float32Array(B * M);
  const keeps: tf.Tensor3D[] = [];
  const tokens = encoders.map((enc, j) => {
    const out = enc.apply(batch.modalities[spec.modalities[j]!.name]!, training); // [B, L_j, d], [B]
    const emptyData = out.empty.dataSync();
    for (let b = 0; b < B; b++) present[b * M + j] = batch.present[b * M + j]! > 0 && emptyData[b]! === 0 ? 1 : 0;
    keeps.push(tf.tensor3d(Array.from({ length: B }, (_, b) => present[b * M + j]!), [B, 1, 1])); // [B, 1, 1]
    return out.tokens;
  });
  return { tokens, present, keeps };
}

/** [B, 1, 1] 1 where modality j is absent (or empty) for sample b, from the effective presence [B·M]. */
export function absentOf(present: Float32Array, B: number, M: number, j: number): tf.Tensor3D {
  return tf.tensor3d(Array.from({ length: B }, (_, b) => 1 - present[b * M + j]!), [B, 1, 1]);
}

/**
 * Group-specific missing-modality embeddings (REMIND §3.1, following Flex-MoE): one learnable
 * d-vector B_k per modality-combination group k (bitmask over the spec's M modalities, 2^M
 * entries), broadcast by the model to every token slot of every modality the sample misses.
 *
 * Groups never seen in training: a mask `missing.groupSeen` [2^M] (saved with the weights)
 * records every group met by a training forward pass. It is a tf.js variable only so that it is
 * saved and restored by name; it never lies on a gradient path, so no optimizer step changes it
 * (it is not flagged non-trainable: tf.variableGrads returns null gradients for such variables). A group whose mask entry is 0
 * falls back to the DEFAULT embedding = the mean of the embeddings of all seen groups (before any
 * training: its own initial row). So an unseen combination at test time gets "a typical missing
 * embedding", never an index error and never an untrained random row. A group first met in a
 * later training pass (fine-tuning on new combinations) starts from that default.
 *
 * Residual use (`{ residual: true }`, REMIND's `groupEmbeddings: "residual"`): B_k is added to a
 * shared per-modality token, so every row starts at 0 and the default for an unseen group is the
 * zero vector (the shared token alone) instead of the mean.
 *
 * Variables: `missing.group` [2^M, d], `missing.groupSeen` [2^M] (0/1, set by training forwards).
 */
import { tf } from '../engine/tf.js';
import { param } from '../engine/params.js';
import type { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';

export class GroupMissingEmbedding {
  readonly numGroups: number;
  /** B_k for every group [2^M, d]. */
  readonly table: tf.Variable;
  /** 1 where the group was seen in a training forward pass [2^M] (no gradient ever reaches it). */
  readonly seen: tf.Variable;

  constructor(
    readonly name: string,
    numModalities: number,
    readonly dim: number,
    rng: Rng,
    /** Residual embeddings: zero-initialised rows, zero default for unseen groups. */
    readonly opts: { residual?: boolean } = {},
  ) {
    if (!(Number.isInteger(numModalities) && numModalities >= 1 && numModalities <= 16)) {
      throw new FlexiModalError(`group missing embeddings need 1–16 modalities, got ${numModalities}`, {
        where: `layer ${name}`,
        hint: `2^M embeddings are stored; with more modalities use model.missing = "learned"`,
      });
    }
    this.numGroups = 2 ** numModalities;
    const init = new Float32Array(this.numGroups * dim);
    if (!opts.residual) for (let i = 0; i < init.length; i++) init[i] = rng.normal() * 0.02;
    this.table = param(tf.tensor2d(init, [this.numGroups, dim]), true, `${name}.group`);
    this.seen = param(tf.zeros([this.numGroups]), true, `${name}.groupSeen`);
  }

  /**
   * Mark the groups of a training batch as seen (a no-op when all of them already are). A group
   * seen for the first time after others starts from the default (the mean of the seen groups'
   * embeddings) — so a group met only while its embedding is frozen (e.g. fine-tuning the router
   * alone on new combinations) keeps the default it had before.
   */
  markSeen(groupIds: Int32Array): void {
    const seen = Float32Array.from(this.seen.dataSync(), (v) => (v > 0 ? 1 : 0));
    const fresh = [...new Set(groupIds)].filter((g) => seen[g] === 0);
    if (fresh.length === 0) return;
    const nSeen = seen.reduce((a, v) => a + v, 0);
    tf.tidy(() => {
      // (residual rows of unseen groups never received a gradient: they are still 0, the default)
      if (nSeen > 0 && !this.opts.residual) {
        const mean = tf.div(tf.matMul(tf.tensor2d(seen, [1, this.numGroups]), this.table), nSeen); // [1, d]
        const isFresh = new Float32Array(this.numGroups);
        for (const g of fresh) isFresh[g] = 1;
        const f = tf.tensor2d(isFresh, [this.numGroups, 1]);
        this.table.assign(tf.add(tf.mul(this.table, tf.sub(1, f)), tf.mul(f, mean)));
      }
      const next = Float32Array.from(seen);
      for (const g of fresh) next[g] = 1;
      this.seen.assign(tf.tensor1d(next));
    });
  }

  /** Groups seen in training, ascending. */
  seenGroups(): number[] {
    const seen = this.seen.dataSync();
    return Array.from({ length: this.numGroups }, (_, g) => g).filter((g) => seen[g]! > 0);
  }

  /**
   * The embedding of each sample's group: [B, d]. In training the groups are first marked seen;
   * a group never seen in training gets the default (mean of the seen groups' embeddings; zeros
   * for residual embeddings).
   */
  lookup(groupIds: Int32Array, training: boolean): tf.Tensor2D {
    for (const g of groupIds) {
      if (!(Number.isInteger(g) && g >= 0 && g < this.numGroups)) {
        throw new FlexiModalError(`group id ${g} outside [0, ${this.numGroups})`, { where: `layer ${this.name}`, hint: 'the model was built for a dataset with a different number of modalities' });
      }
    }
    if (training) this.markSeen(groupIds);
    // > 0 rather than = 1: an exponential moving average of the weights (train.ema) averages the mask too
    const seen = Float32Array.from(this.seen.dataSync(), (v) => (v > 0 ? 1 : 0));
    const unseen = Array.from(groupIds).some((g) => seen[g] === 0);
    if (!unseen) return tf.gather(this.table, tf.tensor1d(groupIds, 'int32')) as tf.Tensor2D;
    const nSeen = seen.reduce((a, v) => a + v, 0);
    const fallbackIndex = this.numGroups; // row appended below
    const idx = Int32Array.from(groupIds, (g) => (seen[g] === 1 || nSeen === 0 ? g : fallbackIndex));
    const fallback = this.opts.residual
      ? tf.zeros([1, this.dim])
      : tf.div(tf.matMul(tf.tensor2d(seen, [1, this.numGroups]), this.table), Math.max(1, nSeen)); // [1, d]
    return tf.gather(tf.concat([this.table, fallback], 0), tf.tensor1d(idx, 'int32')) as tf.Tensor2D; // [B, d]
  }

  variables(): tf.Variable[] {
    return [this.table, this.seen];
  }
}

/** Bitmask of each sample's effectively present modalities from presence [B, M] (1 = present). */
export function presenceGroupIds(present: Float32Array, B: number, M: number): Int32Array {
  const ids = new Int32Array(B);
  for (let b = 0; b < B; b++) for (let j = 0; j < M; j++) if (present[b * M + j]! > 0) ids[b] |= 1 << j;
  return ids;
}

/**
 * The retrieval pool's embedding bank: one embedding per (pool sample, modality), computed in
 * inference mode with given encoders, plus which of them were observed and each sample's
 * modality combination. Inference retrieves from it; a saved model carries it
 * (`retrieval-bank.safetensors` + `retrieval-pool.json`) so it can retrieve without the data.
 *
 * Freshness: the bank remembers the identity of the encoder weights it was computed with
 * (tfjs gives a variable a new data id on every `assign`, i.e. every optimizer step, best-weight
 * restore or EMA swap), so `isFreshFor(vars)` is an exact "were the encoders changed since".
 */
import { tf } from '../../engine/tf.js';
import { encodeSafetensors, decodeSafetensors } from '../../engine/safetensors.js';
import { FlexiModalError } from '../../errors.js';

export const BANK_FILE = 'retrieval-bank.safetensors';
export const POOL_FILE = 'retrieval-pool.json';

/** Identity of a variable's current value (changes on assign). */
function valueId(v: tf.Variable): unknown {
  return (v as unknown as { dataId: unknown }).dataId;
}

export class EmbeddingBank {
  private weightIds: unknown[] = [];

  /**
   * @param ids pool sample ids [N]
   * @param groupIds modality bitmask of each pool sample [N]
   * @param embeddings [N, M, d] row-major
   * @param observed [N, M] 1 where the sample has the modality
   */
  constructor(
    readonly ids: string[],
    readonly groupIds: Int32Array,
    readonly embeddings: Float32Array,
    readonly observed: Uint8Array,
    readonly numModalities: number,
    readonly dim: number,
  ) {
    const N = ids.length;
    if (groupIds.length !== N || embeddings.length !== N * numModalities * dim || observed.length !== N * numModalities) {
      throw new FlexiModalError(`embedding bank arrays disagree: ${N} ids, ${groupIds.length} groups, ${embeddings.length} values (expected ${N * numModalities * dim}), ${observed.length} flags`, {
        where: 'retrieval bank',
      });
    }
  }

  get size(): number {
    return this.ids.length;
  }

  /** Remember that the bank matches the current values of `vars`. */
  markFresh(vars: tf.Variable[]): void {
    this.weightIds = vars.map(valueId);
  }

  /** Whether `vars` still hold the values the bank was computed with. */
  isFreshFor(vars: tf.Variable[]): boolean {
    return this.weightIds.length === vars.length && vars.every((v, i) => valueId(v) === this.weightIds[i]);
  }

  /** Embedding of pool sample i, modality m (a view). */
  row(i: number, m: number): Float32Array {
    const at = (i * this.numModalities + m) * this.dim;
    return this.embeddings.subarray(at, at + this.dim);
  }

  /** Mean embedding of modality m over the pool samples that observe it (zeros if none). [d] */
  modalityMean(m: number): Float32Array {
    const out = new Float32Array(this.dim);
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      if (!this.observed[i * this.numModalities + m]) continue;
      const r = this.row(i, m);
      for (let k = 0; k < this.dim; k++) out[k]! += r[k]!;
      n++;
    }
    if (n > 0) for (let k = 0; k < this.dim; k++) out[k]! /= n;
    return out;
  }

  /**
   * The bank as the two files of a model directory: `BANK_FILE` bytes (safetensors:
   * bank.embeddings [N, M, d], bank.observed [N, M]) and `POOL_FILE` text (ids, groupIds).
   */
  encodeFiles(): { bank: Uint8Array; pool: string } {
    const N = this.size;
    const tensors = new Map<string, tf.Tensor>([
      ['bank.embeddings', tf.tensor3d(this.embeddings, [N, this.numModalities, this.dim])],
      ['bank.observed', tf.tensor2d(Float32Array.from(this.observed), [N, this.numModalities])],
    ]);
    try {
      return { bank: encodeSafetensors(tensors), pool: JSON.stringify({ ids: this.ids, groupIds: Array.from(this.groupIds) }) + '\n' };
    } finally {
      tensors.forEach((t) => t.dispose());
    }
  }

  /**
   * Read a bank from the contents of its two files (see `encodeFiles`); checks it matches the
   * model's M and d. `where` names the files in errors. No file access (shared with the browser).
   */
  static decodeFiles(files: { bank: Uint8Array; pool: string }, numModalities: number, dim: number, where: { bank: string; pool: string }): EmbeddingBank {
    let pool: { ids: string[]; groupIds: number[] };
    try {
      pool = JSON.parse(files.pool) as { ids: string[]; groupIds: number[] };
    } catch (e) {
      throw new FlexiModalError(`${POOL_FILE} is not valid JSON (${(e as Error).message})`, { where: where.pool, hint: 're-save the model with `fleximodal train`' });
    }
    if (!pool || !Array.isArray(pool.ids) || !Array.isArray(pool.groupIds)) {
      throw new FlexiModalError(`${POOL_FILE} must hold {"ids": [...], "groupIds": [...]}`, { where: where.pool, hint: 're-save the model with `fleximodal train`' });
    }
    const t = decodeSafetensors(files.bank, where.bank);
    try {
      const e = t.get('bank.embeddings');
      const o = t.get('bank.observed');
      if (!e || !o || e.shape[1] !== numModalities || e.shape[2] !== dim || e.shape[0] !== pool.ids.length) {
        throw new FlexiModalError(`retrieval bank has shape [${e?.shape}] but the model needs [${pool.ids.length}, ${numModalities}, ${dim}]`, { where: where.bank });
      }
      return new EmbeddingBank(
        pool.ids,
        Int32Array.from(pool.groupIds),
        Float32Array.from(e.dataSync() as Float32Array),
        Uint8Array.from(o.dataSync(), (x) => (x > 0 ? 1 : 0)),
        numModalities,
        dim,
      );
    } finally {
      t.forEach((x) => x.dispose());
    }
  }
}

/**
 * Named weights as a safetensors file (https://github.com/huggingface/safetensors):
 *   8 bytes little-endian u64 header length N, N bytes of UTF-8 JSON header
 *   { name: { dtype: 'F32' | 'I32', shape: number[], data_offsets: [begin, end] }, ... ,
 *     "__metadata__"?: { string: string } },
 *   then the raw little-endian tensor bytes (offsets relative to the end of the header).
 * Readable by the Python `safetensors` package (numpy/PyTorch).
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { FlexiModalError } from '../errors.js';
import type { tf } from './tf.js';
import { encodeSafetensors, decodeSafetensors } from './safetensors.js';

export { encodeSafetensors, decodeSafetensors } from './safetensors.js';

/** Saves named tensors (e.g. from layers' `variables()`) to a safetensors file at `path`. */
export function saveWeights(path: string, tensors: Map<string, tf.Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Loads a safetensors file into named tensors (the caller owns and disposes them). */
export function loadWeights(path: string): Map<string, tf.Tensor> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new FlexiModalError(`cannot read weights file (${(e as Error).message})`, { where: path, hint: 'check the path' });
  }
  return decodeSafetensors(bytes, path);
}

/**
 * Weight files in the safetensors format: 8-byte little-endian header length, a JSON header
 * { name: { dtype: "F32" | "I32", shape, data_offsets: [begin, end] } }, then the raw
 * little-endian data. Readable by numpy / PyTorch safetensors tools.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tf } from './tf.js';
import { FlexiModalError } from '../errors.js';

interface HeaderEntry {
  dtype: 'F32' | 'I32';
  shape: number[];
  data_offsets: [number, number];
}

/** Write named tensors (float32 or int32) to `path`. */
export function saveWeights(path: string, tensors: Map<string, tf.Tensor>): void {
  const header: Record<string, HeaderEntry> = {};
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of [...tensors.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') {
      throw new FlexiModalError(`cannot save tensor '${name}' of dtype ${t.dtype}`, { where: path, hint: 'only float32 and int32 are supported' });
    }
    const data = t.dataSync() as Float32Array | Int32Array;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: t.dtype === 'float32' ? 'F32' : 'I32', shape: t.shape, data_offsets: [offset, offset + buf.length] };
    chunks.push(Buffer.from(buf)); // copy: the view may point into engine memory
    offset += buf.length;
  }
  let json = JSON.stringify({ __metadata__: { format: 'fleximodal' }, ...header });
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([head, Buffer.from(json), ...chunks]));
}

/** Read a safetensors file written by `saveWeights` (or any F32/I32 safetensors file). */
export function loadWeights(path: string): Map<string, tf.Tensor> {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (e) {
    throw new FlexiModalError(`cannot read weights (${(e as Error).message})`, { where: path, hint: 'check the model directory' });
  }
  const corrupt = (why: string) => new FlexiModalError(`not a valid safetensors file: ${why}`, { where: path, hint: 'the file is truncated or corrupt; save the model again' });
  if (file.length < 8) throw corrupt('shorter than its 8-byte header length');
  const n = Number(file.readBigUInt64LE(0));
  if (8 + n > file.length) throw corrupt(`header length ${n} exceeds the file size ${file.length}`);
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(file.subarray(8, 8 + n).toString('utf8'));
  } catch {
    throw corrupt('header is not JSON');
  }
  const dataStart = 8 + n;
  const out = new Map<string, tf.Tensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as HeaderEntry;
    const [begin, end] = e.data_offsets ?? [];
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin! <= end! && dataStart + end! <= file.length)) {
      out.forEach((t) => t.dispose());
      throw corrupt(`tensor '${name}' points outside the file`);
    }
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end! - begin! !== count * 4) {
      out.forEach((t) => t.dispose());
      throw corrupt(`tensor '${name}' has ${end! - begin!} bytes for shape [${e.shape}]`);
    }
    const bytes = file.subarray(dataStart + begin!, dataStart + end!);
    const aligned = new Uint8Array(bytes.length);
    aligned.set(bytes);
    if (e.dtype === 'F32') out.set(name, tf.tensor(new Float32Array(aligned.buffer), e.shape, 'float32'));
    else if (e.dtype === 'I32') out.set(name, tf.tensor(new Int32Array(aligned.buffer), e.shape, 'int32'));
    else {
      out.forEach((t) => t.dispose());
      throw corrupt(`tensor '${name}' has unsupported dtype ${String(e.dtype)}`);
    }
  }
  return out;
}

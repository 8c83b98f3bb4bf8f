/**
 * Named weights as safetensors bytes (https://github.com/huggingface/safetensors):
 *   8 bytes little-endian u64 header length N, N bytes of UTF-8 JSON header
 *   { name: { dtype: 'F32' | 'I32', shape: number[], data_offsets: [begin, end] }, ... ,
 *     "__metadata__"?: { string: string } },
 *   then the raw little-endian tensor bytes (offsets relative to the end of the header).
 * Readable by the Python `safetensors` package (numpy/PyTorch). No file access here (the browser
 * build uses it too); src/engine/weights.ts reads and writes the files.
 */
import { FlexiModalError } from '../errors.js';
import { tf } from './tf.js';

const utf8 = new TextEncoder();

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const DTYPES: Record<string, { tf: 'float32' | 'int32'; bytes: number }> = {
  F32: { tf: 'float32', bytes: 4 },
  I32: { tf: 'int32', bytes: 4 },
};

/** Serialises named tensors (float32 or int32) to safetensors bytes; names sorted for stability. */
export function encodeSafetensors(tensors: Map<string, tf.Tensor>, metadata?: Record<string, string>): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  const datas: Uint8Array[] = [];
  for (const name of names) {
    if (name === '__metadata__') throw new FlexiModalError(`tensor name '__metadata__' is reserved`, { where: 'saveWeights' });
    const t = tensors.get(name)!;
    const dtype = t.dtype === 'float32' ? 'F32' : t.dtype === 'int32' ? 'I32' : null;
    if (dtype === null) {
      throw new FlexiModalError(`tensor '${name}' has dtype ${t.dtype}; only float32 and int32 can be saved`, {
        where: 'saveWeights',
        hint: 'cast it to float32 or int32 first',
      });
    }
    const vals = t.dataSync() as Float32Array | Int32Array;
    const bytes = new Uint8Array(vals.buffer.slice(vals.byteOffset, vals.byteOffset + vals.byteLength));
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    datas.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (as the reference writer does).
  const pad = (8 - ((8 + utf8.encode(json).byteLength) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = utf8.encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const d of datas) {
    out.set(d, pos);
    pos += d.byteLength;
  }
  return out;
}

/** Parses safetensors bytes into named tensors; `where` names the source in error messages. */
export function decodeSafetensors(bytes: Uint8Array, where = 'safetensors'): Map<string, tf.Tensor> {
  const bad = (msg: string): FlexiModalError =>
    new FlexiModalError(msg, { where, hint: 'the file is truncated or not a safetensors file; re-save the weights' });
  if (bytes.byteLength < 8) throw bad(`file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(bytes.byteLength - 8)) throw bad(`header length ${n} exceeds the file size ${bytes.byteLength}`);
  const headerLen = Number(n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8').decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch (e) {
    throw bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw bad('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const out = new Map<string, tf.Tensor>();
  try {
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const e = raw as HeaderEntry;
      const dt = e && typeof e === 'object' ? DTYPES[e.dtype] : undefined;
      if (dt === undefined) throw bad(`tensor '${name}': unsupported or missing dtype ${JSON.stringify(e?.dtype)}`);
      if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0)) {
        throw bad(`tensor '${name}': invalid shape ${JSON.stringify(e.shape)}`);
      }
      const [b, end] = e.data_offsets ?? [];
      if (!Number.isInteger(b) || !Number.isInteger(end) || b! < 0 || end! < b!) {
        throw bad(`tensor '${name}': invalid data_offsets ${JSON.stringify(e.data_offsets)}`);
      }
      if (end! > dataLen) throw bad(`tensor '${name}': data_offsets end ${end} beyond the ${dataLen} data bytes (truncated file?)`);
      const size = e.shape.reduce((a, c) => a * c, 1);
      if ((end! - b!) !== size * dt.bytes) {
        throw bad(`tensor '${name}': ${end! - b!} bytes for shape [${e.shape}] of ${e.dtype} (expected ${size * dt.bytes})`);
      }
      // A real, aligned copy (a subarray may be a view into a shared pool, unaligned).
      const copy = new Uint8Array(end! - b!);
      copy.set(bytes.subarray(dataStart + b!, dataStart + end!));
      const vals = dt.tf === 'float32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
      out.set(name, tf.tensor(vals, e.shape, dt.tf));
    }
  } catch (err) {
    out.forEach((t) => t.dispose());
    throw err;
  }
  return out;
}

/** safetensors save/load: exact round trip, byte layout, clear errors for bad files. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/engine/tf.js';
import { decodeSafetensors, encodeSafetensors, loadWeights, saveWeights } from '../../src/engine/weights.js';
import { setup } from './helpers.js';
import { tempDirs } from '../helpers/tempDir.js';

const tmp = tempDirs();

before(setup);
const dir = tmp('fm-weights-');

test('round trip is exact (float32 incl. special values, int32, scalars, empty)', () => {
  const m = new Map<string, tf.Tensor>([
    ['enc.w', tf.tensor2d([[1.5, -2.25, 3e-38], [Infinity, -0, 1 / 3]])],
    ['enc.idx', tf.tensor1d([-7, 0, 2147483647], 'int32')],
    ['scalar', tf.scalar(0.1)],
    ['empty', tf.zeros([0, 4])],
    ['big', tf.randomNormal([37, 5], 0, 1, 'float32', 3)],
  ]);
  const path = join(dir, 'w.safetensors');
  saveWeights(path, m, { format: 'pt' });
  const back = loadWeights(path);
  assert.deepEqual([...back.keys()].sort(), [...m.keys()].sort());
  for (const [k, t] of m) {
    const u = back.get(k)!;
    assert.equal(u.dtype, t.dtype, k);
    assert.deepEqual(u.shape, t.shape, k);
    assert.deepEqual(Buffer.from((u.dataSync() as Float32Array).buffer), Buffer.from((t.dataSync() as Float32Array).buffer), k);
  }
  // Header layout: u64 LE length, JSON, data aligned to 8 bytes.
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  assert.deepEqual(header['__metadata__'], { format: 'pt' });
  assert.deepEqual(header['enc.idx'], { dtype: 'I32', shape: [3], data_offsets: header['enc.idx'].data_offsets });
  assert.equal(bytes.readFloatLE(8 + n + header['enc.w'].data_offsets[0]), 1.5);
  m.forEach((t) => t.dispose());
  back.forEach((t) => t.dispose());
});

test('truncated and corrupt files fail with clear errors', () => {
  const m = new Map<string, tf.Tensor>([['a', tf.tensor1d([1, 2, 3, 4])]]);
  const good = encodeSafetensors(m);
  m.forEach((t) => t.dispose());
  const path = join(dir, 'bad.safetensors');
  writeFileSync(path, good.subarray(0, good.length - 3));
  assert.throws(() => loadWeights(path), /truncated/);
  writeFileSync(path, good.subarray(0, 5));
  assert.throws(() => loadWeights(path), /shorter than the 8-byte header/);
  const corrupt = Buffer.from(good);
  corrupt[9] = 0x7b; // break the JSON
  corrupt[10] = 0x7b;
  assert.throws(() => decodeSafetensors(corrupt, 'x.safetensors'), /x\.safetensors.*not valid JSON/);
  const huge = Buffer.from(good);
  huge.writeBigUInt64LE(10n ** 12n, 0);
  assert.throws(() => decodeSafetensors(huge), /exceeds the file size/);
  assert.throws(() => loadWeights(join(dir, 'missing.safetensors')), /cannot read weights file/);
  const bool = new Map<string, tf.Tensor>([['b', tf.tensor1d([true, false], 'bool')]]);
  assert.throws(() => encodeSafetensors(bool), /only float32 and int32/);
  bool.forEach((t) => t.dispose());
  // Wrong byte count for the declared shape.
  const hdr = Buffer.from(JSON.stringify({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }));
  const buf = Buffer.alloc(8 + hdr.length + 8);
  buf.writeBigUInt64LE(BigInt(hdr.length), 0);
  hdr.copy(buf, 8);
  assert.throws(() => decodeSafetensors(buf), /8 bytes for shape \[3\]/);
});

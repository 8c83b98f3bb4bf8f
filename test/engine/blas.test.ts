/**
 * The native BLAS path (src/engine/blas.ts, kernels/blasMatMul.ts) against the wasm kernels, in
 * one process: every transpose case, batched and broadcast batch dims, empty dims, gradients
 * through them, and a tiny training run that must give the same metrics on both paths. Skips with
 * a printed reason when the addon is not built or no BLAS library is found. The fallback (library
 * or addon absent → wasm path, one clear line) runs always, in child processes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '../../src/engine/tf.js';
import { engineBlas, initEngine } from '../../src/engine/backend.js';
import { nativeMatMulInUse, useNativeMatMul } from '../../src/engine/fastKernels.js';
import { blasCallCount, blasMinWork, setBlasMinWork } from '../../src/engine/kernels/blasMatMul.js';
import { broadcastOffsets } from '../../src/engine/kernels/broadcastOffsets.js';
import { coreTypeFromCpuFlags, loadAddon } from '../../src/engine/blas.js';
import { freeCores, resolveThreads } from '../../src/engine/autoThreads.js';
import { Rng } from '../../src/engine/rng.js';
import { Linear } from '../../src/nn/linear.js';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';
import { isGeneralBroadcast, matMulCases, naiveMatMul, randn, valueAndGrads } from './helpers.js';
import { tempDirs } from '../helpers/tempDir.js';

const tmp = tempDirs();

const here = dirname(fileURLToPath(import.meta.url));
let skip: string | false = false;
const gate = blasMinWork;

before(async () => {
  await initEngine({ backend: 'wasm', threads: 1, blas: 'auto' });
  const s = engineBlas();
  skip = s.active ? false : `native BLAS unavailable: ${s.reason}`;
  if (skip) console.log(`# skipping native-vs-wasm tests — ${skip}`);
  else console.log(`# ${s.line}`);
});

after(() => {
  setBlasMinWork(gate);
  useNativeMatMul(engineBlas().active);
});

const T = (d: { values: Float32Array; shape: number[] }): tf.Tensor => tf.tensor(d.values, d.shape);

/** Runs `f` with BatchMatMul on BLAS (every size) or on wasm; returns shapes and values. */
function runPath(native: boolean, f: () => tf.Tensor | tf.Tensor[]): { shape: number[]; values: Float32Array }[] {
  useNativeMatMul(native);
  setBlasMinWork(native ? 0 : gate);
  return tf.tidy(() => {
    const out = f();
    return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape.slice(), values: t.dataSync() as Float32Array }));
  });
}

/** BLAS and wasm agree: same shapes, values within 1e-5·max(1, max |value|); BLAS really ran. */
function assertPathsAgree(label: string, f: () => tf.Tensor | tf.Tensor[], expectBlas = true): void {
  const want = runPath(false, f);
  const before = blasCallCount();
  const got = runPath(true, f);
  if (expectBlas) assert.ok(blasCallCount() > before, `${label}: BLAS was called`);
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    assert.deepEqual(got[i]!.shape, want[i]!.shape, `${label}: output ${i} shape`);
    let scale = 1;
    for (const v of want[i]!.values) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < want[i]!.values.length; j++) {
      const d = Math.abs(got[i]!.values[j]! - want[i]!.values[j]!);
      if (!(d <= 1e-5 * scale)) assert.fail(`${label}: output ${i}[${j}] BLAS ${got[i]!.values[j]} vs wasm ${want[i]!.values[j]}`);
    }
  }
}

test('native BatchMatMul = wasm on random 2-D shapes, every transpose case, with gradients', (t) => {
  if (skip) return t.skip(skip);
  const r = new Rng(13);
  let seed = 1;
  for (let c = 0; c < 12; c++) {
    const [m, k, n] = [1 + r.int(40), 1 + r.int(40), 1 + r.int(40)];
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const a = randn(tA ? [k, m] : [m, k], seed++);
        const b = randn(tB ? [n, k] : [k, n], seed++);
        assertPathsAgree(`${m}×${k}×${n} tA=${tA} tB=${tB}`, () => valueAndGrads((x, y) => tf.matMul(x!, y!, tA, tB), [T(a), T(b)]));
      }
    }
  }
});

test('native BatchMatMul = wasm on batched and broadcast batch dims, with gradients', (t) => {
  if (skip) return t.skip(skip);
  const cases: Array<[number[], number[]]> = [
    [[3, 4, 5], [3, 5, 2]],
    [[1, 4, 5], [6, 5, 2]], // A broadcast over B's batch
    [[6, 4, 5], [1, 5, 2]], // B broadcast (folded into one product when A is not transposed)
    [[6, 4, 5], [5, 2]], // [B,T,D]×[D,H]
    [[4, 5], [2, 5, 3]],
    [[2, 3, 4, 5], [2, 3, 5, 2]],
    [[2, 1, 4, 5], [3, 5, 2]], // general broadcast [2,1]×[3] → [2,3]
    [[1, 3, 4, 5], [2, 1, 5, 2]], // [1,3]×[2,1] → [2,3]
  ];
  for (const { sa, sb, a, b, tA, tB, label } of matMulCases(cases, 500)) {
    if (isGeneralBroadcast(sa, sb)) {
      // tfjs's own cpu and stock wasm kernels return too few values here ([2,1]×[3]: 24 of
      // 48); the native result is also checked against a plain loop
      const got = runPath(true, () => tf.matMul(T(a), T(b), tA, tB))[0]!;
      const want = naiveMatMul(a, b, tA, tB);
      assert.deepEqual(got.shape, want.shape, label);
      want.values.forEach((v, i) => assert.ok(Math.abs(got.values[i]! - v) <= 1e-5 * Math.max(1, Math.abs(v)), `${label}[${i}]`));
    }
    assertPathsAgree(label, () => valueAndGrads((x, y) => tf.matMul(x!, y!, tA, tB), [T(a), T(b)]));
  }
});

test('native BatchMatMul: empty dims give the wasm results (zeros for k = 0, empty outputs)', (t) => {
  if (skip) return t.skip(skip);
  const cases: Array<[number[], number[]]> = [[[0, 3], [3, 4]], [[2, 0], [0, 3]], [[0, 2, 3], [0, 3, 4]], [[3, 2, 0], [0, 5]], [[4, 3], [3, 0]]];
  for (const [sa, sb] of cases) {
    assertPathsAgree(`${sa}×${sb}`, () => tf.matMul(tf.ones(sa), tf.ones(sb)), false);
    const z = runPath(true, () => tf.matMul(tf.ones(sa), tf.ones(sb)));
    assert.ok(z[0]!.values.every((v) => v === 0), `${sa}×${sb}: zeros`);
  }
});

test('broadcastOffsets: numpy broadcasting of the batch dims, by hand', () => {
  // outer [2,1] × [3] → [2,3]; matrices of 4 bytes (a), 8 (b), 16 (c).
  const o = broadcastOffsets([2, 1], [3], [2, 3], 100, 200, 300, 4, 8, 16);
  const triples = Array.from({ length: 6 }, (_, i) => Array.from(o.slice(3 * i, 3 * i + 3)));
  assert.deepEqual(triples, [
    [100, 200, 300], [100, 208, 316], [100, 216, 332],
    [104, 200, 348], [104, 208, 364], [104, 216, 380],
  ]);
});

test('OPENBLAS_CORETYPE from the CPU flags', () => {
  assert.equal(coreTypeFromCpuFlags('flags\t\t: fpu sse avx2 fma avx512f avx512dq avx512bw avx512vl\n'), 'SKYLAKEX');
  assert.equal(coreTypeFromCpuFlags('flags\t\t: fpu sse avx2 fma avx512f\n'), 'HASWELL');
  assert.equal(coreTypeFromCpuFlags('flags\t\t: fpu sse sse2 sse3\n'), undefined);
  assert.equal(coreTypeFromCpuFlags(''), undefined);
});

test('the fused inference Linear uses the native BLAS product when it is active, same values as wasm', (t) => {
  if (skip) return t.skip(skip);
  const lin = new Linear('blas.inf.lin', { inDim: 24, outDim: 16 }, new Rng(5));
  tf.tidy(() => lin.b!.assign(T(randn([16], 6)) as tf.Tensor1D));
  const x = T(randn([3, 7, 24], 7));
  assertPathsAgree('FlexiLinear [3, 7, 24]·[24, 16]', () => lin.apply(x));
});

test('a tiny FuseMoE training run gives the same metrics on native BLAS and wasm (|Δ| ≤ 1e-4)', async (t) => {
  if (skip) return t.skip(skip);
  const cfg = (blas: string) =>
    parseConfig(
      {
        name: 'blas-vs-wasm',
        seeds: [1],
        engine: { blas, threads: 1 },
        data: { type: 'synthetic', n: 120, seed: 3, missingness: 'long-tail' },
        model: {
          type: 'fusemoe', d: 16, blocks: 1, heads: 2,
          encoder: { kind: 'utde', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 },
          moe: { numExperts: 4, topK: 2, hidden: 16 },
        },
        train: { epochs: 2, batchSize: 16, patience: 0 },
      },
      'test config',
    );
  const run = async (blas: string) => {
    const callsBefore = blasCallCount();
    const res = await runExperiment(cfg(blas), { baseDir: '.', outDir: tmp(`fm-blas-${blas}-`), log: () => {}, progress: false, saveModels: false });
    return { metrics: res.metrics, blasCalls: blasCallCount() - callsBefore, native: nativeMatMulInUse() };
  };
  setBlasMinWork(0);
  const wasm = await run('off');
  const native = await run('auto');
  setBlasMinWork(gate);
  assert.equal(wasm.native, false);
  assert.equal(wasm.blasCalls, 0, 'engine.blas "off" never calls BLAS');
  assert.equal(native.native, true);
  assert.ok(native.blasCalls > 1000, `the native run sent its products to BLAS (${native.blasCalls})`);
  let compared = 0;
  for (const split of ['train', 'val', 'test'] as const) {
    for (const [name, s] of Object.entries(wasm.metrics[split]!)) {
      const a = s.mean;
      const b = native.metrics[split]![name]!.mean;
      if (a === null || b === null) {
        assert.equal(a, b, `${split}.${name}`);
        continue;
      }
      assert.ok(Math.abs(a - b) <= 1e-4, `${split}.${name}: wasm ${a} vs native ${b}`);
      compared++;
    }
  }
  assert.ok(compared >= 10, `compared ${compared} metrics`);
});

function child(blas: string, env: Record<string, string> = {}): { summary: string; native: boolean; product: number[] } {
  const r = spawnSync(process.execPath, [join(here, 'blasChild.js'), blas], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  assert.equal(r.status, 0, `child exited ${r.status}: ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `child printed a result: ${r.stdout} ${r.stderr}`);
  return JSON.parse(line.slice(7));
}

test('fallback: a library that is absent → wasm path, with a line saying why and how to fix it', () => {
  const r = child('/nonexistent.so');
  assert.equal(r.native, false);
  assert.deepEqual(r.product, [19, 22, 43, 50]);
  assert.match(r.summary, /matmul on wasm/);
  // Without the addon (e.g. `.ci/run`'s second pass) the line names that cause instead.
  if (loadAddon() !== null) assert.match(r.summary, /engine\.blas "\/nonexistent\.so" could not be loaded/);
  else assert.match(r.summary, /the native addon was not built/);
  assert.match(r.summary, /libopenblas0-pthread/);
});

test('fallback: addon not built → wasm path, with a line saying so', () => {
  const r = child('auto', { FLEXIMODAL_BLAS_ADDON: '/nonexistent/fleximodal_blas.node' });
  assert.equal(r.native, false);
  assert.deepEqual(r.product, [19, 22, 43, 50]);
  assert.match(r.summary, /matmul on wasm — native BLAS off: the native addon was not built/);
});

test('engine.blas "off" → wasm path; "auto" → native when the library is there', (t) => {
  const off = child('off');
  assert.equal(off.native, false);
  assert.match(off.summary, /engine\.blas is "off"/);
  if (skip) return t.skip(skip);
  const on = child('auto');
  assert.equal(on.native, true);
  assert.match(on.summary, /matmul on native BLAS \(libopenblas|libblis|libmkl/);
  assert.deepEqual(on.product, [19, 22, 43, 50]);
});

test("engine.threads 'auto': free cores = cores − load, BLAS gets them when active, wasm otherwise", () => {
  assert.equal(freeCores(2, 0.1), 2);
  assert.equal(freeCores(2, 0.9), 1);
  assert.equal(freeCores(2, 20), 1);
  assert.equal(freeCores(16, 3.2), 13);
  assert.deepEqual(resolveThreads('auto', () => true, 2), { wasm: 1, blas: 2 });
  assert.deepEqual(resolveThreads('auto', () => false, 2), { wasm: 2, blas: 1 });
  assert.deepEqual(resolveThreads('auto', () => false, 13), { wasm: 4, blas: 1 });
  assert.deepEqual(resolveThreads(3, () => true, 13), { wasm: 3, blas: 3 });
});

/**
 * The Python snippet of docs/EXPORT.md ("ONNX"), run with python3 + numpy (onnxruntime for Python is
 * not installed on these machines: its two onnxruntime lines are left out): the tensors it builds
 * from raw records and the sidecar equal `recordsToOnnxTensors`'s (which the other tests feed to
 * onnxruntime-node). Skips with a printed reason without python3 or numpy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/parse.js';
import { runExperiment } from '../../src/run/experiment.js';
import { loadDataset } from '../../src/data/load.js';
import { sampleToJson } from '../../src/data/sources/jsonl.js';
import { loadModel } from '../../src/models/persist.js';
import { exportOnnx, recordsToOnnxTensors } from '../../src/export/onnx/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The snippet's tensor-building part: the ```python block without onnxruntime, up to `records =`. */
function snippetPrelude(): string {
  const doc = readFileSync(join(repoRoot, 'docs', 'EXPORT.md'), 'utf8');
  const block = /```python\n([\s\S]*?)```/.exec(doc)![1]!;
  const lines = block.split('\n');
  const stop = lines.findIndex((l) => l.startsWith('records ='));
  return lines
    .slice(0, stop)
    .filter((l) => !l.includes('ort.InferenceSession'))
    .map((l) => l.replace(', onnxruntime as ort', ''))
    .join('\n');
}

test('the Python snippet of docs/EXPORT.md ("ONNX") builds the same tensors as recordsToOnnxTensors', async (t) => {
  const py = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (py.status !== 0) {
    const why = `python3 with numpy is not available (${(py.error?.message ?? py.stderr).trim().split('\n').pop()})`;
    console.log(`# skipped: ${why}`);
    return t.skip(why);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fm-onnx-py-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const synthetic = { type: 'synthetic', n: 80, seed: 6, missingness: 'long-tail' };
  const cfg = parseConfig({ seeds: [1], data: synthetic, model: { type: 'baseline', d: 8, hidden: [8], encoder: { kind: 'mean-pool-mlp' } }, train: { epochs: 1, batchSize: 16, patience: 0 } }, 'python snippet test');
  await runExperiment(cfg, { baseDir: '.', outDir: join(dir, 'run'), log: () => {}, progress: false });
  const modelDir = join(dir, 'run', 'seeds', '1', 'model');
  await exportOnnx(modelDir, join(dir, 'model.onnx'));
  const ds = await loadDataset(synthetic as never, '.');
  const records = ds.samples.slice(0, 30).map((s) => sampleToJson(ds.spec, s));
  writeFileSync(join(dir, 'data.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const script = `${snippetPrelude()}
records = [json.loads(line) for line in open("data.jsonl")]
out = {k: {"dims": list(v.shape), "data": v.astype(float).ravel().tolist()} for k, v in tensors(records).items()}
json.dump(out, open("tensors.json", "w"))
`;
  writeFileSync(join(dir, 'snippet.py'), script);
  execFileSync('python3', ['snippet.py'], { cwd: dir, stdio: 'pipe' });
  const fromPython = JSON.parse(readFileSync(join(dir, 'tensors.json'), 'utf8')) as Record<string, { dims: number[]; data: number[] }>;
  const { meta, model } = loadModel(modelDir);
  model.dispose();
  const ours = recordsToOnnxTensors(meta, records).tensors;
  assert.deepEqual(Object.keys(fromPython).sort(), Object.keys(ours).sort());
  for (const [name, v] of Object.entries(ours)) {
    assert.deepEqual(fromPython[name]!.dims, v.dims, `${name} dims`);
    v.data.forEach((x, i) => assert.ok(Math.abs(x - fromPython[name]!.data[i]!) < 1e-5, `${name}[${i}]: ours ${x}, python ${fromPython[name]!.data[i]}`));
  }
});

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { fitNormalizer } from '../../src/data/normalize.js';
import { makeBatch } from '../../src/data/batch.js';
import { parseConfig } from '../../src/config/parse.js';
import { buildModel } from '../../src/models/build.js';
import type { RemindModel } from '../../src/models/remind.js';
import { taskLoss } from '../../src/train/taskLoss.js';
import { cosine, dominantDirection, perExampleGradients, topEigenvector } from '../../src/analysis/gradientConsistency.js';
import { groupsWithKind } from '../../src/analysis/gradientConsistencyMonitor.js';
import { topExpertsPattern, topIndices } from '../../src/analysis/topExperts.js';
import { runExperiment } from '../../src/run/experiment.js';
import { meanConsistencyOverSeeds, writeConsistencyComparison } from '../../src/analysis/gradientConsistencyCompare.js';
import type { Sample } from '../../src/data/schema.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

test('dominant direction by hand: J = [[1,0],[1,0],[0,1]] → u = (1,1,0)/√2, g = (√2, 0); GC of the groups', () => {
  const J = [Float32Array.from([1, 0]), Float32Array.from([1, 0]), Float32Array.from([0, 1])];
  const g = dominantDirection(J);
  assert.ok(Math.abs(g[0]! - Math.SQRT2) < 1e-6 && Math.abs(g[1]!) < 1e-6);
  assert.ok(Math.abs(cosine(g, dominantDirection([J[2]!]))) < 1e-6); // orthogonal tail
  assert.ok(Math.abs(cosine(g, dominantDirection([J[0]!, J[1]!])) - 1) < 1e-6); // aligned head
  assert.ok(Math.abs(cosine(g, dominantDirection([Float32Array.from([1, 1])])) - Math.SQRT1_2) < 1e-6);
  // sign: the direction follows the summed gradient, whatever sign power iteration lands on
  const neg = dominantDirection([Float32Array.from([-2, 0]), Float32Array.from([-1, 0])]);
  assert.ok(neg[0]! < 0);
  // power iteration on a diagonal matrix picks the largest eigenvalue's axis
  const u = topEigenvector(Float64Array.from([1, 0, 0, 0, 3, 0, 0, 0, 2]), 3);
  assert.ok(Math.abs(Math.abs(u[1]!) - 1) < 1e-6);
  assert.ok(Number.isNaN(cosine([0, 0], [1, 0])));
});

const data = generateSynthetic({ n: 40, seed: 3, missingness: { demo: 0.3, vitals: 0.3, notes: 0.5, labs: 0.4 } });
const norm = fitNormalizer(data.spec, data.samples);
const toBatch = (s: Sample[]) => makeBatch(data.spec, s, norm);
const lossOpts = { type: 'default' as const, posWeight: 1, focalGamma: 2 };

function remind(seed = 7) {
  const cfg = parseConfig(
    { data: { type: 'synthetic' }, model: { type: 'remind', d: 16, blocks: 1, heads: 2, dropout: 0, encoder: { kind: 'mean-pool-mlp' }, softMoe: { numExperts: 4, hidden: 8 } } },
    'test',
  );
  return buildModel(cfg.model, data.spec, seed) as RemindModel;
}

test('per-example gradients average to the batch gradient of the mean loss', () => {
  const model = remind();
  try {
    const samples = data.samples.slice(0, 6);
    const params = model.variables().filter((v) => v.name.startsWith('fusion.'));
    const J = perExampleGradients(model, data.spec.task, samples, toBatch, params, lossOpts);
    const batch = toBatch(samples);
    const { grads } = tf.variableGrads(() => taskLoss(data.spec.task, model.forward(batch, { training: false }).logits, batch.labels, lossOpts), params);
    let at = 0;
    let maxErr = 0;
    let maxAbs = 0;
    for (const v of params) {
      const g = grads[v.name]!.dataSync();
      for (let k = 0; k < v.size; k++) {
        const mean = J.reduce((a, row) => a + row[at + k]!, 0) / J.length;
        maxErr = Math.max(maxErr, Math.abs(mean - g[k]!));
        maxAbs = Math.max(maxAbs, Math.abs(g[k]!));
      }
      at += v.size;
    }
    assert.ok(maxAbs > 0);
    assert.ok(maxErr < 1e-5 * Math.max(1, maxAbs), `max error ${maxErr}`);
    tf.dispose(Object.values(grads));
  } finally {
    model.dispose();
  }
});

test('head/tail groups: tail = share below the fraction; top-experts pattern counts k experts per sample', () => {
  const groups = groupsWithKind(data.spec, data.samples, 0.15);
  assert.equal(groups.reduce((a, g) => a + g.count, 0), data.samples.length);
  for (const g of groups) assert.equal(g.kind, g.count / data.samples.length < 0.15 ? 'tail' : 'head');
  assert.deepEqual(topIndices([0.1, 0.5, 0.2, 0.5], 0, 4, 3), [1, 3, 2]);
  const model = remind();
  try {
    const p = topExpertsPattern(model, data.spec, data.samples, toBatch, 3, 1, 16);
    assert.equal(p.blocks.length, 1);
    const groupsSeen = p.blocks[0]!.groups;
    assert.equal(groupsSeen.reduce((a, g) => a + g.n, 0), data.samples.length);
    for (const g of groupsSeen) assert.ok(Math.abs(g.freq.reduce((a, f) => a + f, 0) - 3) < 1e-9, 'each sample has 3 top experts');
  } finally {
    model.dispose();
  }
});

test('a REMIND run writes gradient consistency, residual-switch and top-experts files and report sections', async () => {
  const out = mkdtempSync(join(tmpdir(), 'remind-run-'));
  try {
    const cfg = parseConfig(
      {
        name: 'remind-test',
        seeds: [1],
        data: { type: 'synthetic', n: 120, seed: 2, missingness: 'long-tail' },
        model: { type: 'remind', d: 16, heads: 2, dropout: 0, encoder: { kind: 'mean-pool-mlp' }, softMoe: { numExperts: 4, hidden: 16 }, residualRouting: { threshold: 0.5 } },
        train: { epochs: 2, batchSize: 16, patience: 0 },
        analysis: { gradientConsistency: { enabled: true, every: 1, samples: 12, perGroup: 4, minGroupSize: 2, maxGroups: 4 }, topExperts: { minGroupSize: 1 } },
      },
      'test',
    );
    const lines: string[] = [];
    await runExperiment(cfg, { baseDir: '.', outDir: out, log: (l) => lines.push(l), progress: false });
    const gc = JSON.parse(readFileSync(join(out, 'gradient-consistency.json'), 'utf8'));
    assert.deepEqual(gc.seeds[0].records.map((r: { epoch: number }) => r.epoch), [1, 2]);
    for (const r of gc.seeds[0].records) {
      assert.ok(r.groups.length > 0);
      for (const g of r.groups) assert.ok(g.gc >= -1 - 1e-9 && g.gc <= 1 + 1e-9, `GC ${g.gc}`);
    }
    const sw = JSON.parse(readFileSync(join(out, 'residual-switch.json'), 'utf8'));
    const epoch1 = sw.seeds[0].records[0].groups;
    const trainN = Number(/split \(seed \d+\): train (\d+)/.exec(lines.join('\n'))![1]);
    assert.equal(epoch1.reduce((a: number, g: { total: number }) => a + g.total, 0), trainN, 'every training sample routed once per epoch');
    assert.ok(existsSync(join(out, 'top-experts.json')));
    for (const f of ['plots/gradient-consistency.svg', 'plots/top-experts-block0.svg']) assert.ok(existsSync(join(out, f)), f);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    for (const h of ['Gradient consistency', 'Residual routing switch', 'Top experts per modality combination']) assert.ok(md.includes(h), h);
    assert.ok(lines.some((l) => l.includes('gradient consistency (epoch 2)')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('gradient consistency of several runs: per-epoch means over seeds, NaN seeds skipped; one SVG', async () => {
  const rec = (epoch: number, headMean: number, tailMean: number) => ({ epoch, groups: [], headMean, tailMean, seconds: 0 });
  const m = meanConsistencyOverSeeds([{ records: [rec(1, 0.9, 0.2), rec(3, 0.8, NaN)] }, { records: [rec(1, 0.7, 0.4), rec(3, 0.6, 0.1)] }]);
  assert.deepEqual(m.map((p) => p.epoch), [1, 3]);
  assert.ok(Math.abs(m[0]!.head - 0.8) < 1e-12 && Math.abs(m[0]!.tail - 0.3) < 1e-12);
  assert.ok(Math.abs(m[1]!.tail - 0.1) < 1e-12);
  const dir = mkdtempSync(join(tmpdir(), 'gc-compare-'));
  try {
    const run = join(dir, 'a');
    mkdirSync(run);
    writeFileSync(join(run, 'gradient-consistency.json'), JSON.stringify({ seeds: [{ seed: 1, records: [rec(1, 0.9, 0.2)] }] }));
    assert.equal(await writeConsistencyComparison(dir, [{ name: 'a', dir: run }, { name: 'b', dir: join(dir, 'missing') }]), 'compare-gradient-consistency.svg');
    assert.match(readFileSync(join(dir, 'compare-gradient-consistency.svg'), 'utf8'), /^<svg/);
    assert.equal(await writeConsistencyComparison(dir, [{ name: 'b', dir: join(dir, 'missing') }]), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linearSpacedSizes, logSpacedSizes, runRateStudy } from '../../src/theory/rateStudy.js';
import type { MlogitStudyConfig } from '../../src/theory/rateUnit.js';
import { olsSlope } from '../../src/theory/linalg.js';
import { parseMlogitOptions, parseGaussianOptions, parseEmTraceOptions, runMlogitSimulation } from '../../src/cli/simulate.js';

const cfg: MlogitStudyConfig = {
  kind: 'mlogit-moe',
  regime: 1,
  k: 3,
  gate: 'standard',
  seed: 1,
  init: 'truth',
  initSd: 0.01,
  tol: 1e-6,
  maxIter: 2000,
  newtonSteps: 10,
  accelerate: 'none',
  r: 2,
};

test('reduced Regime-1 rate study: slope near the parametric −0.5 (< 60 s)', async () => {
  // CPU time, not wall time: the bound must hold on a loaded machine too (workers: 1 = this process)
  const cpu0 = process.cpuUsage();
  const sizes = logSpacedSizes(3000, 40000, 4);
  const res = await runRateStudy(cfg, { sizes, reps: 6, workers: 1 });
  const used = process.cpuUsage(cpu0);
  const secs = (used.user + used.system) / 1e6;
  console.log(`reduced study: slope ${res.slope.toFixed(3)} ± ${res.slopeStderr.toFixed(3)}, mean D2 ${res.meanLoss.map((v) => v.toFixed(3)).join(' ')}, ${secs.toFixed(1)} s CPU`);
  assert.ok(Number.isFinite(res.slope) && Number.isFinite(res.slopeStderr));
  // Under Regime 1 the MLE converges in D₂ at the parametric rate Õ(n^(−1/2)) (seed 002 Thm 3.1),
  // a log-log slope of −0.5. Measured with this configuration: −0.499 ± 0.232. A rate that
  // regressed towards 0 (or a loss that stopped shrinking) fails the upper bound.
  assert.ok(res.slope < -0.3 && res.slope > -0.8, `slope ${res.slope} (expected ≈ −0.5)`);
  assert.ok(secs < 60, `${secs.toFixed(1)} s of CPU time`);
});

test('study results do not depend on the worker count; the per-size cache resumes', async () => {
  const sizes = [1500, 2500];
  const one = await runRateStudy(cfg, { sizes, reps: 3, workers: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'theory-study-'));
  try {
    const two = await runRateStudy(cfg, { sizes, reps: 3, workers: 2, outDir: dir });
    assert.deepEqual(two.meanLoss, one.meanLoss);
    assert.ok(existsSync(join(dir, 'cache', 'size-1500.json')));
    const again = await runRateStudy(cfg, { sizes, reps: 3, workers: 2, outDir: dir });
    assert.deepEqual(again.cachedSizes, sizes);
    assert.deepEqual(again.meanLoss, one.meanLoss);
    // a different configuration does not reuse the cache
    const other = await runRateStudy({ ...cfg, seed: 2 }, { sizes: [1500], reps: 3, workers: 1, outDir: dir });
    assert.deepEqual(other.cachedSizes, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('simulate mlogit-moe writes result.json with slope, sizes, meanLoss and config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'theory-cli-'));
  try {
    const o = parseMlogitOptions({ nMin: '2e3', nMax: '4e3', sizes: '2', reps: '2', workers: '1', out: dir, quiet: true });
    const lines: string[] = [];
    await runMlogitSimulation(o, (s) => lines.push(s));
    const r = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['slope', 'slopeStderr', 'sizes', 'meanLoss', 'config']) assert.ok(key in r, key);
    assert.deepEqual(r.sizes, [2000, 4000]);
    assert.ok(readFileSync(join(dir, 'rate.svg'), 'utf8').startsWith('<svg'));
    assert.match(lines.join('\n'), /slope of log mean D2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI options are validated and errors name the flag', () => {
  assert.throws(() => parseMlogitOptions({ regime: '3' }), /--regime/);
  assert.throws(() => parseMlogitOptions({ reps: '0' }), /--reps/);
  assert.throws(() => parseMlogitOptions({ nMin: 'abc' }), /--n-min/);
  assert.throws(() => parseMlogitOptions({ gate: 'relu' }), /--gate/);
  assert.throws(() => parseMlogitOptions({ nMin: '1e5', nMax: '1e4' }), /--n-max/);
  assert.throws(() => parseGaussianOptions({ gate: 'gaussian' }), /--gate/);
  assert.throws(() => parseEmTraceOptions({ gates: 'standard,foo' }), /--gates/);
  const o = parseMlogitOptions({ nMin: '1e4' });
  assert.equal(o.nMin, 10000);
  assert.equal(o.reps, 40);
});

test('log-spaced sizes and the OLS slope', () => {
  assert.deepEqual(logSpacedSizes(1e4, 1e5, 3), [10000, 31623, 100000]);
  const x = [1, 2, 3, 4];
  const f = olsSlope(x, x.map((v) => 2 - 0.5 * v));
  assert.ok(Math.abs(f.slope + 0.5) < 1e-12 && f.slopeStderr < 1e-12);
  // hand-computed stderr: y = [0, 1, 1, 3] on x = [1..4]: slope 0.9, RSS 0.7, sxx 5 → se = sqrt(0.35/5)
  const g = olsSlope(x, [0, 1, 1, 3]);
  assert.ok(Math.abs(g.slope - 0.9) < 1e-12 && Math.abs(g.slopeStderr - Math.sqrt(0.35 / 5)) < 1e-12);
});

test('linearSpacedSizes is np.linspace rounded; new mlogit flags parse with defaults', () => {
  assert.deepEqual(linearSpacedSizes(1e4, 1e5, 4), [10000, 40000, 70000, 100000]);
  assert.deepEqual(linearSpacedSizes(1e4, 1e5, 1), [100000]);
  const d = parseMlogitOptions({});
  assert.equal(d.initBeta0, 'split');
  assert.equal(d.initGroups, 'random');
  assert.equal(d.gauge, 'reference-cell');
  assert.equal(d.spacing, 'log');
  const o = parseMlogitOptions({ initBeta0: 'truth', initGroups: 'pin-last', gauge: 'none', spacing: 'linear' });
  assert.equal(o.spacing, 'linear');
  assert.throws(() => parseMlogitOptions({ spacing: 'cubic' }), /--spacing/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/engine/rng.js';
import { parseGateTransform } from '../../src/theory/gateTransform.js';
import { fitMlogitBoundedMle } from '../../src/theory/boundedMle.js';
import { mlogitFreeParams } from '../../src/theory/fisher.js';
import { fitMlogitEm, initFromTruth } from '../../src/theory/mlogitEm.js';
import { mlogitLogLik, sampleMlogitMoe } from '../../src/theory/mlogitMoe.js';
import { median, runRateStudy } from '../../src/theory/rateStudy.js';
import type { MlogitStudyConfig } from '../../src/theory/rateUnit.js';
import { regimeTruth } from '../../src/theory/regimes.js';
import { parseMlogitOptions, runMlogitSimulation } from '../../src/cli/simulate.js';
import { parseFisherOptions, runFisherSimulation } from '../../src/cli/simulateFisher.js';
import { FlexiModalError } from '../../src/errors.js';

const truth1 = regimeTruth(1, parseGateTransform('standard'));

test('EM stopping protocols: absolute tolerance stops on |Δℓ| ≤ tol; a budget runs exactly N iterations', () => {
  const rng = new Rng(3);
  const data = sampleMlogitMoe(truth1, 3000, rng);
  const init = initFromTruth(truth1, 3, rng, 0.05);
  const abs = fitMlogitEm(data, init, { tol: 1e-2, stopRule: 'absolute', maxIter: 2000, trace: true });
  const tr = abs.trace!;
  const last = tr.length - 1;
  assert.ok(abs.converged && Math.abs(tr[last]! - tr[last - 1]!) <= 1e-2);
  for (let i = 1; i < last; i++) assert.ok(Math.abs(tr[i]! - tr[i - 1]!) > 1e-2);
  // the relative rule with the same number stops far earlier (its threshold is 1e-4·|ℓ| ≈ 0.2 > 0.01)
  const rel = fitMlogitEm(data, init, { tol: 1e-4, maxIter: 2000 });
  assert.ok(rel.iterations <= abs.iterations, `${rel.iterations} vs ${abs.iterations}`);
  for (const N of [1, 3]) {
    const b = fitMlogitEm(data, init, { maxIter: N, fixedIterations: true, trace: true });
    assert.equal(b.iterations, N);
    assert.equal(b.trace!.length, N + 1);
  }
});

test('bounded MLE: stays in the box, raises ℓ, ends on a tight bound, and matches converged EM when the bound is loose', () => {
  const rng = new Rng(5);
  const data = sampleMlogitMoe(truth1, 2000, rng);
  const init = initFromTruth(truth1, 2, rng, 0.05);
  const tight = fitMlogitBoundedMle(data, init, { bound: 1.5 });
  assert.ok(mlogitFreeParams(tight.params).every((v) => Math.abs(v) <= 1.5 + 1e-12));
  assert.ok(tight.onBoundCount > 0, 'the truth has β₁ = 3 > 1.5');
  assert.ok(tight.logLik >= mlogitLogLik(init, data) - 1e-9);
  assert.ok(Math.abs(tight.logLik - mlogitLogLik(tight.params, data)) < 1e-9 * Math.abs(tight.logLik));
  // k = 1: the likelihood is concave (a multinomial logistic regression); MLE = EM's fixed point
  const one = regimeTruth(1, parseGateTransform('standard'));
  const k1 = { ...one, k: 1, beta0: one.beta0.slice(0, 1), beta1: one.beta1.slice(0, 1), a: one.a.slice(0, 2), b: one.b.slice(0, 2) };
  const mle = fitMlogitBoundedMle(data, k1, { bound: 100 });
  const em = fitMlogitEm(data, k1, { tol: 1e-14, maxIter: 200 });
  assert.equal(mle.onBoundCount, 0);
  assert.ok(Math.abs(mle.logLik - em.logLik) < 1e-6, `${mle.logLik} vs ${em.logLik}`);
});

test('median helper', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('rate study reports mean and median D₂, E_X TV and their slopes; the bounded MLE counts fits on the bound', async () => {
  const cfg: MlogitStudyConfig = { kind: 'mlogit-moe', regime: 1, k: 3, gate: 'standard', seed: 1, init: 'truth', initSd: 0.01, tol: 1e-6, maxIter: 1, newtonSteps: 10, accelerate: 'none', r: 2, stop: 'budget' };
  const res = await runRateStudy(cfg, { sizes: [500, 1000, 2000], reps: 3, workers: 1 });
  assert.equal(res.medianLoss.length, 3);
  assert.ok(res.perSize.every((s) => s.meanIterations === 1));
  assert.ok(res.meanTv.every((v) => v > 0 && v < 0.2));
  assert.ok([res.slopes.mean, res.slopes.median, res.slopes.tvMean, res.slopes.tvMedian].every((f) => Number.isFinite(f.slope)));
  assert.equal(res.slopes.mean.slope, res.slope);
  const bounded = await runRateStudy({ ...cfg, stop: undefined, maxIter: 30, bound: 2 }, { sizes: [800], reps: 2, workers: 1 });
  assert.equal(bounded.perSize[0]!.onBoundCount, 2, 'β₁ = 3 cannot be reached inside |θ| ≤ 2');
});

test('simulate mlogit-moe protocol flags: --em-budget, --stop absolute, --bound; conflicting flags are refused', async () => {
  assert.throws(() => parseMlogitOptions({ emBudget: '1', stop: 'absolute' }), FlexiModalError);
  assert.throws(() => parseMlogitOptions({ bound: '10', emBudget: '2' }), FlexiModalError);
  assert.throws(() => parseMlogitOptions({ bound: '-1' }), /--bound/);
  const dir = mkdtempSync(join(tmpdir(), 'theory-protocol-'));
  try {
    const o = parseMlogitOptions({ nMin: '1e3', nMax: '2e3', sizes: '2', reps: '2', workers: '1', emBudget: '2', out: dir, quiet: true });
    const lines: string[] = [];
    const res = await runMlogitSimulation(o, (s) => lines.push(s));
    assert.equal(res.config.maxIter, 2);
    const json = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { medianLoss: number[]; slopes: { median: { slope: number } }; config: { stop: string } };
    assert.equal(json.config.stop, 'budget');
    assert.equal(json.medianLoss.length, 2);
    assert.match(readFileSync(join(dir, 'table.txt'), 'utf8'), /median D2[\s\S]*slope of log median D2[\s\S]*E_X TV/);
    const abs = parseMlogitOptions({ stop: 'absolute', tol: '1e-3' });
    assert.equal(abs.stop, 'absolute');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('simulate fisher writes the spectrum and standard errors; Monte Carlo agrees with quadrature; bad --params is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'theory-fisher-'));
  try {
    const gl = runFisherSimulation(parseFisherOptions({ regime: '2', gate: 'sigmoid', out: dir }), () => {});
    const json = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { diagnostics: { eigenvalues: number[]; seSqrtN: number[] } };
    assert.equal(json.diagnostics.eigenvalues.length, 6);
    assert.match(readFileSync(join(dir, 'table.txt'), 'utf8'), /Gauss–Legendre, 64 nodes/);
    const mc = runFisherSimulation(parseFisherOptions({ regime: '2', gate: 'sigmoid', quadrature: 'monte-carlo', mcN: '2e5' }), () => {});
    assert.ok(Math.abs(mc.diagnostics.eigenvalues[5]! / gl.diagnostics.eigenvalues[5]! - 1) < 0.02);
    // evaluating at given atoms (a fitted small MoE) reproduces the truth's diagnostics when given the truth
    const file = join(dir, 'atoms.json');
    writeAtoms(file, gl.atoms);
    const again = runFisherSimulation(parseFisherOptions({ params: file, gate: 'sigmoid' }), () => {});
    assert.deepEqual(again.diagnostics.eigenvalues, gl.diagnostics.eigenvalues);
    writeAtoms(file, [{ beta0: 0 }]);
    assert.throws(() => runFisherSimulation(parseFisherOptions({ params: file }), () => {}), /atoms\[0\]/);
    assert.throws(() => parseFisherOptions({ seTol: '0' }), /--se-tol/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function writeAtoms(file: string, atoms: unknown): void {
  writeFileSync(file, JSON.stringify({ atoms }));
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { CollapseDetector, expertPairDistances } from '../../src/train/collapseDetector.js';
import type { EpochEndInfo } from '../../src/train/callbacks.js';

type Fake = { dataSync(): Float64Array };
const v = (...x: number[]): Fake => ({ dataSync: () => Float64Array.from(x) });

function info(epoch: number, trainLoss: number, weights: Map<string, Fake>, warnings: string[]): EpochEndInfo {
  return { epoch, trainLoss, valMetrics: {}, weights: weights as unknown as EpochEndInfo['weights'], warn: (m) => warnings.push(m) };
}

test('pair distances follow the naming convention and are hand-computable', () => {
  const w = new Map<string, Fake>([
    ['fusion.moe.expert0.w', v(1, 0)],
    ['fusion.moe.expert0.b', v(0)],
    ['fusion.moe.expert1.w', v(0, 1)],
    ['fusion.moe.expert1.b', v(0)],
    ['fusion.moe.gate.w', v(5, 5)],
    ['enc.linear.w', v(1)],
  ]);
  const d = expertPairDistances(w);
  assert.equal(d.length, 1);
  assert.deepEqual([d[0]!.layer, d[0]!.i, d[0]!.j], ['fusion.moe', 0, 1]);
  // ‖(1,−1)‖ / sqrt((1 + 1)/2) = √2
  assert.ok(Math.abs(d[0]!.relDistance - Math.SQRT2) < 1e-12);
});

test('warns once, naming the collapsing experts and suggesting a modified gate', () => {
  const det = new CollapseDetector({ window: 2 });
  const warnings: string[] = [];
  // experts 1 and 3 of layer "m" converge; expert 0 and 2 stay apart; loss plateaus
  const gaps = [0.4, 0.2, 0.1, 0.03, 0.01];
  const losses = [1.0, 0.8, 0.79, 0.789, 0.7889];
  gaps.forEach((g, e) => {
    const w = new Map<string, Fake>([
      ['m.expert0.w', v(5, -3, 1)],
      ['m.expert1.w', v(1, 1, 1)],
      ['m.expert2.w', v(-4, 2, 0)],
      ['m.expert3.w', v(1 + g, 1, 1 - g)],
    ]);
    det.onEpochEnd(info(e, losses[e]!, w, warnings));
  });
  assert.ok(warnings.length >= 1, 'a warning was printed');
  assert.ok(warnings.every((m) => m.includes('m.expert1') && m.includes('m.expert3') && !m.includes('m.expert0') && !m.includes('m.expert2')));
  assert.ok(warnings.some((m) => /modified gate/.test(m) && /sigmoid/.test(m)));
  assert.ok(warnings.some((m) => /plateaued/.test(m)));
  assert.equal(new Set(warnings).size, warnings.length, 'no duplicate warnings');
  assert.deepEqual(det.lastFindings.map((f) => f.experts), [[1, 3]]);
  assert.equal(det.lastFindings[0]!.kind, 'collapsed');
});

test('no warning for well-separated experts; stopOnCollapse stops on collapse + plateau', () => {
  const quiet = new CollapseDetector();
  const warnings: string[] = [];
  for (let e = 0; e < 6; e++) quiet.onEpochEnd(info(e, 1, new Map([['a.expert0.w', v(1, 0)], ['a.expert1.w', v(0, 1)]]), warnings));
  assert.equal(warnings.length, 0);
  const stopper = new CollapseDetector({ stopOnCollapse: true, window: 1 });
  let stopped = false;
  for (let e = 0; e < 3; e++) {
    const r = stopper.onEpochEnd(info(e, 0.5, new Map([['a.expert0.w', v(1, 1)], ['a.expert1.w', v(1, 1.001)]]), warnings));
    if (r && r.stop) stopped = true;
  }
  assert.ok(stopped);
});

test('works on real tf.Variables', () => {
  const a = tf.variable(tf.tensor1d([1, 2, 3]), true, 'x.expert0.w');
  const b = tf.variable(tf.tensor1d([1, 2, 3.001]), true, 'x.expert1.w');
  const warnings: string[] = [];
  new CollapseDetector().onEpochEnd(info(0, 1, new Map([['x.expert0.w', a], ['x.expert1.w', b]]) as unknown as Map<string, Fake>, warnings));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /x\.expert0, x\.expert1 are collapsed/);
  a.dispose();
  b.dispose();
});

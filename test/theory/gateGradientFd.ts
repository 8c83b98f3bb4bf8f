/**
 * The finite-difference check of the Gaussian MoE gate's Fisher-scoring gradient, shared by
 * test/theory/gaussianMoe.test.ts and gaussianMoeChecks.test.ts: each gate coordinate (moved by
 * its setter) against a central difference of Q_gate.
 */
import assert from 'node:assert/strict';
import { gaussianGateInternals, type GaussianData, type GaussianMoeParams } from '../../src/theory/gaussianMoe.js';

/** A setter adds v to one gate coordinate of m (in the gradient's layout order). */
export type GateSetter = (m: GaussianMoeParams, v: number) => void;

/** Assert gateSystem(p, data, r).grad[j] equals (Q(p + h·e_j) − Q(p − h·e_j)) / 2h for every setter j (relative 1e-4). */
export function assertGateGradientMatchesFd(p: GaussianMoeParams, data: GaussianData, r: Float64Array, setters: GateSetter[], what: string): void {
  const { grad } = gaussianGateInternals.gateSystem(p, data, r);
  assert.equal(grad.length, setters.length, `${what}: gradient length`);
  const h = 1e-6;
  setters.forEach((set, j) => {
    const plus = { ...p, beta: p.beta.slice(), W: p.W.slice() };
    const minus = { ...p, beta: p.beta.slice(), W: p.W.slice() };
    set(plus, h);
    set(minus, -h);
    const fd = (gaussianGateInternals.gateQ(plus, data, r) - gaussianGateInternals.gateQ(minus, data, r)) / (2 * h);
    assert.ok(Math.abs(fd - grad[j]!) < 1e-4 * Math.max(1, Math.abs(fd)), `${what} coordinate ${j}: ${grad[j]} vs ${fd}`);
  });
}

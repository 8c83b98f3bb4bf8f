/**
 * MoE-Retriever's context retriever (src/moe/contextRetriever.ts) beyond the routing test of
 * test/models/moeRetriever.test.ts, written against the mutants Stryker left alive: the topK
 * refusal at its boundary, the expert mask by hand, the variable names, the retriever without a
 * router (no routing: every slot −1, gates 0) and `averageContextOutput` (the masked mean of the
 * raw context, worked by hand). Equivalent survivor: line 119 `r < R` → `r <= R` (the extra fill
 * starts at R·Lc, past the end of the typed array: a no-op).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { Rng } from '../../src/engine/rng.js';
import { initEngine } from '../../src/engine/backend.js';
import { FlexiModalError } from '../../src/errors.js';
import { ContextRetriever, type ContextRetrieverConfig } from '../../src/moe/contextRetriever.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

const base: ContextRetrieverConfig = { dim: 2, heads: 1, numModalities: 2, expertsPerModality: 2, sharedExperts: 1, topK: 2, hidden: 4, gating: 'softmax', router: true, averageContextOutput: false };

test('topK may reach expertsPerModality + sharedExperts, not exceed it (only with a router)', () => {
  assert.doesNotThrow(() => new ContextRetriever('r', { ...base, topK: 3 }, new Rng(1)));
  assert.throws(
    () => new ContextRetriever('r', { ...base, topK: 4 }, new Rng(1)),
    (e: unknown) =>
      e instanceof FlexiModalError && /topK = 4 exceeds the 3 experts a target may use/.test(e.message) && e.where === 'config key model.retrieval.topK' && /lower topK or add experts/.test(e.hint ?? ''),
  );
  assert.doesNotThrow(() => new ContextRetriever('r', { ...base, topK: 4, router: false }, new Rng(1)), 'without a router topK is unused');
});

test('expert mask by hand: a query for T may use T’s experts and the shared ones', () => {
  // M = 2, E = 2, b = 1 → S = 5: modality 0 owns experts 0, 1; modality 1 owns 2, 3; expert 4 is shared
  const r = new ContextRetriever('r', base, new Rng(1));
  assert.equal(r.numExperts, 5);
  assert.deepEqual(Array.from(r.expertMask(Int32Array.from([1, 0]))), [0, 0, 1, 1, 1, 1, 1, 0, 0, 1]);
  assert.deepEqual(
    r.variables().map((v) => v.name.split('.').slice(0, 2).join('.')).filter((n, i, a) => a.indexOf(n) === i),
    ['r.ln', 'r.attn', 'r.moe'],
  );
});

test('without a router: no routing (every slot −1, gates 0), retrieved rows from the attended context', () => {
  const r = new ContextRetriever('r', { ...base, router: false }, new Rng(1));
  assert.equal(r.moe, null);
  const R = 2;
  const Lc = 3;
  tf.tidy(() => {
    const context = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [R, Lc, 2]);
    const out = r.apply(context, Float32Array.from([1, 1, 0, 0, 1, 0]), Int32Array.from([0, 1]), { training: false });
    assert.equal(out.topIdx.length, R * Lc * base.topK);
    assert.ok(out.topIdx.every((e) => e === -1));
    assert.equal(out.topGates.length, R * Lc * base.topK);
    assert.ok(out.topGates.every((g) => g === 0));
    assert.deepEqual(out.retrieved.shape, [R, 2]);
    assert.ok(Array.from(out.retrieved.dataSync()).every(Number.isFinite));
    assert.equal(r.variables().length, r.ln.variables().length + r.attn.variables().length);
  });
});

test('averageContextOutput: the retrieved embedding is the masked mean of the raw context tokens', () => {
  for (const router of [true, false]) {
    const r = new ContextRetriever('r', { ...base, router, averageContextOutput: true }, new Rng(1));
    tf.tidy(() => {
      // query 0: tokens (1, 2), (3, 4) real, (5, 6) padding → (2, 3); query 1: only (9, 10) real → (9, 10)
      const context = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
      const out = r.apply(context, Float32Array.from([1, 1, 0, 0, 1, 0]), Int32Array.from([0, 1]), { training: false });
      const got = Array.from(out.retrieved.dataSync());
      [2, 3, 9, 10].forEach((want, i) => assert.ok(Math.abs(got[i]! - want) < 1e-6, `router ${router}: retrieved[${i}] = ${got[i]} vs ${want}`));
    });
  }
});

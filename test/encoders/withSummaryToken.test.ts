import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { makeEncoder } from '../../src/encoders/encoder.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { fitNormalizer } from '../../src/data/normalize.js';
import { makeBatch } from '../../src/data/batch.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

test('summaryToken appends the mean-pool token after the γ mTAND tokens', () => {
  const data = generateSynthetic({ n: 6, seed: 1 });
  const batch = makeBatch(data.spec, data.samples, fitNormalizer(data.spec, data.samples));
  const spec = data.spec.modalities.find((m) => m.kind === 'timeseries')!;
  const cfg = { d: 8, kind: 'mtand' as const, gamma: 3, heads: 2, dt: 4 };
  const plain = makeEncoder('enc.plain', spec, cfg, new Rng(5));
  const withSummary = makeEncoder('enc.sum', spec, { ...cfg, summaryToken: true }, new Rng(5));
  assert.equal(withSummary.numTokens, plain.numTokens + 1);
  const a = plain.apply(batch.modalities[spec.name]!, false);
  const b = withSummary.apply(batch.modalities[spec.name]!, false);
  assert.deepEqual(b.tokens.shape, [6, 4, 8]);
  // the first γ tokens are exactly the plain encoder's (same seed, same construction order)
  const first = tf.slice(b.tokens, [0, 0, 0], [6, 3, 8]);
  assert.ok(tf.max(tf.abs(tf.sub(first, a.tokens))).dataSync()[0]! < 1e-6);
  assert.deepEqual(Array.from(b.empty.dataSync()), Array.from(a.empty.dataSync()));
  assert.ok(withSummary.variables().some((v) => v.name.startsWith('enc.sum.summary.')));
});

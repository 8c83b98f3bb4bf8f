import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retrieverUsageHeatmaps, type RetrieverUsage } from '../../src/analysis/retrieverUsage.js';

test('retriever usage plots: a matrix without rows (nothing was ever retrieved) has no plot instead of an error', async () => {
  const empty = { rows: [], cols: [], values: [], counts: [] };
  const usage = {
    byCombination: empty,
    byTarget: empty,
    tokensByExpert: { rows: ['e0', 'e1'], cols: ['a+b'], values: [[1], [1]], counts: [3, 2] },
    pools: {},
    queries: 0,
    splitPools: {},
  } as unknown as RetrieverUsage;
  const plots = await retrieverUsageHeatmaps(usage);
  assert.deepEqual(plots.map(([f]) => f), ['retriever-tokens-by-expert.svg']);
  assert.match(plots[0]![1], /^<svg|<\?xml/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, cpSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { writeJsonl } from '../../src/data/sources/jsonl.js';
import { validateMetricsJson } from '../../src/eval/aggregate.js';
import { once } from '../helpers/once.js';
import { moduleTempDir } from '../helpers/tempDir.js';
import { jsonLines, runCli } from '../helpers/inProcessCli.js';

const cli = resolve('dist/src/cli/main.js');
/** The real binary in a child process, where the process is the point (its exit status). */
const runProcess = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
/** The CLI in this process (no child start-up per call). */
const run = (args: string[]) => runCli(args);

const dir = moduleTempDir('fm-cli-');
const config = {
  name: 'cli-test',
  data: { type: 'synthetic', n: 120, seed: 4 },
  model: { type: 'fusemoe', d: 16, blocks: 1, heads: 2, encoder: { kind: 'mtand', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 }, moe: { numExperts: 4, topK: 2, hidden: 16 } },
  train: { epochs: 1, batchSize: 16 },
};
writeFileSync(join(dir, 'config.json'), JSON.stringify(config));

/** The run directory of one trained model, trained by the first test that needs it. */
const trainedRun = once(async () => {
  const out = join(dir, 'run');
  const t = await run(['train', '--config', join(dir, 'config.json'), '--out', out, '--no-progress']);
  assert.equal(t.status, 0, t.stderr);
  return { out, stdout: t.stdout };
});

test('train → predict --explain → evaluate through the CLI', async () => {
  const { out, stdout } = await trainedRun();
  assert.match(stdout, /auroc/);
  validateMetricsJson(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')));

  const data = generateSynthetic({ n: 30, seed: 9 });
  const input = join(dir, 'new.jsonl');
  await writeJsonl(data, input);
  const p = await run(['predict', '--model', out, '--input', input, '--explain']);
  assert.equal(p.status, 0, p.stderr);
  const lines = jsonLines(p.stdout) as { risk: number; predicted: boolean; explanation: { routing: { topExperts: unknown[] } } }[];
  assert.equal(lines.length, 30);
  for (const l of lines) {
    assert.ok(l.risk > 0 && l.risk < 1 && typeof l.predicted === 'boolean');
    assert.ok(l.explanation.routing.topExperts.length > 0);
  }

  const evalOut = join(dir, 'eval');
  const e = await run(['evaluate', '--model', out, '--data', input, '--out', evalOut]);
  assert.equal(e.status, 0, e.stderr);
  const m = validateMetricsJson(JSON.parse(readFileSync(join(evalOut, 'metrics.json'), 'utf8')));
  assert.equal(m.external!.n!.mean, 30);
  assert.ok(Object.keys(m.groups.external!).length >= 1);
});

test('bad config: exit code 2 and a message naming the key', async () => {
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...config, model: { ...config.model, moe: { gating: 'lapalce' } } }));
  const r = runProcess(['train', '--config', join(dir, 'bad.json'), '--out', join(dir, 'bad')]); // the real binary: exit status 2
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.json: invalid config: model\.moe\.gating/);
  assert.ok(!existsSync(join(dir, 'bad', 'metrics.json')));
});

test('compare runs every variant and writes compare.json shaped like metrics.json', async () => {
  const out = join(dir, 'cmp');
  const r = await run(['compare', '--config', join(dir, 'config.json'), '--vary', 'gating=softmax,laplace', '--seeds', '1', '--out', out, '--no-progress']);
  assert.equal(r.status, 0, r.stderr);
  const cmp = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
  assert.deepEqual(Object.keys(cmp), ['gating=softmax', 'gating=laplace']);
  for (const v of Object.values(cmp)) validateMetricsJson(v);
  assert.match(readFileSync(join(out, 'compare.md'), 'utf8'), /gating=laplace/);

  // the same variants tabulated from their finished run directories
  const out2 = join(dir, 'cmp-runs');
  const runs = ['--run', `soft=${join(out, 'variants', 'gating=softmax')}`, '--run', `lap=${join(out, 'variants', 'gating=laplace')}`];
  const t = await run(['compare', ...runs, '--out', out2]);
  assert.equal(t.status, 0, t.stderr);
  const tab = JSON.parse(readFileSync(join(out2, 'compare.json'), 'utf8'));
  assert.deepEqual(Object.keys(tab), ['soft', 'lap']);
  assert.deepEqual(tab.lap, cmp['gating=laplace']);
  assert.match(readFileSync(join(out2, 'compare.md'), 'utf8'), /Same data, split and seeds \(checked\)/);

  // a run written before a defaulted key existed (here split.holdOutGroups) still compares equal
  const older = join(dir, 'run-older');
  cpSync(join(out, 'variants', 'gating=laplace'), older, { recursive: true });
  const olderCfg = JSON.parse(readFileSync(join(older, 'config.json'), 'utf8'));
  assert.ok('holdOutGroups' in olderCfg.split, 'config.json records split.holdOutGroups');
  delete olderCfg.split.holdOutGroups;
  writeFileSync(join(older, 'config.json'), JSON.stringify(olderCfg));
  const o = await run(['compare', runs[0]!, runs[1]!, '--run', `older=${older}`, '--out', join(dir, 'cmp-older')]);
  assert.equal(o.status, 0, o.stderr);

  // a run with other seeds is refused, naming the runs and the key; --allow-mismatch overrides
  const other = join(dir, 'run-seed2');
  assert.equal((await run(['train', '--config', join(dir, 'config.json'), '--seeds', '2', '--out', other, '--no-progress'])).status, 0);
  const bad = await run(['compare', runs[0]!, runs[1]!, '--run', `s2=${other}`, '--out', join(dir, 'cmp-bad')]);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /runs 'soft' and 's2' differ in seeds/);
  assert.equal((await run(['compare', runs[0]!, runs[1]!, '--run', `s2=${other}`, '--allow-mismatch', '--out', join(dir, 'cmp-any')])).status, 0);
  const missing = await run(['compare', '--run', `x=${join(dir, 'nope')}`, '--out', join(dir, 'cmp-none')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /metrics\.json not found/);
});

test('predict rejects a malformed input line with file:line', async () => {
  const bad = join(dir, 'bad.jsonl');
  const data = generateSynthetic({ n: 2, seed: 1 });
  const spec = JSON.stringify({ fleximodal: 1, spec: data.spec });
  writeFileSync(bad, `${spec}\n{"id": "x", "modalities": {"vitals": {"times": [1], "variables": ["HR"], "values": [NaN]}}}\n`);
  const r = await run(['predict', '--model', (await trainedRun()).out, '--input', bad]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /bad\.jsonl:2/);
});

test('explicit variants set several keys together; bad specs are rejected', async () => {
  const { explicitVariantsOf, variantsOf } = await import('../../src/cli/compare.js');
  assert.deepEqual(explicitVariantsOf(['joint+load:router=joint;loadWeight=0.01']), [{ name: 'joint+load', sets: ['router=joint', 'loadWeight=0.01'] }]);
  assert.throws(() => explicitVariantsOf(['nocolon']), /name:key=value/);
  assert.deepEqual(
    variantsOf(['gating=softmax,laplace', 'topK=[1,2],2']).map((v) => v.name),
    ['gating=softmax,topK=[1,2]', 'gating=softmax,topK=2', 'gating=laplace,topK=[1,2]', 'gating=laplace,topK=2'],
  );
});

test('train --external-data adds the "external" split', async () => {
  const ext = join(dir, 'ext.jsonl');
  await writeJsonl(generateSynthetic({ n: 40, seed: 11 }), ext);
  const out = join(dir, 'run-ext');
  const r = await run(['train', '--config', join(dir, 'config.json'), '--out', out, '--external-data', ext, '--no-progress']);
  assert.equal(r.status, 0, r.stderr);
  const m = validateMetricsJson(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')));
  assert.equal(m.external!.n!.mean, 40);
  const bad = await run(['train', '--config', join(dir, 'config.json'), '--out', out, '--external-data', join(dir, 'nope.jsonl')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--external-data/);
});

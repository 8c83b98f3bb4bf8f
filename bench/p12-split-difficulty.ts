/**
 * How hard is each PhysioNet 2012 set-a split? A classical reference — per-variable summary
 * features (last, min, max, mean, first, log1p count, missing flag; static values + missing flags)
 * and an L2 logistic regression — trained on each split's training part, its L2 strength chosen
 * on that split's validation part, scored on its test part. Set-b is never read.
 *
 *   node dist/bench/p12-split-difficulty.js [--records <set-a dir|tar.gz>] [--outcomes <file>]
 *        [--splits 0,1,2,3] [--fractions 0.7,0.15,0.15]
 *
 * Prints one line per split seed (val and test AUROC of the val-selected model) and the spread.
 * A figure, not a test: it says how much of a test-AUROC gap between splits is the split itself.
 */
import { loadDataset } from '../src/data/load.js';
import { stratifiedSplit, splitSamples } from '../src/data/split.js';
import type { DatasetSpec, Sample } from '../src/data/schema.js';
import { auroc } from '../src/eval/metrics/auroc.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

const records = arg('records', '../shared/data/physionet2012/set-a.tar.gz');
const outcomes = arg('outcomes', '../shared/data/physionet2012/Outcomes-a.txt');
const splitSeeds = arg('splits', '0,1,2,3').split(',').map(Number);
const fractions = arg('fractions', '0.7,0.15,0.15').split(',').map(Number) as [number, number, number];
const l2Grid = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1];

/** Summary features of one sample (NaN where a variable is never observed). */
function summaryFeatures(spec: DatasetSpec, s: Sample): number[] {
  const f: number[] = [];
  for (const m of spec.modalities) {
    const d = s.modalities[m.name];
    if (m.kind === 'static') {
      m.features.forEach((_, j) => {
        const v = d?.kind === 'static' ? d.values[j]! : NaN;
        f.push(v, Number.isNaN(v) ? 1 : 0);
      });
    } else if (m.kind === 'timeseries') {
      const V = m.variables.length;
      const n = new Float64Array(V), sum = new Float64Array(V), min = new Float64Array(V).fill(Infinity);
      const max = new Float64Array(V).fill(-Infinity), first = new Float64Array(V).fill(NaN), last = new Float64Array(V).fill(NaN);
      if (d?.kind === 'timeseries') {
        for (let i = 0; i < d.times.length; i++) {
          const j = d.variables[i]!, v = d.values[i]!;
          if (n[j] === 0) first[j] = v;
          n[j]!++;
          sum[j]! += v;
          min[j] = Math.min(min[j]!, v);
          max[j] = Math.max(max[j]!, v);
          last[j] = v;
        }
      }
      for (let j = 0; j < V; j++) {
        if (n[j] === 0) f.push(NaN, NaN, NaN, NaN, NaN, 0, 1);
        else f.push(last[j]!, min[j]!, max[j]!, sum[j]! / n[j]!, first[j]!, Math.log1p(n[j]!), 0);
      }
    }
    // embedding modalities: none in PhysioNet 2012
  }
  return f;
}

type Row = { x: Float64Array; y: number };

/** Standardise with training statistics, impute 0 (= training mean), clip to ±5. */
function standardise(train: number[][], sets: number[][][]): Float64Array[][] {
  const P = train[0]!.length;
  const mu = new Float64Array(P), sd = new Float64Array(P).fill(1);
  for (let j = 0; j < P; j++) {
    let n = 0, s = 0, s2 = 0;
    for (const r of train) if (!Number.isNaN(r[j]!)) { n++; s += r[j]!; s2 += r[j]! * r[j]!; }
    if (n > 0) { mu[j] = s / n; sd[j] = Math.sqrt(Math.max(s2 / n - mu[j]! ** 2, 1e-12)); }
  }
  return sets.map((rows) => rows.map((r) => Float64Array.from(r, (v, j) => (Number.isNaN(v) ? 0 : Math.max(-5, Math.min(5, (v - mu[j]!) / sd[j]!))))));
}

/** Full-batch Adam on the L2-penalised mean log-loss; returns the logit function. */
function fitLogistic(rows: Row[], l2: number, iters = 400): (x: Float64Array) => number {
  const P = rows[0]!.x.length;
  const w = new Float64Array(P + 1), m = new Float64Array(P + 1), v = new Float64Array(P + 1);
  const logit = (x: Float64Array) => { let z = w[P]!; for (let j = 0; j < P; j++) z += w[j]! * x[j]!; return z; };
  for (let it = 1; it <= iters; it++) {
    const g = new Float64Array(P + 1);
    for (const { x, y } of rows) {
      const e = 1 / (1 + Math.exp(-logit(x))) - y;
      for (let j = 0; j < P; j++) g[j]! += e * x[j]!;
      g[P]! += e;
    }
    for (let j = 0; j <= P; j++) {
      const gj = g[j]! / rows.length + (j < P ? l2 * w[j]! : 0);
      m[j] = 0.9 * m[j]! + 0.1 * gj;
      v[j] = 0.999 * v[j]! + 0.001 * gj * gj;
      w[j]! -= (0.05 * (m[j]! / (1 - 0.9 ** it))) / (Math.sqrt(v[j]! / (1 - 0.999 ** it)) + 1e-8);
    }
  }
  return logit;
}

const score = (f: (x: Float64Array) => number, rows: Row[]) =>
  auroc(Float64Array.from(rows.map((r) => f(r.x))), Int32Array.from(rows.map((r) => r.y)));

const started = Date.now();
const ds = await loadDataset({ type: 'physionet2012', records, outcomes, grouping: 'vitals-labs' });
const feats = new Map(ds.samples.map((s) => [s.id, summaryFeatures(ds.spec, s)]));
console.log(`set-a: ${ds.samples.length} stays; features ${feats.values().next().value!.length}; L2 grid ${l2Grid.join(', ')} (chosen on val)`);
const tests: number[] = [];
for (const seed of splitSeeds) {
  const parts = splitSamples(ds, stratifiedSplit(ds, { seed, fractions }));
  const raw = [parts.train, parts.val, parts.test].map((ss) => ss.map((s) => feats.get(s.id)!));
  const [tr, va, te] = standardise(raw[0]!, raw).map((xs, k) => xs.map((x, i) => ({ x, y: [parts.train, parts.val, parts.test][k]![i]!.label as number })));
  let best = { l2: NaN, val: -Infinity, f: (_: Float64Array) => 0 };
  for (const l2 of l2Grid) {
    const f = fitLogistic(tr!, l2);
    const val = score(f, va!);
    if (val > best.val) best = { l2, val, f };
  }
  const test = score(best.f, te!);
  tests.push(test);
  console.log(`split seed ${seed}: L2 ${best.l2}  val AUROC ${best.val.toFixed(3)}  test AUROC ${test.toFixed(3)}  (test n ${te!.length})`);
}
const mean = tests.reduce((a, b) => a + b, 0) / tests.length;
const sd = Math.sqrt(tests.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, tests.length - 1));
console.log(`test AUROC over split seeds ${splitSeeds.join(',')}: ${mean.toFixed(3)} ± ${sd.toFixed(3)} (min ${Math.min(...tests).toFixed(3)}, max ${Math.max(...tests).toFixed(3)}) — ${((Date.now() - started) / 1000).toFixed(1)} s`);

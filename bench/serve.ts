/**
 * Serving benchmark (a figure, not a test): `fleximodal serve` driven by autocannon on 127.0.0.1,
 * bounded in time, at 1 / 16 / 64 connections, micro-batching on and off, for the FuseMoE
 * PhysioNet preset and the late-fusion baseline; in the same run, the in-process `Predictor`
 * batch throughput, the server's peak RSS and a soak's RSS growth. Targets (issue 20) are marked
 * met / not met.
 *
 *   npm run bench:serve -- [--quick] [--duration 15] [--soak 60] [--epochs 1]
 *        [--data-dir /work/shared/data/physionet2012] [--models-dir runs/bench-serve-models] [--out runs/bench-serve.json]
 *        [--only fusemoe|baseline]
 *
 * Models: trained once into --models-dir (reused when already there) from the presets
 * configs/fusemoe-physionet2012.json and configs/baseline-physionet2012.json on set-a (seed 1,
 * --epochs epochs, set-b not loaded: it is held out), or — when set-a is absent — from the demo
 * configs on synthetic data (the output says which). Each request is one record (a set-a stay,
 * cycled over 64 of them), so predictions/s = 2xx responses/s.
 * `--quick`: 3 s per setting and a 10 s soak. `--no-inference-thread`: the server predicts on its
 * event loop thread (`fleximodal serve --no-inference-thread`) instead of one inference thread per model.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { initEngine } from '../src/engine/backend.js';
import { parseConfig, readConfigFile } from '../src/config/parse.js';
import { runExperiment } from '../src/run/experiment.js';
import { loadDataset } from '../src/data/load.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { sampleToJson } from '../src/data/sources/jsonl.js';
import type { DataSource as DataSourceConfig } from '../src/data/load.js';
import { Predictor } from '../src/serve/predictor.js';

interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p90: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  '5xx': number;
  duration: number;
}
type Cannon = (o: Record<string, unknown>) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}
const quick = process.argv.includes('--quick');
const duration = Number(arg('duration', quick ? '3' : '15'));
const soakSeconds = Number(arg('soak', quick ? '10' : '60'));
const epochs = Number(arg('epochs', '1'));
const dataDir = resolve(arg('data-dir', '/work/shared/data/physionet2012'));
const modelsDir = resolve(arg('models-dir', 'runs/bench-serve-models'));
const outPath = arg('out', '');
const cli = resolve('dist/src/cli/main.js');
const serveFlags = process.argv.includes('--no-inference-thread') ? ['--no-inference-thread'] : [];
const log = (l: string) => process.stderr.write(l + '\n');

/** The PhysioNet set-a source, or null when the files are absent. */
function setA(): DataSourceConfig | null {
  const records = join(dataDir, 'set-a.tar.gz');
  const outcomes = join(dataDir, 'Outcomes-a.txt');
  if (!existsSync(records) || !existsSync(outcomes)) return null;
  return { type: 'physionet2012', records, outcomes, grouping: 'vitals-labs' } as DataSourceConfig;
}

/** Train (or reuse) the bench models: name → run directory. */
async function models(source: DataSourceConfig | null): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const presets = source
    ? { fusemoe: 'configs/fusemoe-physionet2012.json', baseline: 'configs/baseline-physionet2012.json' }
    : { fusemoe: 'configs/demo-synthetic-fusemoe.json', baseline: 'configs/demo-synthetic.json' };
  const only = arg('only', '');
  if (only && !(only in presets)) throw new Error(`--only must be one of ${Object.keys(presets).join(', ')}, got '${only}'`);
  for (const [name, preset] of Object.entries(presets)) {
    if (only && name !== only) continue;
    const dir = join(modelsDir, `${name}-${source ? 'p12' : 'synthetic'}`);
    out[name] = dir;
    if (existsSync(join(dir, 'metrics.json'))) {
      log(`bench: reusing ${dir}`);
      continue;
    }
    const raw = readConfigFile(preset) as Record<string, unknown>;
    const cfg = parseConfig({ ...raw, seeds: [1], ...(source ? { data: source, externalData: undefined } : {}), train: { ...(raw['train'] as object), epochs } }, preset);
    const t0 = Date.now();
    log(`bench: training ${name} (${preset}, ${epochs} epoch${epochs > 1 ? 's' : ''}, ${source ? 'PhysioNet set-a' : 'synthetic'}) …`);
    await runExperiment(cfg, { baseDir: '.', outDir: dir, log: () => {}, progress: false });
    log(`bench: trained ${name} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  return out;
}

/** Request bodies: 64 records (set-a stays or synthetic), labels removed. */
async function requestRecords(source: DataSourceConfig | null): Promise<Record<string, unknown>[]> {
  const data = source ? await loadDataset(source, '.') : generateSynthetic({ n: 64, seed: 7, missingness: 'long-tail' });
  return data.samples.slice(0, 64).map((s) => {
    const { label: _l, ...rest } = sampleToJson(data.spec, s);
    return rest;
  });
}

/** In-process batch throughput of `Predictor.predict` (raw records → predictions, batches of 64) for `seconds`. */
async function inProcess(dir: string, recs: Record<string, unknown>[], seconds: number): Promise<number> {
  const p = await Predictor.load(dir);
  p.predict(recs);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    n += p.predict(recs).length;
  }
  const rate = n / ((performance.now() - t0) / 1000);
  p.dispose();
  return rate;
}

/** Resident set (VmRSS) and its peak (VmHWM) of a process, MiB (Linux /proc). */
function rss(pid: number): { rss: number; peak: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** Start `fleximodal serve` in a child process on a free loopback port. */
function startServer(name: string, dir: string, batching: boolean): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--model', `${name}=${dir}`, '--port', '0', '--host', '127.0.0.1', ...(batching ? [] : ['--no-batching']), ...serveFlags], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((res, rej) => {
    child.stderr!.on('data', (d) => {
      err += String(d);
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) res({ child, base: m[1]! });
    });
    child.on('exit', (code) => rej(new Error(`serve exited with ${code}: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface Row {
  model: string;
  batching: boolean;
  connections: number;
  reqPerSec: number;
  predsPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  non2xx: number;
  fiveXx: number;
  peakRssMiB: number;
}

async function drive(base: string, name: string, recs: Record<string, unknown>[], connections: number, seconds: number): Promise<CannonResult> {
  return autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: recs.map((r) => ({ method: 'POST', path: `/v1/models/${name}/predict`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(r) })),
  });
}

async function main(): Promise<void> {
  mkdirSync(modelsDir, { recursive: true });
  await initEngine({ backend: 'wasm' });
  const source = setA();
  log(source ? `bench: PhysioNet 2012 set-a from ${dataDir}` : `bench: ${dataDir} has no set-a; synthetic data instead`);
  const dirs = await models(source);
  const recs = await requestRecords(source);
  const startedAt = new Date().toISOString();
  const load0 = loadavg()[0]!;

  // in-process throughput before and after the served runs (this machine's speed drifts by tens of
  // per cent over minutes): the ratio uses their mean, and both readings are printed
  const inProcRuns: Record<string, number[]> = {};
  const measureInProcess = async (when: string) => {
    for (const [name, dir] of Object.entries(dirs)) {
      const rate = await inProcess(dir, recs, Math.max(3, duration / 2));
      (inProcRuns[name] ??= []).push(rate);
      log(`bench: in-process ${name} (${when}): ${rate.toFixed(0)} predictions/s`);
    }
  };
  await measureInProcess('before');

  const rows: Row[] = [];
  let soak: { model: string; seconds: number; rssStartMiB: number; rssEndMiB: number; growthPct: number; errors: number; fiveXx: number } | null = null;
  for (const [name, dir] of Object.entries(dirs)) {
    for (const batching of [true, false]) {
      const { child, base } = await startServer(name, dir, batching);
      try {
        await drive(base, name, recs, 4, 1); // warm the connections and the JIT
        for (const connections of [1, 16, 64]) {
          const r = await drive(base, name, recs, connections, duration);
          const row: Row = {
            model: name,
            batching,
            connections,
            reqPerSec: r.requests.average,
            predsPerSec: r['2xx'] / r.duration,
            p50: r.latency.p50,
            p90: r.latency.p90,
            p99: r.latency.p99,
            errors: r.errors + r.timeouts,
            non2xx: r.non2xx,
            fiveXx: r['5xx'],
            peakRssMiB: rss(child.pid!).peak,
          };
          rows.push(row);
          log(`bench: ${name} batching ${batching ? 'on' : 'off'} ${connections} conn: ${row.reqPerSec.toFixed(0)} req/s, p50/p90/p99 ${row.p50}/${row.p90}/${row.p99} ms, errors ${row.errors}, non-2xx ${row.non2xx}`);
        }
        if (name === 'fusemoe' && batching && soakSeconds > 0) {
          const start = rss(child.pid!).rss;
          const r = await drive(base, name, recs, 16, soakSeconds);
          const end = rss(child.pid!).rss;
          soak = { model: name, seconds: soakSeconds, rssStartMiB: start, rssEndMiB: end, growthPct: (100 * (end - start)) / start, errors: r.errors + r.timeouts, fiveXx: r['5xx'] };
          log(`bench: soak ${soakSeconds} s: RSS ${start.toFixed(0)} → ${end.toFixed(0)} MiB (${soak.growthPct.toFixed(1)} %)`);
        }
      } finally {
        await stop(child);
      }
    }
  }

  await measureInProcess('after');
  const inProc = Object.fromEntries(Object.entries(inProcRuns).map(([n, v]) => [n, v.reduce((a, b) => a + b, 0) / v.length]));
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const lines = [
    `Serving bench (${startedAt}, ${cpus().length} cores, load average ${load0.toFixed(1)} at start — a shared machine), ${source ? 'PhysioNet 2012 set-a models (seed 1, ' + epochs + ' epoch)' : 'synthetic demo models'}, ${duration} s per setting, one record per request, ${serveFlags.length ? 'forward passes on the event loop thread (--no-inference-thread)' : 'one inference thread per model'}:`,
    '',
    '| model | batching | conns | req/s | preds/s | p50 ms | p90 ms | p99 ms | errors | non-2xx | 5xx | peak RSS MiB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.model} | ${r.batching ? 'on' : 'off'} | ${r.connections} | ${f(r.reqPerSec)} | ${f(r.predsPerSec)} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.fiveXx} | ${f(r.peakRssMiB)} |`),
    '',
    `In-process Predictor.predict, batches of 64 records (before / after the served runs → mean): ${Object.entries(inProcRuns).map(([n, v]) => `${n} ${v.map((x) => f(x)).join(' / ')} → ${f(inProc[n]!)} predictions/s`).join(', ')}.`,
    soak ? `Soak: ${soak.model}, batching on, 16 connections, ${soak.seconds} s: RSS ${f(soak.rssStartMiB)} → ${f(soak.rssEndMiB)} MiB (${f(soak.growthPct, 1)} %), errors ${soak.errors}, 5xx ${soak.fiveXx}.` : 'Soak: not run.',
    '',
    'Targets (batching on):',
  ];
  for (const name of Object.keys(dirs)) {
    const at = (c: number) => rows.find((r) => r.model === name && r.batching && r.connections === c)!;
    const r64 = at(64);
    const r16 = at(16);
    const ratio = r64.predsPerSec / inProc[name]!;
    lines.push(
      `- ${name}: zero errors / 5xx at 64 conns: ${r64.errors === 0 && r64.fiveXx === 0 ? 'met' : 'NOT met'} (${r64.errors} errors, ${r64.fiveXx} 5xx, ${r64.non2xx} non-2xx); ` +
        `p99 ≤ 50 ms at 16 conns: ${r16.p99 <= 50 ? 'met' : 'NOT met'} (${r16.p99} ms); ` +
        `served preds/s at 64 ≥ 70 % of in-process (mean): ${ratio >= 0.7 ? 'met' : 'NOT met'} (${f(100 * ratio)} %)`,
    );
  }
  if (soak) lines.push(`- soak RSS growth < 10 %: ${soak.growthPct < 10 ? 'met' : 'NOT met'} (${f(soak.growthPct, 1)} %)`);
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  if (outPath) writeFileSync(outPath, JSON.stringify({ startedAt, loadAverageAtStart: load0, data: source ? 'physionet2012 set-a' : 'synthetic', epochs, duration, rows, inProcess: inProc, inProcessRuns: inProcRuns, soak, text }, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench:serve failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

/**
 * Import cost and install size of the package (issue 18 §6).
 *
 *   npm run bench:import                       # this checkout
 *   npm run bench:import -- --before /tmp/before   # also a built checkout of an older commit, side by side
 *   npm run bench:import -- --install          # also npm pack + production installs (needs the npm cache or registry)
 *
 * Per checkout, in fresh node processes (median of --runs, default 5, alternating checkouts so that
 * machine load hits both alike): wall time of `await import(<package>)`, the CPU time it took
 * (user + system: less sensitive to a busy machine than wall time), and the resident memory after
 * it. With --install: `npm pack` the checkout and install the tarball into an empty app with
 * `--omit=dev` (with and without `--omit=optional`), and report the size of node_modules.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface ImportSample {
  wallMs: number;
  cpuMs: number;
  rssMB: number;
}

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(opt('--runs') ?? 5);
const here = resolve(import.meta.dirname, '..', '..');
const checkouts: [string, string][] = [['this checkout', here]];
const before = opt('--before');
if (before) checkouts.unshift([`before (${before})`, resolve(before)]);

const probe = `
const c0 = process.cpuUsage(); const t0 = performance.now();
await import(process.argv[1]);
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, rssMB: process.memoryUsage().rss / 2 ** 20 }));
`;

function importOnce(dir: string): ImportSample {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe, join(dir, 'dist', 'src', 'index.js')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import of ${dir} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ImportSample;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Size of a directory tree in MB (files only, links not followed). */
function sizeMB(dir: string): number {
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) bytes += st.size;
    }
  };
  walk(dir);
  return bytes / 2 ** 20;
}

function installSize(dir: string, omitOptional: boolean): number | string {
  const work = mkdtempSync(join(tmpdir(), 'fm-bench-install-'));
  try {
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--loglevel=error'], { cwd: dir, encoding: 'utf8' });
    if (pack.status !== 0) return `npm pack failed: ${pack.stderr.split('\n')[0]}`;
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    const app = join(work, 'app');
    spawnSync('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true }));
    const flags = ['install', join(work, tgz), '--omit=dev', ...(omitOptional ? ['--omit=optional'] : []), '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
    const inst = spawnSync('npm', flags, { cwd: app, encoding: 'utf8', env: { ...process.env, FLEXIMODAL_SKIP_NATIVE: '1' } });
    if (inst.status !== 0) return `npm install failed: ${inst.stderr.split('\n')[0]}`;
    statSync(join(app, 'node_modules'));
    return sizeMB(join(app, 'node_modules'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const samples = new Map<string, ImportSample[]>(checkouts.map(([name]) => [name, []]));
for (let i = 0; i < runs; i++) for (const [name, dir] of checkouts) samples.get(name)!.push(importOnce(dir));

console.log(`import of the package: median of ${runs} fresh processes each (node ${process.version})\n`);
console.log('| checkout | import wall (s) | import CPU (s) | RSS after import (MB) |');
console.log('|---|---|---|---|');
for (const [name] of checkouts) {
  const s = samples.get(name)!;
  console.log(`| ${name} | ${(median(s.map((x) => x.wallMs)) / 1000).toFixed(2)} | ${(median(s.map((x) => x.cpuMs)) / 1000).toFixed(2)} | ${median(s.map((x) => x.rssMB)).toFixed(0)} |`);
}

if (args.includes('--install')) {
  console.log('\nnode_modules of a production install of the packed tarball (npm install <tgz> --omit=dev)\n');
  console.log('| checkout | with optional deps (MB) | --omit=optional (MB) |');
  console.log('|---|---|---|');
  for (const [name, dir] of checkouts) {
    const fmt = (x: number | string) => (typeof x === 'number' ? x.toFixed(0) : x);
    console.log(`| ${name} | ${fmt(installSize(dir, false))} | ${fmt(installSize(dir, true))} |`);
  }
}

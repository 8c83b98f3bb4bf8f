#!/usr/bin/env node
/**
 * Builds the optional native BLAS addon (native/blas) with node-gyp against Node's own headers.
 * Run by `npm install` (the root package's `install` script) and `npm run build:native`.
 *
 * It never fails the install: without node-gyp, Node's headers (no download is attempted) or a C
 * compiler, it prints one line and exits 0 — the engine then keeps its wasm matmul.
 * FLEXIMODAL_SKIP_NATIVE=1 skips the build. `--verbose` shows node-gyp's output.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const addonDir = join(here, 'blas');
const verbose = process.argv.includes('--verbose');
const say = (msg) => console.log(`fleximodal: ${msg}`);
const notBuilt = (why) => {
  say(`native BLAS addon not built (${why}); the engine uses its wasm matmul.`);
  process.exit(0);
};

if (process.env.FLEXIMODAL_SKIP_NATIVE === '1') notBuilt('FLEXIMODAL_SKIP_NATIVE=1');

/** node-gyp: the one npm runs lifecycle scripts with, else the one bundled with npm. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
  ];
  return candidates.find((p) => p && existsSync(p));
}

/** A directory with Node's headers (include/node/node_api.h), so node-gyp downloads nothing. */
function findNodeDir() {
  const has = (d) => d && existsSync(join(d, 'include', 'node', 'node_api.h'));
  const fromEnv = process.env.npm_config_nodedir;
  if (has(fromEnv)) return { arg: `--nodedir=${fromEnv}` };
  const prefix = join(dirname(process.execPath), '..');
  if (has(prefix)) return { arg: `--nodedir=${prefix}` };
  if (has('/usr')) return { arg: '--nodedir=/usr' };
  const devdir = process.env.npm_config_devdir ?? join(homedir(), '.cache', 'node-gyp');
  if (has(join(devdir, process.versions.node))) return { arg: null }; // node-gyp's own cache
  return null;
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) notBuilt('node-gyp not found');
const nodeDir = findNodeDir();
if (!nodeDir) notBuilt("Node's headers not found (install the nodejs headers, e.g. Debian's libnode-dev)");
const args = [nodeGyp, 'rebuild', ...(nodeDir.arg ? [nodeDir.arg] : [])];
const r = spawnSync(process.execPath, args, {
  cwd: addonDir,
  stdio: verbose ? 'inherit' : 'pipe',
  encoding: 'utf8',
  timeout: 180_000,
});
if (r.status !== 0) {
  const tail = `${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim().split('\n').filter((l) => /error/i.test(l)).slice(0, 2).join(' | ');
  notBuilt(`node-gyp failed${tail ? `: ${tail}` : ''}; is a C compiler installed?`);
}
say('native BLAS addon built (native/blas/build/Release/fleximodal_blas.node); it is used when a system BLAS is found at run time (e.g. apt-get install libopenblas0-pthread).');

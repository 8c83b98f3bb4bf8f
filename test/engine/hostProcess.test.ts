/**
 * No side effects on the host process (issue 18 §2). Each case runs in a child process, because
 * what is checked IS the process: its handlers, globals, output, threads and exit code.
 *
 * Seen before the fix: after initEngine() on wasm, the Emscripten glue's
 * `process.on('uncaughtException', ex => { throw ex })` rethrew an error the host's own handler
 * had handled: exit code 7 instead of the host's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const entry = pathToFileURL(resolve(import.meta.dirname, '..', '..', 'src', 'index.js')).href;

/** Runs `body` (an ES module's text) in a fresh node process. */
function runChild(t: { after: (fn: () => void) => void }, body: string) {
  const dir = mkdtempSync(join(tmpdir(), 'fm-host-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'child.mjs');
  writeFileSync(file, body);
  return spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 120_000 });
}

const snapshotFns = `
const events = () => new Set([...process.eventNames(), 'uncaughtException', 'unhandledRejection', 'exit', 'beforeExit', 'warning', 'SIGINT', 'SIGTERM', 'SIGHUP']);
const listeners = () => new Map([...events()].map((e) => [String(e), process.rawListeners(e)]));
const sameListeners = (a, b) => {
  const diffs = [];
  for (const e of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(e) ?? [], y = b.get(e) ?? [];
    if (x.length !== y.length || x.some((f, i) => f !== y[i])) diffs.push(e + ': ' + x.length + ' -> ' + y.length);
  }
  return diffs;
};
// values, not descriptors: Node defines some globals (atob, Blob, ...) as lazy getters that become values on first use
const globalsNow = () => new Map(Object.getOwnPropertyNames(globalThis).map((k) => [k, globalThis[k]]));
// Process-wide singletons of the dependencies themselves (tfjs-core's engine, zod's registry):
// new names that override nothing of the host.
const DEPENDENCY_GLOBALS = new Set(['_tfengine', '_tfGlobals', '__zod_globalConfig', '__zod_globalRegistry']);
const globalChanges = (a, b) => {
  const out = [];
  for (const k of b.keys()) if (!a.has(k) && !DEPENDENCY_GLOBALS.has(k)) out.push('added ' + k);
  for (const [k, v] of a) {
    if (!b.has(k)) out.push('removed ' + k);
    else if (!Object.is(v, b.get(k))) out.push('changed ' + k);
  }
  return out;
};
`;

for (const engine of [{ backend: 'wasm' }, { backend: 'cpu' }, { backend: 'wasm', threads: 2 }] as const) {
  const label = JSON.stringify(engine);
  test(`initEngine(${label}) installs, removes and overrides no process handler or global; the host's handler and exit code win`, (t) => {
    const r = runChild(
      t,
      `${snapshotFns}
process.on('uncaughtException', (e) => { console.log('host handled: ' + e.message); process.exitCode = 3; });
process.on('SIGINT', () => {});
const l0 = listeners();
const g0 = globalsNow();
const m = await import(${JSON.stringify(entry)});
await m.initEngine(${JSON.stringify(engine)});
m.tf.tidy(() => m.tf.matMul(m.tf.ones([2, 2]), m.tf.ones([2, 2])).dataSync());
const d1 = sameListeners(l0, listeners());
const g1 = globalChanges(g0, globalsNow());
console.log('listener changes: ' + JSON.stringify(d1));
console.log('global changes: ' + JSON.stringify(g1));
// disposing the backend must not take the host's handlers with it (the glue's _dispose removed them all)
if (${JSON.stringify(engine.backend)} === 'wasm') m.tf.removeBackend('wasm');
console.log('after dispose: ' + JSON.stringify(sameListeners(l0, listeners())));
setTimeout(() => { throw new Error('boom'); }, 0);
setTimeout(() => console.log('still alive'), 20);
`,
    );
    const out = r.stdout;
    assert.match(out, /listener changes: \[\]/, `stdout: ${out}\nstderr: ${r.stderr}`);
    assert.match(out, /global changes: \[\]/, out);
    assert.match(out, /after dispose: \[\]/, out);
    assert.match(out, /host handled: boom/, out);
    assert.match(out, /still alive/, 'the host handler kept the process running');
    assert.equal(r.status, 3, `the exit code is the host's (stderr: ${r.stderr.slice(0, 400)})`);
  });
}

test('importing the package prints nothing, installs no handler and starts no thread, timer or worker', (t) => {
  const r = runChild(
    t,
    `${snapshotFns}
const l0 = listeners();
const res0 = process.getActiveResourcesInfo();
await import(${JSON.stringify(entry)});
await new Promise((r) => setImmediate(r));
const res1 = process.getActiveResourcesInfo();
process.stdout.write('@@' + JSON.stringify({ listeners: sameListeners(l0, listeners()), before: res0, after: res1 }) + '@@');
`,
  );
  const m = /@@(.*)@@/s.exec(r.stdout);
  assert.ok(m, `child output: ${r.stdout} ${r.stderr}`);
  assert.equal(r.stdout.replace(/@@.*@@/s, ''), '', 'nothing printed on stdout by the import');
  assert.equal(r.stderr, '', 'nothing printed on stderr by the import');
  const info = JSON.parse(m[1]!) as { listeners: string[]; before: string[]; after: string[] };
  assert.deepEqual(info.listeners, []);
  assert.deepEqual(info.after.filter((x) => !info.before.includes(x)), [], 'no new active resource (Worker, MessagePort, Timeout, ...)');
  assert.equal(r.status, 0);
});

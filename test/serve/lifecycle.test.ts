/**
 * `fleximodal serve` as a process (signals and exit codes are the point): SIGTERM finishes the
 * request in flight and exits 0; SIGHUP reloads (a broken directory is refused, the old model
 * keeps serving); a non-loopback --host without keys is refused; SIGINT exits 0.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { trainModels, records } from './fixtures.js';
import { postJson, call } from './http.js';

const cli = resolve('dist/src/cli/main.js');
let models: Awaited<ReturnType<typeof trainModels>>;

before(async () => {
  await initEngine({ backend: 'wasm' });
  models = await trainModels(['baseline']);
});
after(() => models.cleanup());

/** Start `fleximodal serve` on a free loopback port; resolves with its URL once it listens. */
function serve(args: string[]): Promise<{ child: ChildProcess; base: string; stderr: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--log-level', 'silent', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`serve did not start: ${err}`)), 60_000);
    child.stderr!.on('data', (d) => {
      err += String(d);
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        res({ child, base: m[1]!, stderr: () => err, exit });
      }
    });
    child.on('exit', () => rej(new Error(`serve exited: ${err}`)));
  });
}

const until = async (cond: () => boolean, ms = 30_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('SIGTERM: the request in flight is answered, new connections are refused, exit 0', async (t) => {
  const s = await serve(['--model', `m=${models.dirs['baseline']}`, '--max-wait-ms', '1500']);
  t.after(() => s.child.kill('SIGKILL'));
  const inFlight = postJson(`${s.base}/v1/models/m/predict`, records(2));
  await new Promise((r) => setTimeout(r, 300));
  s.child.kill('SIGTERM');
  const r = await inFlight;
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.predictions.length, 2);
  assert.equal(await s.exit, 0, s.stderr());
  assert.match(s.stderr(), /SIGTERM: finishing requests in flight/);
  await assert.rejects(call(`${s.base}/healthz`), 'no longer listening');
});

test('SIGHUP reloads: an incomplete run directory is refused and the old model serves on; a complete one is swapped in; SIGINT exits 0', async (t) => {
  const s = await serve(['--model', `m=${models.dirs['baseline']}`]);
  t.after(() => s.child.kill('SIGKILL'));
  const url = `${s.base}/v1/models/m/predict`;
  assert.equal((await postJson(url, records(1))).json.generation, 1);
  const marker = join(models.dirs['baseline']!, 'INCOMPLETE');
  writeFileSync(marker, 'interrupted\n');
  t.after(() => rmSync(marker, { force: true }));
  s.child.kill('SIGHUP');
  await until(() => /SIGHUP: reloaded nothing; refused m: .*incomplete run/.test(s.stderr()));
  assert.ok(!s.stderr().includes(models.root), 'no path in the refusal');
  assert.equal((await postJson(url, records(1))).json.generation, 1, 'the old model keeps serving');
  rmSync(marker);
  s.child.kill('SIGHUP');
  await until(() => /SIGHUP: reloaded m \(generation 2\)/.test(s.stderr()));
  assert.equal((await postJson(url, records(1))).json.generation, 2);
  s.child.kill('SIGINT');
  assert.equal(await s.exit, 0);
});

test('a non-loopback --host without API keys is refused (exit 2) unless --insecure-no-auth', () => {
  const r = spawnSync(process.execPath, [cli, 'serve', '--model', models.dirs['baseline']!, '--host', '0.0.0.0', '--port', '0'], { encoding: 'utf8', env: { ...process.env, FLEXIMODAL_API_KEYS: '' } });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without API keys.*--insecure-no-auth/s);
  const bad = spawnSync(process.execPath, [cli, 'serve', '--model', join(models.root, 'nope')], { encoding: 'utf8' });
  assert.equal(bad.status, 2, 'a model directory that does not load stops the start');
  const flag = spawnSync(process.execPath, [cli, 'serve', '--model', models.dirs['baseline']!, '--port', '0', '--inference-timeout-ms', 'soon'], { encoding: 'utf8' });
  assert.equal(flag.status, 2, flag.stderr);
  assert.match(flag.stderr, /--inference-timeout-ms must be an integer ≥ 0, got 'soon'/);
});

/**
 * `data fetch physionet2012` against a local HTTP server (127.0.0.1, no outside network) that
 * serves the files of ../shared/data/physionet2012: a transfer cut in the middle is resumed with
 * a Range request, a partial file of an earlier process is continued, a corrupted file is
 * rejected and not kept, and files already present are verified and not downloaded again.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { sharedData, skipUnless, tmpDir, assertDataError } from './fixtures.js';
import { fetchPhysioNet2012, physioNet2012ConfigLines, PHYSIONET2012_FILES } from '../../src/data/fetch/physionet2012Fetch.js';

const served = join(sharedData, 'physionet2012');
const skip = skipUnless(join(served, 'set-a.tar.gz'));
const requests: { name: string; range: string | null }[] = [];
const truncateOnce = new Set<string>();
const corrupt = new Set<string>();
let server: Server;
let baseUrl = '';
const quiet = () => {};
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

before(async () => {
  if (skip) return;
  server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '').replace(/^\/p12\//, ''));
    requests.push({ name, range: req.headers.range ?? null });
    if (!PHYSIONET2012_FILES.some((f) => f.name === name)) {
      res.writeHead(404).end();
      return;
    }
    let bytes: Uint8Array = readFileSync(join(served, name));
    if (corrupt.has(name)) {
      bytes = Uint8Array.from(bytes);
      bytes[100] = bytes[100]! ^ 0xff;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (truncateOnce.has(name) && !m) {
      // announce the whole file, send half of it, then drop the connection
      truncateOnce.delete(name);
      res.writeHead(200, { 'content-length': bytes.byteLength });
      res.write(bytes.subarray(0, bytes.byteLength >> 1), () => res.socket?.destroy());
      return;
    }
    if (m) res.writeHead(206, { 'content-length': bytes.byteLength - start, 'content-range': `bytes ${start}-${bytes.byteLength - 1}/${bytes.byteLength}` });
    else res.writeHead(200, { 'content-length': bytes.byteLength });
    res.end(bytes.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  baseUrl = `http://127.0.0.1:${addr.port}/p12/`;
});
after(() => server?.close());

test('fetch: a transfer cut in the middle resumes with a Range request; every file verified; a re-run downloads nothing', { skip }, async () => {
  const dir = tmpDir('fm-fetch-');
  requests.length = 0;
  truncateOnce.add('set-a.tar.gz');
  const log: string[] = [];
  const res = await fetchPhysioNet2012({ dir, baseUrl, log: (l) => log.push(l) });
  assert.deepEqual(res.files.map((f) => f.action), PHYSIONET2012_FILES.map(() => 'downloaded'));
  for (const f of PHYSIONET2012_FILES) assert.equal(sha(join(dir, f.name)), sha(join(served, f.name)), f.name);
  const setA = requests.filter((r) => r.name === 'set-a.tar.gz');
  assert.equal(setA.length, 2);
  assert.equal(setA[0]!.range, null);
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(setA[1]!.range ?? '')?.[1]);
  assert.ok(resumedAt > 0 && resumedAt <= 6_550_510 / 2, `resumed at ${setA[1]!.range}`);
  assert.ok(log.some((l) => l.includes('transfer interrupted')), log.join('\n'));
  assert.ok(!readdirSync(dir).some((f) => f.endsWith('.part')));
  assert.match(physioNet2012ConfigLines(dir), new RegExp(`"records": "${join(dir, 'set-a.tar.gz')}"`));

  requests.length = 0;
  const again = await fetchPhysioNet2012({ dir, baseUrl, log: quiet });
  assert.deepEqual(again.files.map((f) => f.action), PHYSIONET2012_FILES.map(() => 'present'));
  assert.equal(requests.length, 0);
});

test('fetch: a partial file of an interrupted earlier process is continued from its last byte', { skip }, async () => {
  const dir = tmpDir('fm-fetch-');
  for (const f of ['set-a.tar.gz', 'set-b.tar.gz']) copyFileSync(join(served, f), join(dir, f));
  writeFileSync(join(dir, 'Outcomes-a.txt.part'), readFileSync(join(served, 'Outcomes-a.txt')).subarray(0, 1000));
  requests.length = 0;
  await fetchPhysioNet2012({ dir, baseUrl, log: quiet });
  assert.deepEqual(requests.find((r) => r.name === 'Outcomes-a.txt'), { name: 'Outcomes-a.txt', range: 'bytes=1000-' });
  assert.equal(sha(join(dir, 'Outcomes-a.txt')), sha(join(served, 'Outcomes-a.txt')));
});

test('fetch: a corrupted file is a clear error and is not kept; a corrupted archive too', { skip }, async () => {
  const dir = tmpDir('fm-fetch-');
  for (const f of ['set-a.tar.gz', 'set-b.tar.gz', 'Outcomes-a.txt']) copyFileSync(join(served, f), join(dir, f));
  corrupt.add('Outcomes-b.txt');
  try {
    await assertDataError(() => fetchPhysioNet2012({ dir, baseUrl, log: quiet }), 'Outcomes-b.txt does not verify', 'sha256', 'the download was deleted');
  } finally {
    corrupt.delete('Outcomes-b.txt');
  }
  assert.ok(!existsSync(join(dir, 'Outcomes-b.txt')) && !existsSync(join(dir, 'Outcomes-b.txt.part')));

  const dir2 = tmpDir('fm-fetch-');
  corrupt.add('set-b.tar.gz');
  copyFileSync(join(served, 'set-a.tar.gz'), join(dir2, 'set-a.tar.gz'));
  try {
    await assertDataError(() => fetchPhysioNet2012({ dir: dir2, baseUrl, log: quiet }), 'set-b.tar.gz does not verify');
  } finally {
    corrupt.delete('set-b.tar.gz');
  }
  assert.ok(!existsSync(join(dir2, 'set-b.tar.gz')) && !existsSync(join(dir2, 'set-b.tar.gz.part')));
});

test('CLI: data fetch prints the config lines (exit 0); a corrupted download exits 2 naming the file', { skip }, async () => {
  const cli = resolve('dist/src/cli/main.js');
  const run = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((r) => {
      const child = spawn(process.execPath, [cli, ...args]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c));
      child.stderr.on('data', (c: Buffer) => (stderr += c));
      child.on('close', (status) => r({ status, stdout, stderr }));
    });
  const dir = tmpDir('fm-fetch-');
  for (const f of PHYSIONET2012_FILES) if (f.name !== 'Outcomes-c.txt') copyFileSync(join(served, f.name), join(dir, f.name));
  const ok = await run(['data', 'fetch', 'physionet2012', '--dir', dir, '--base-url', baseUrl]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /"data": \{ "type": "physionet2012", "records": ".*set-a\.tar\.gz", "outcomes": ".*Outcomes-a\.txt"/);
  assert.match(ok.stderr, /Outcomes-c\.txt: verified/);

  const dir2 = tmpDir('fm-fetch-');
  corrupt.add('set-a.tar.gz');
  try {
    const bad = await run(['data', 'fetch', 'physionet2012', '--dir', dir2, '--base-url', baseUrl]);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /set-a\.tar\.gz does not verify/);
  } finally {
    corrupt.delete('set-a.tar.gz');
  }
  const unknown = await run(['data', 'fetch', 'mimic3', '--dir', dir2]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown dataset 'mimic3'.*physionet2012/);
});

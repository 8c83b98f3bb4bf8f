/**
 * `train --resume` after `kill -9`: a child training process is killed with SIGKILL right after a
 * mid-training checkpoint appears, then resumed; its metrics.json must equal (byte for byte) that
 * of an uninterrupted run with the same config and seeds. The config switches on every source of
 * randomness the trainer has: shuffling, dropout, noisy gating, augmentation, EMA, a cosine
 * schedule, group-DRO loss weights, and a two-member ensemble over two seeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkpointEpoch } from '../../src/train/checkpoint.js';
import { INCOMPLETE_FILE, LOCK_FILE } from '../../src/run/runDirectory.js';
import { tempDirs } from '../helpers/tempDir.js';

const tmp = tempDirs();

const cli = resolve('dist/src/cli/main.js');
const dir = tmp('fm-resume-');
const config = {
  name: 'resume-test',
  seeds: [1, 2],
  data: { type: 'synthetic', n: 200, seed: 4 },
  model: {
    type: 'fusemoe',
    d: 8,
    blocks: 1,
    heads: 2,
    dropout: 0.3,
    encoder: { kind: 'mtand', gamma: 4, dt: 4, heads: 2, embeddingGamma: 2 },
    moe: { numExperts: 3, topK: 2, hidden: 8, noisyGating: true },
  },
  train: { epochs: 4, batchSize: 16, lr: 0.005, patience: 0, ema: 0.9, ensemble: 2, augment: { dropObservations: 0.1, dropModalities: 0.1 }, groupWeighting: { type: 'group-dro' } },
};
const configPath = join(dir, 'config.json');
writeFileSync(configPath, JSON.stringify(config));
const trainArgs = (out: string, ...extra: string[]) => [cli, 'train', '--config', configPath, '--out', out, '--no-progress', ...extra];
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('kill -9 during training, then train --resume: the same metrics.json as an uninterrupted run', { timeout: 600_000 }, async () => {
  const full = join(dir, 'uninterrupted');
  const a = spawnSync(process.execPath, trainArgs(full), { encoding: 'utf8' });
  assert.equal(a.status, 0, a.stderr);

  const killed = join(dir, 'killed');
  const child = spawn(process.execPath, trainArgs(killed), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
  // the first model trained (seed 1, ensemble member 1), after its 1st of 4 epochs
  const target = join(killed, 'checkpoints', 'seed-1', 'member-seed-1.safetensors');
  let killedAt = '';
  await new Promise<void>((done, fail) => {
    const timer = setInterval(() => {
      const at = checkpointEpoch(target);
      if (at && at.epoch >= 1) {
        clearInterval(timer);
        child.kill('SIGKILL');
        killedAt = `seed 1 member 1 after epoch ${at.epoch}`;
        done();
      }
      if (child.exitCode !== null) {
        clearInterval(timer);
        fail(new Error(`the child ended before it could be killed: ${stderr}`));
      }
    }, 10);
  });
  assert.equal(await exited, 'SIGKILL');
  assert.ok(existsSync(join(killed, INCOMPLETE_FILE)), 'the killed run is marked incomplete');
  assert.ok(existsSync(join(killed, LOCK_FILE)), 'the dead process left its lock behind');
  assert.ok(!existsSync(join(killed, 'metrics.json')), `killed at ${killedAt}, yet metrics.json exists`);

  // the killed run is refused by evaluate / predict; a plain re-run is refused too
  const ev = spawnSync(process.execPath, [cli, 'evaluate', '--model', killed, '--data', configPath], { encoding: 'utf8' });
  assert.equal(ev.status, 2, ev.stderr);
  assert.match(ev.stderr, /incomplete run/);
  const again = spawnSync(process.execPath, trainArgs(killed), { encoding: 'utf8' });
  assert.equal(again.status, 2, again.stderr);
  assert.match(again.stderr, /not empty.*--resume/s);
  assert.match(again.stderr, /stale lock/, 'the lock of the killed process is recognised as stale');

  const b = spawnSync(process.execPath, trainArgs(killed, '--resume'), { encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stderr, /resumed from the checkpoint of epoch/);
  const hashes = [sha256(join(full, 'metrics.json')), sha256(join(killed, 'metrics.json'))];
  process.stdout.write(`# killed at ${killedAt}; metrics.json sha256 uninterrupted ${hashes[0]} resumed ${hashes[1]}\n`);
  assert.equal(hashes[1], hashes[0]);
  // the validation curve of every epoch of every model (resumed epochs included) is the same too
  const curve = (run: string) => readFileSync(join(run, 'plots', 'learning-curves.svg'), 'utf8');
  assert.equal(curve(killed), curve(full));
  assert.equal(JSON.parse(readFileSync(join(killed, 'manifest.json'), 'utf8')).resumed, true);
  for (const gone of [INCOMPLETE_FILE, LOCK_FILE, 'checkpoints']) assert.ok(!existsSync(join(killed, gone)), `${gone} is removed when the run completes`);
});

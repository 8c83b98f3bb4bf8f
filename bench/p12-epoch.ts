/**
 * FuseMoE PhysioNet 2012 training time per epoch, wasm matmul vs native BLAS, side by side: the
 * preset (configs/fusemoe-physionet2012.json) trained on set-a (train split only; set-b is not
 * loaded) for --epochs epochs, seed 1, one child process per path, alternating --rounds times.
 * Each child reports the epoch wall time and its process CPU time for the training (1 thread: CPU
 * time ≈ wall time on an idle core, so it stays comparable when other jobs load the machine),
 * and the run's test metrics (the two paths must agree).
 *
 *   node dist/bench/p12-epoch.js [--epochs 1] [--rounds 1] [--threads 1] [--out runs/bench-p12-epoch]
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

interface EpochResult {
  blas: string;
  matmul: string;
  epochSeconds: number[];
  trainCpuSeconds: number;
  trainWallSeconds: number;
  testAuroc: number | null;
  testAuprc: number | null;
}

async function child(): Promise<void> {
  const { parseConfig, readConfigFile } = await import('../src/config/parse.js');
  const { runExperiment } = await import('../src/run/experiment.js');
  const { engineBlas } = await import('../src/engine/backend.js');
  const configPath = arg('config', 'configs/fusemoe-physionet2012.json');
  const raw = readConfigFile(configPath) as Record<string, unknown>;
  const blas = arg('blas', 'off');
  const cfg = parseConfig(
    {
      ...raw,
      seeds: [1],
      externalData: null, // the held-out set-b is not touched by a benchmark
      engine: { backend: 'wasm', threads: Number(arg('threads', '1')), blas },
      train: { ...(raw['train'] as object), epochs: Number(arg('epochs', '1')), patience: 0 },
    },
    configPath,
  );
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const res = await runExperiment(cfg, {
    baseDir: dirname(resolve(configPath)),
    outDir: join(arg('out', 'runs/bench-p12-epoch'), blas),
    log: () => {},
    progress: false,
    saveModels: false,
  });
  const c = process.cpuUsage(c0);
  const train = res.seeds[0]!.members[0]!;
  const out: EpochResult = {
    blas,
    matmul: engineBlas().line,
    epochSeconds: train.history.map((h) => h.seconds),
    trainCpuSeconds: (c.user + c.system) / 1e6,
    trainWallSeconds: (performance.now() - w0) / 1000,
    testAuroc: res.metrics.test?.['auroc']?.mean ?? null,
    testAuprc: res.metrics.test?.['auprc']?.mean ?? null,
  };
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`, () => process.exit(0));
}

function runChild(blas: string): Promise<EpochResult | string> {
  const args = [fileURLToPath(import.meta.url), '--child', '--blas', blas];
  for (const k of ['epochs', 'threads', 'config', 'out']) {
    const i = process.argv.indexOf(`--${k}`);
    if (i >= 0) args.push(`--${k}`, process.argv[i + 1]!);
  }
  return new Promise((res) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      res(line ? (JSON.parse(line.slice(7)) as EpochResult) : `failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
    });
  });
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds', '1'));
  console.log(`FuseMoE PhysioNet 2012 (set-a), ${arg('epochs', '1')} epoch(s), seed 1, ${arg('threads', '1')} thread(s); the process's CPU time covers data loading, training and evaluation`);
  console.log('| path | epoch wall s | run CPU s | run wall s | test AUROC | test AUPRC |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  const cpu: Record<string, number[]> = { off: [], auto: [] };
  for (let r = 0; r < rounds; r++) {
    for (const blas of ['off', 'auto']) {
      const res = await runChild(blas);
      if (typeof res === 'string') {
        console.log(`| ${blas} | ${res} | | | | |`);
        continue;
      }
      cpu[blas]!.push(res.trainCpuSeconds);
      const name = blas === 'off' ? 'wasm matmul' : res.matmul.replace(/^engine: /, '');
      console.log(
        `| ${name} | ${res.epochSeconds.map((s) => s.toFixed(1)).join(', ')} | ${res.trainCpuSeconds.toFixed(1)} | ${res.trainWallSeconds.toFixed(1)} | ${res.testAuroc?.toFixed(4)} | ${res.testAuprc?.toFixed(4)} |`,
      );
    }
  }
  const min = (xs: number[]): number => Math.min(...xs);
  if (cpu['off']!.length && cpu['auto']!.length) console.log(`native/wasm (run CPU time): ${(min(cpu['off']!) / min(cpu['auto']!)).toFixed(2)}×`);
}

if (process.argv.includes('--child')) await child();
else await main();

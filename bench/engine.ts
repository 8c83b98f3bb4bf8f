/**
 * Engine benchmark: per-step time of the reference MoE training step (ENGINE-NOTES, "A measured
 * reference"; src/engine/referenceMoe.ts) for stock tfjs-wasm vs the engine's fast kernels on
 * wasm with 1 and 2 threads and on the native BLAS (src/engine/blas.ts; 1 wasm thread, BLAS with
 * --blas-threads), and the PyTorch twin (bench/engine_twin.py) when python3 has torch. Each
 * configuration runs in its own child process (kernel registrations and the wasm thread count are
 * process-global). `ours:` is the fastest of our configurations with the exact erf GELU (the
 * twin's GELU); `ours σ-GELU:` the same with x·σ(1.702x); then `torch/ours`.
 *
 *   node dist/bench/engine.js                 # batch 32 (6144 tokens)
 *   node dist/bench/engine.js --batch 8       # quick run
 *   node dist/bench/engine.js --steps 5 --stock-steps 2 --gelu erf --stock-2t
 *   node dist/bench/engine.js --micro         # per-kernel stock vs ours, side by side, 1 thread
 *   node dist/bench/engine.js --interleaved   # wasm vs native BLAS vs PyTorch, 1 thread, CPU time (robust to load)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Config {
  name: string;
  threads: number;
  kernels: 'stock' | 'ours';
  steps: number;
  /** 'auto' = native BLAS (with --blas-threads threads); default off (wasm matmul). */
  blas?: 'off' | 'auto';
  /** GELU of the experts for this configuration (default: --gelu). */
  gelu?: 'erf' | 'sigmoid';
}

interface ChildResult {
  name: string;
  threadsAsked: number;
  threadsUsed: number;
  times: number[];
  /** Process CPU time (user+system, all threads) per step, ms. */
  cpuTimes: number[];
  median: number;
  losses: number[];
  initMs: number;
  /** The engine's matmul path line. */
  matmul: string;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function child(): Promise<void> {
  const { initEngine, engineThreads, engineBlas } = await import('../src/engine/backend.js');
  const { openBlas } = await import('../src/engine/blas.js');
  const { ReferenceMoe } = await import('../src/engine/referenceMoe.js');
  const threads = Number(arg('threads', '1'));
  const kernels = arg('kernels', 'ours');
  const steps = Number(arg('steps', '5'));
  const tokens = Number(arg('tokens', String(32 * 4 * 48)));
  const geluKind = arg('gelu', 'erf') as 'erf' | 'sigmoid';
  const t0 = performance.now();
  const blas = arg('blas', 'off');
  await initEngine({ backend: 'wasm', threads, fastKernels: kernels === 'ours' ? true : 'missing-only', blas });
  if (blas !== 'off') openBlas(blas, Number(arg('blas-threads', '2')));
  if (blas !== 'off' && !engineBlas().active) throw new Error(engineBlas().line);
  const initMs = performance.now() - t0;
  const moe = new ReferenceMoe({ tokens, gelu: geluKind });
  const losses: number[] = [];
  losses.push(moe.step()); // warm-up
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < steps; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    losses.push(moe.step());
    times.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpuTimes.push((d.user + d.system) / 1000);
  }
  const res: ChildResult = {
    name: arg('name', ''),
    threadsAsked: threads,
    threadsUsed: engineThreads(),
    times,
    cpuTimes,
    median: median(times),
    losses,
    initMs,
    matmul: engineBlas().line,
  };
  moe.dispose();
  process.stdout.write(`RESULT ${JSON.stringify(res)}\n`, () => process.exit(0));
}

function runChild(cfg: Config, tokens: number, geluKind: string, timeoutS: number): Promise<ChildResult | string> {
  const script = fileURLToPath(import.meta.url);
  const args = [
    script, '--child', '--name', cfg.name, '--threads', String(cfg.threads), '--kernels', cfg.kernels,
    '--steps', String(cfg.steps), '--tokens', String(tokens), '--gelu', geluKind, '--blas', cfg.blas ?? 'off',
    '--blas-threads', arg('blas-threads', '2'),
  ];
  return runProcess(process.execPath, args, timeoutS, {}) as Promise<ChildResult | string>;
}

/** Runs a benchmark child and parses its `RESULT {json}` line (or says why it failed). */
function runProcess(cmd: string, args: string[], timeoutS: number, env: Record<string, string>): Promise<unknown> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutS * 1000);
    p.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) resolve(JSON.parse(line.slice(7)));
      else resolve(`failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
    });
  });
}

async function main(): Promise<void> {
  const batch = Number(arg('batch', '32'));
  const tokens = Number(arg('tokens', String(batch * 4 * 48)));
  const steps = Number(arg('steps', '5'));
  const stockSteps = Number(arg('stock-steps', tokens > 2000 ? '2' : '3'));
  const geluKind = arg('gelu', 'erf');
  const timeoutS = Number(arg('timeout', '900'));
  const sigma = !(flag('no-fast-gelu') || geluKind === 'sigmoid');
  const native = !flag('no-native');
  const configs: Config[] = [
    { name: 'stock 1t', threads: 1, kernels: 'stock', steps: stockSteps },
    ...(flag('stock-2t') ? [{ name: 'stock 2t', threads: 2, kernels: 'stock' as const, steps: stockSteps }] : []),
    { name: 'ours wasm 1t', threads: 1, kernels: 'ours', steps },
    { name: 'ours wasm 2t', threads: 2, kernels: 'ours', steps },
    ...(native ? [{ name: 'ours native BLAS', threads: 1, kernels: 'ours' as const, steps, blas: 'auto' as const }] : []),
    // the same step with the x·σ(1.702x) GELU (ENGINE-NOTES: 641 ms idle); skip with --no-fast-gelu
    ...(sigma
      ? [
          { name: 'ours wasm 1t σ-GELU', threads: 1, kernels: 'ours' as const, steps, gelu: 'sigmoid' as const },
          { name: 'ours wasm 2t σ-GELU', threads: 2, kernels: 'ours' as const, steps, gelu: 'sigmoid' as const },
          ...(native ? [{ name: 'ours native BLAS σ-GELU', threads: 1, kernels: 'ours' as const, steps, gelu: 'sigmoid' as const, blas: 'auto' as const }] : []),
        ]
      : []),
  ];
  if (flag('skip-stock')) configs.splice(0, configs.filter((c) => c.kernels === 'stock').length);
  console.log(
    `reference MoE step: ${tokens} tokens × 128, top-4 of 16 GELU(${geluKind}) experts 128→512→128, Adam; ` +
      `median of N steps after 1 warm-up (stock: ${stockSteps} steps, ours: ${steps})`,
  );
  const results: Array<{ cfg: Config; res: ChildResult | string }> = [];
  for (const cfg of configs) {
    const res = await runChild(cfg, tokens, cfg.gelu ?? geluKind, timeoutS);
    results.push({ cfg, res });
    if (typeof res === 'string') console.log(`  ${cfg.name}: ${res}`);
    else console.log(`  ${cfg.name}: ${res.times.map((t) => t.toFixed(0)).join(', ')} ms (wasm threads used: ${res.threadsUsed}; ${res.matmul})`);
  }
  const ok = results.filter((r): r is { cfg: Config; res: ChildResult } => typeof r.res !== 'string');
  const stock1 = ok.find((r) => r.cfg.name === 'stock 1t');
  console.log('');
  console.log('(cpu ms/step = CPU time of the process, all threads; wall ≫ cpu for 1 thread means other jobs took the cores)');
  console.log('| configuration | threads | median ms/step | min ms | cpu ms/step | vs stock 1t | losses (steps 1–3) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const { cfg, res } of results) {
    if (typeof res === 'string') {
      console.log(`| ${cfg.name} | ${cfg.threads} | failed | | | | |`);
      continue;
    }
    const ratio = stock1 ? `${(stock1.res.median / res.median).toFixed(1)}×` : 'n/a';
    console.log(
      `| ${cfg.name} | ${res.threadsUsed} | ${res.median.toFixed(0)} | ${Math.min(...res.times).toFixed(0)} | ${median(res.cpuTimes).toFixed(0)} | ${ratio} | ${res.losses.slice(0, 3).map((l) => l.toFixed(6)).join(' ')} |`,
    );
  }
  const o1 = ok.find((r) => r.cfg.name === 'ours wasm 1t');
  const o2 = ok.find((r) => r.cfg.name === 'ours wasm 2t');
  const on = ok.find((r) => r.cfg.name === 'ours native BLAS');
  if (o1 && o2) console.log(`\nwasm 2 threads vs 1 thread (ours): ${(o1.res.median / o2.res.median).toFixed(2)}×`);
  if (on && o1) console.log(`native BLAS vs wasm 1 thread: ${(o1.res.median / on.res.median).toFixed(2)}×`);
  if (on && o2) console.log(`native BLAS vs wasm 2 threads: ${(o2.res.median / on.res.median).toFixed(2)}×`);
  const fastest = (gelu: string) =>
    ok.filter((r) => r.cfg.kernels === 'ours' && (r.cfg.gelu ?? geluKind) === gelu).sort((a, b) => a.res.median - b.res.median)[0];
  const ours = fastest(geluKind);
  if (ours === undefined) {
    console.log('ours: failed');
    process.exitCode = 1;
    return;
  }
  const twin = flag('no-torch') ? 'skipped (--no-torch)' : await runTwin(tokens, geluKind, steps, timeoutS);
  if (typeof twin === 'string') console.log(`PyTorch twin: ${twin}`);
  else console.log(`PyTorch twin (torch ${twin.torch}, ${twin.threads} threads${twin.coreType ? `, OPENBLAS_CORETYPE=${twin.coreType}` : ''}): ${twin.times.map((t) => t.toFixed(0)).join(', ')} ms`);
  console.log(`fastest of ours (GELU ${geluKind}): ${ours.cfg.name}`);
  console.log(`ours: ${ours.res.median.toFixed(0)} ms (${ours.cfg.name}, GELU ${geluKind})`);
  const oursSigma = geluKind === 'erf' ? fastest('sigmoid') : undefined;
  if (oursSigma) console.log(`ours σ-GELU: ${oursSigma.res.median.toFixed(0)} ms (${oursSigma.cfg.name}, x·σ(1.702x), not the twin's GELU)`);
  if (typeof twin !== 'string') {
    console.log(`torch: ${twin.median.toFixed(0)} ms (GELU ${geluKind})`);
    console.log(`torch/ours: ${(twin.median / ours.res.median).toFixed(2)} (PyTorch's time ÷ ours: 1.0 = as fast as PyTorch, higher = ours faster)`);
  }
}

interface TwinResult {
  median: number;
  times: number[];
  threads: number;
  torch: string;
  coreType?: string;
  /** Median process CPU time per step (ms). */
  cpuMedian?: number;
}

/**
 * The PyTorch twin (bench/engine_twin.py) when python3 can import torch. Debian's torch uses
 * OpenBLAS 0.3.21, which mis-detects recent CPUs: OPENBLAS_CORETYPE is set from the CPU flags for
 * this command alone when the environment does not set it (the engine does the same for itself).
 */
async function runTwin(tokens: number, geluKind: string, steps: number, timeoutS: number, threads = arg('blas-threads', '2')): Promise<TwinResult | string> {
  const { existsSync } = await import('node:fs');
  // Debian's python3-torch lives in the system python (a pyenv `python3` on PATH would not see it).
  const py = process.env['PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const { spawnSync } = await import('node:child_process');
  const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return `not run (${py} cannot import torch; for the comparison: apt-get install -y python3-torch)`;
  const { coreTypeFromCpuFlags } = await import('../src/engine/blas.js');
  const { readFileSync } = await import('node:fs');
  let coreType = process.env['OPENBLAS_CORETYPE'];
  // torch.set_num_threads sets its OpenMP pool only; Debian's torch multiplies through OpenBLAS,
  // whose own pool would otherwise take every core
  const env: Record<string, string> = { OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads };
  if (coreType === undefined) {
    coreType = coreTypeFromCpuFlags(readFileSync('/proc/cpuinfo', 'utf8'));
    if (coreType !== undefined) env['OPENBLAS_CORETYPE'] = coreType;
  }
  const script = fileURLToPath(new URL('../../bench/engine_twin.py', import.meta.url));
  const r = await runProcess(py, [script, '--tokens', String(tokens), '--threads', threads, '--steps', String(steps), '--gelu', geluKind], timeoutS, env);
  if (typeof r === 'string') return r;
  return { ...(r as TwinResult), coreType };
}

/** Per-kernel micro-benchmarks: the same op timed with stock and our kernels, interleaved. */
async function micro(): Promise<void> {
  const { tf } = await import('../src/engine/tf.js');
  type Tensor = import('../src/engine/tf.js').Tensor;
  const { initEngine } = await import('../src/engine/backend.js');
  const { registerFastKernels, registerMissingKernelsOnly } = await import('../src/engine/fastKernels.js');
  await initEngine({ backend: 'wasm', threads: 1 });
  const c = 1536;
  const rn = (shape: number[], seed: number): Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed);
  const x = rn([c, 512], 1);
  const w = rn([512, 128], 2);
  const dy = rn([c, 128], 3);
  const q = rn([64, 48, 32], 4);
  const k = rn([64, 48, 32], 5);
  const big = rn([16, 128, 512], 6);
  const rows = rn([6144, 128], 7);
  const idx = tf.tensor1d(Int32Array.from({ length: 24576 }, (_, i) => (i * 7919) % 6144), 'int32');
  const seg = tf.tensor1d(Int32Array.from({ length: 24576 }, (_, i) => (i * 7919) % 6144), 'int32');
  const vals = rn([24576, 128], 8);
  const h = rn([c * 512], 9);
  const cases: Array<[string, () => Tensor | Tensor[]]> = [
    ['matMul [1536,512]·[512,128]', () => tf.matMul(x, w)],
    ['matMul dX = dY·Wᵀ (transposeB)', () => tf.matMul(dy, w, false, true)],
    ['matMul dW = Xᵀ·dY (transposeA)', () => tf.matMul(x, dy, true, false)],
    ['batched q·kᵀ 64×(48×32×48)', () => tf.matMul(q, k, false, true)],
    ['gather 24576 rows of [6144,128]', () => tf.gather(rows, idx)],
    ['unsortedSegmentSum → [6144,128] (missing on stock)', () => tf.unsortedSegmentSum(vals, seg, 6144)],
    ['slice expert 5 of [16,128,512]', () => tf.slice(big, [5, 0, 0], [1, 128, 512])],
    ['unstack [16,128,512]', () => tf.unstack(big)],
    ['split [24576,128] into 16', () => tf.split(vals, 16, 0)],
    ['concat 2×[1536,512] axis 1', () => tf.concat([x, x], 1)],
    ['clone (Identity) [1536,512]', () => tf.clone(x)],
    ['exp [786k]', () => tf.exp(h)],
    ['erf [786k]', () => tf.erf(h)],
  ];
  const time = (f: () => Tensor | Tensor[], reps: number): number => {
    tf.dispose(f());
    const t = performance.now();
    for (let i = 0; i < reps; i++) tf.dispose(f());
    return (performance.now() - t) / reps;
  };
  console.log('per-op time, min over 5 interleaved rounds (stock = stock wasm + the missing kernels)');
  console.log('| op | stock ms | ours ms | speed-up |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, f] of cases) {
    const st: number[] = [];
    const ou: number[] = [];
    for (let r = 0; r < 5; r++) {
      registerMissingKernelsOnly();
      st.push(time(f, name.startsWith('matMul dW') || name.startsWith('matMul dX') ? 2 : 5));
      registerFastKernels();
      ou.push(time(f, 5));
    }
    const a = Math.min(...st);
    const b = Math.min(...ou);
    console.log(`| ${name} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(1)}× |`);
  }
}

/**
 * Side by side in ONE process, robust to other jobs on the machine: steps of the reference MoE
 * alternate between the wasm matmul and the native BLAS (both 1 thread), and the PyTorch twin
 * (1 thread) runs after; each step's process CPU time is recorded (with 1 thread, CPU time ≈ the
 * wall time on an idle core). Prints medians and ratios.
 */
async function interleaved(): Promise<void> {
  const { initEngine, engineBlas } = await import('../src/engine/backend.js');
  const { useNativeMatMul } = await import('../src/engine/fastKernels.js');
  const { ReferenceMoe } = await import('../src/engine/referenceMoe.js');
  const steps = Number(arg('steps', '5'));
  const tokens = Number(arg('tokens', String(32 * 4 * 48)));
  const timeoutS = Number(arg('timeout', '900'));
  await initEngine({ backend: 'wasm', threads: 1, blas: 'auto' });
  const blas = engineBlas();
  console.log(`interleaved in one process, 1 thread each; ${blas.line}`);
  if (!blas.active) {
    console.log('native BLAS unavailable: nothing to compare');
    return;
  }
  type Row = { name: string; wall: number[]; cpu: number[]; losses: number[] };
  const rows: Row[] = [];
  for (const gelu of ['erf', 'sigmoid'] as const) {
    const paths = [false, true].map((native) => ({ native, moe: new ReferenceMoe({ tokens, gelu }), row: { name: `${native ? 'native BLAS' : 'wasm'} ${gelu === 'erf' ? 'erf GELU' : 'σ-GELU'}`, wall: [] as number[], cpu: [] as number[], losses: [] as number[] } }));
    for (let i = 0; i <= steps; i++) {
      for (const p of paths) {
        useNativeMatMul(p.native);
        const c = process.cpuUsage();
        const t = performance.now();
        const loss = p.moe.step();
        const wall = performance.now() - t;
        const d = process.cpuUsage(c);
        p.row.losses.push(loss);
        if (i === 0) continue; // warm-up
        p.row.wall.push(wall);
        p.row.cpu.push((d.user + d.system) / 1000);
      }
    }
    for (const p of paths) {
      p.moe.dispose();
      rows.push(p.row);
    }
  }
  useNativeMatMul(true);
  const twin = flag('no-torch') ? 'skipped (--no-torch)' : await runTwin(tokens, 'erf', steps, timeoutS, '1');
  console.log('| path | median wall ms | median cpu ms | losses (steps 1–3) |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.name} | ${median(r.wall).toFixed(0)} | ${median(r.cpu).toFixed(0)} | ${r.losses.slice(0, 3).map((l) => l.toFixed(6)).join(' ')} |`);
  if (typeof twin === 'string') console.log(`PyTorch twin: ${twin}`);
  else console.log(`| PyTorch ${twin.torch} erf GELU (1 thread${twin.coreType ? `, OPENBLAS_CORETYPE=${twin.coreType}` : ''}) | ${twin.median.toFixed(0)} | ${twin.cpuMedian?.toFixed(0) ?? 'n/a'} | |`);
  const cpu = (name: string): number => median(rows.find((r) => r.name === name)!.cpu);
  const wall = (name: string): number => median(rows.find((r) => r.name === name)!.wall);
  console.log(`native/wasm speed-up (cpu time, erf GELU): ${(cpu('wasm erf GELU') / cpu('native BLAS erf GELU')).toFixed(2)}×`);
  console.log(`native/wasm speed-up (cpu time, σ-GELU): ${(cpu('wasm σ-GELU') / cpu('native BLAS σ-GELU')).toFixed(2)}×`);
  console.log(`ours: ${cpu('native BLAS erf GELU').toFixed(0)} ms cpu (native BLAS, erf GELU, 1 thread)`);
  console.log(`ours σ-GELU: ${cpu('native BLAS σ-GELU').toFixed(0)} ms cpu (native BLAS, 1 thread)`);
  if (typeof twin !== 'string' && twin.cpuMedian !== undefined) {
    console.log(`torch/ours (cpu time, 1 thread, erf GELU): ${(twin.cpuMedian / cpu('native BLAS erf GELU')).toFixed(2)}`);
  }
  if (typeof twin !== 'string') console.log(`torch/ours (wall time, 1 thread, erf GELU): ${(twin.median / wall('native BLAS erf GELU')).toFixed(2)}`);
}

if (flag('child')) await child();
else if (flag('interleaved')) await interleaved();
else if (flag('micro')) await micro();
else await main();

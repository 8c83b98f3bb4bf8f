/**
 * `fleximodal simulate …`: the theory lab's commands.
 *   simulate mlogit-moe   — seed 002 App. D convergence-rate study (Voronoi loss D_r vs n)
 *   simulate gaussian-moe — FuseMoE §4 analogue: softmax vs Laplace gating in a Gaussian MoE
 *   simulate em-trace     — seed 002 Fig. 3: EM negative log-likelihood per iteration per gate
 * The command logic lives in exported functions (parse*Options, run*) so it can be tested
 * without a process.
 */
import { writeFileAtomic } from '../io/atomicWrite.js';
import { OwnedOutputDir } from '../io/ownedOutput.js';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { z } from 'zod';
import { FlexiModalError } from '../errors.js';
import { parseGateTransform, gateTransformName } from '../theory/gateTransform.js';
import { formatStudyTable, linearSpacedSizes, logSpacedSizes, runRateStudy, type StudyResult } from '../theory/rateStudy.js';
import type { MlogitStudyConfig } from '../theory/rateUnit.js';
import type { GaussianStudyConfig } from '../theory/gaussianStudy.js';
import { logLogFit } from '../eval/plots/logLogFit.js';
import { lineChart } from '../eval/plots/lineChart.js';
import { emTraces, type EmTrace } from '../theory/emTrace.js';
import { registerFisherCommand } from './simulateFisher.js';
import { int, num, parseWith } from './simulateOptions.js';

const common = {
  nMin: num.pipe(z.number().min(2)).default(1e4),
  nMax: num.pipe(z.number().min(2)).default(1e5),
  sizes: int(1).default(20),
  reps: int(1).default(40),
  seed: int(0).default(1),
  init: z.enum(['truth', 'random']).default('truth'),
  initSd: num.pipe(z.number().min(0)).default(0.01),
  initSdExponent: num.default(0),
  tol: num.pipe(z.number().min(0)).default(1e-6),
  maxIter: int(1).default(2000),
  workers: int(1).default(2),
  out: z.string().min(1).optional(),
  quiet: z.boolean().default(false),
};

const mlogitSchema = z.object({
  ...common,
  regime: z.coerce.number().pipe(z.union([z.literal(1), z.literal(2)])).default(1),
  k: int(2).default(3),
  gate: z.string().default('standard'),
  newtonSteps: int(1).default(10),
  accelerate: z.enum(['none', 'squarem']).default('none'),
  initBeta0: z.enum(['split', 'truth']).default('split'),
  initGroups: z.enum(['random', 'pin-last']).default('random'),
  gauge: z.enum(['reference-cell', 'none']).default('reference-cell'),
  spacing: z.enum(['log', 'linear']).default('log'),
  r: num.pipe(z.number().min(1)).default(2),
  stop: z.enum(['relative', 'absolute']).default('relative'),
  emBudget: int(1).optional(),
  bound: num.pipe(z.number().positive()).optional(),
  mleTol: num.pipe(z.number().min(0)).default(1e-9),
});

const gaussianSchema = z.object({
  ...common,
  gate: z.enum(['softmax', 'laplace']).default('laplace'),
  k: int(2).default(3),
  loss: z.enum(['gate', 'd2']).default('gate'),
});

const traceSchema = z.object({
  gates: z.string().default('standard,sin,cos,log-abs'),
  regime: z.coerce.number().pipe(z.union([z.literal(1), z.literal(2)])).default(2),
  k: int(2).default(3),
  n: int(10).default(1e4),
  iterations: int(1).default(200),
  seed: int(0).default(1),
  initSd: num.pipe(z.number().min(0)).default(0.01),
  newtonSteps: int(1).default(10),
  dataGate: z.enum(['standard', 'own']).default('standard'),
  out: z.string().min(1).optional(),
  quiet: z.boolean().default(false),
});

/** Parsed options of `simulate mlogit-moe`. */
export type MlogitSimOptions = z.infer<typeof mlogitSchema>;
/** Parsed options of `simulate gaussian-moe`. */
export type GaussianSimOptions = z.infer<typeof gaussianSchema>;
/** Parsed options of `simulate em-trace`. */
export type EmTraceOptions = z.infer<typeof traceSchema>;

/** Validate the raw options of `simulate mlogit-moe` (errors name the flag). */
export function parseMlogitOptions(raw: Record<string, unknown>): MlogitSimOptions {
  const o = parseWith(mlogitSchema, raw, 'mlogit-moe');
  parseGateTransform(o.gate, '--gate');
  if (o.nMax < o.nMin) throw new FlexiModalError(`--n-max (${o.nMax}) is below --n-min (${o.nMin})`, { where: 'simulate mlogit-moe --n-max', hint: 'swap them' });
  if (o.k <= 2) throw new FlexiModalError(`--k ${o.k} is not over-specified (k* = 2)`, { where: 'simulate mlogit-moe --k', hint: 'use --k 3 or 4 as in App. D' });
  if (o.emBudget !== undefined && o.stop !== 'relative') {
    throw new FlexiModalError('--em-budget runs a fixed number of EM iterations and takes no stopping rule', { where: 'simulate mlogit-moe --em-budget', hint: 'drop --stop, or drop --em-budget' });
  }
  if (o.bound !== undefined && (o.emBudget !== undefined || o.stop !== 'relative' || o.accelerate !== 'none')) {
    throw new FlexiModalError('--bound selects the bounded MLE (projected Fisher scoring), not EM', { where: 'simulate mlogit-moe --bound', hint: 'drop --em-budget / --stop / --accelerate (the MLE stops on --mle-tol and --max-iter)' });
  }
  return o;
}

/** Validate the raw options of `simulate gaussian-moe`. */
export function parseGaussianOptions(raw: Record<string, unknown>): GaussianSimOptions {
  const o = parseWith(gaussianSchema, raw, 'gaussian-moe');
  if (o.nMax < o.nMin) throw new FlexiModalError(`--n-max (${o.nMax}) is below --n-min (${o.nMin})`, { where: 'simulate gaussian-moe --n-max', hint: 'swap them' });
  return o;
}

/** Validate the raw options of `simulate em-trace`. */
export function parseEmTraceOptions(raw: Record<string, unknown>): EmTraceOptions {
  const o = parseWith(traceSchema, raw, 'em-trace');
  for (const g of o.gates.split(',')) parseGateTransform(g, '--gates');
  return o;
}

function makeProgress(quiet: boolean, label: string): { update: (done: number, total: number) => void; stop: () => void } {
  if (quiet || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new SingleBar({ stream: process.stderr, format: `${label} [{bar}] {value}/{total} fits | {percentage}% | ETA {eta_formatted}`, hideCursor: true }, Presets.shades_classic);
  let started = false;
  return {
    update: (done, total) => {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** Run `fn` with `out` open as a reusable owned directory (src/io/ownedOutput.ts): a non-empty directory fleximodal did not write is refused. */
async function inReusableOut<T>(out: string | undefined, fn: () => Promise<T>): Promise<T> {
  const owned = out ? OwnedOutputDir.openReusable(out, 'simulate') : undefined;
  try {
    return await fn();
  } finally {
    owned?.close();
  }
}

async function writeStudyOutputs(out: string | undefined, res: StudyResult, title: string, lossLabel: string): Promise<void> {
  if (!out) return;
  await inReusableOut(out, async () => {
  writeFileAtomic(join(out, 'result.json'), `${JSON.stringify(res, null, 2)}\n`);
  writeFileAtomic(join(out, 'table.txt'), `${formatStudyTable(res, lossLabel)}\n`);
  const svg = await logLogFit(res.sizes, res.meanLoss, {
    title: `${title} — slope ${res.slope.toFixed(3)} ± ${res.slopeStderr.toFixed(3)}`,
    xLabel: 'sample size n',
    yLabel: `mean ${lossLabel}`,
    pointsLabel: `mean ${lossLabel}`,
  });
  writeFileAtomic(join(out, 'rate.svg'), svg);
  });
}

/** Run `simulate mlogit-moe` with validated options: the study, the table, and the files under --out. */
export async function runMlogitSimulation(o: MlogitSimOptions, log: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<StudyResult> {
  const cfg: MlogitStudyConfig = {
    kind: 'mlogit-moe',
    regime: o.regime as 1 | 2,
    k: o.k,
    gate: gateTransformName(parseGateTransform(o.gate)),
    seed: o.seed,
    init: o.init,
    initSd: o.initSd,
    ...(o.initSdExponent ? { initSdExponent: o.initSdExponent } : {}),
    // non-default protocol choices only, so that caches of earlier studies stay valid
    ...(o.initBeta0 !== 'split' ? { initBeta0: o.initBeta0 } : {}),
    ...(o.initGroups !== 'random' ? { initGroups: o.initGroups } : {}),
    ...(o.gauge !== 'reference-cell' ? { gauge: o.gauge } : {}),
    tol: o.tol,
    maxIter: o.emBudget ?? o.maxIter,
    newtonSteps: o.newtonSteps,
    accelerate: o.accelerate,
    r: o.r,
    // protocol: EM with the paper's relative rule unless told otherwise (absent keys keep old caches valid)
    ...(o.emBudget !== undefined ? { stop: 'budget' as const } : o.stop === 'absolute' ? { stop: 'absolute' as const } : {}),
    ...(o.bound !== undefined ? { bound: o.bound, ...(o.mleTol !== 1e-9 ? { mleTol: o.mleTol } : {}) } : {}),
  };
  const sizes = o.spacing === 'linear' ? linearSpacedSizes(o.nMin, o.nMax, o.sizes) : logSpacedSizes(o.nMin, o.nMax, o.sizes);
  const bar = makeProgress(o.quiet, `mlogit-moe R${cfg.regime} k=${cfg.k} ${cfg.gate}`);
  const res = await inReusableOut(o.out, () => runRateStudy(cfg, { sizes, reps: o.reps, workers: o.workers, outDir: o.out, onProgress: (d, t) => bar.update(d, t) }));
  bar.stop();
  const label = `D${cfg.r}`;
  log(formatStudyTable(res, label));
  await writeStudyOutputs(o.out, res, `Regime ${cfg.regime}, k = ${cfg.k}, gate ${cfg.gate}: mean ${label} vs n`, label);
  return res;
}

/** Run `simulate gaussian-moe` with validated options. */
export async function runGaussianSimulation(o: GaussianSimOptions, log: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<StudyResult> {
  const cfg: GaussianStudyConfig = { kind: 'gaussian-moe', gate: o.gate, k: o.k, seed: o.seed, init: o.init, initSd: o.initSd, ...(o.initSdExponent ? { initSdExponent: o.initSdExponent } : {}), tol: o.tol, maxIter: o.maxIter, loss: o.loss };
  const sizes = logSpacedSizes(o.nMin, o.nMax, o.sizes);
  const bar = makeProgress(o.quiet, `gaussian-moe ${cfg.gate} k=${cfg.k}`);
  const res = await inReusableOut(o.out, () => runRateStudy(cfg, { sizes, reps: o.reps, workers: o.workers, outDir: o.out, onProgress: (d, t) => bar.update(d, t) }));
  bar.stop();
  const label = o.loss === 'gate' ? 'D_gate' : 'D2';
  log(formatStudyTable(res, label));
  await writeStudyOutputs(o.out, res, `Gaussian MoE, ${cfg.gate} gate, k = ${cfg.k}: mean ${label} vs n`, label);
  return res;
}

/** Run `simulate em-trace` with validated options; writes trace.json and trace.svg under --out. */
export async function runEmTrace(o: EmTraceOptions, log: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<EmTrace[]> {
  const gates = o.gates.split(',').map((g) => g.trim());
  const traces = emTraces(
    { gates, regime: o.regime as 1 | 2, k: o.k, n: o.n, iterations: o.iterations, seed: o.seed, initSd: o.initSd, newtonSteps: o.newtonSteps, dataGate: o.dataGate },
    (t) => {
      if (!o.quiet) process.stderr.write(`em-trace: ${t.gate} done in ${t.seconds.toFixed(1)} s\n`);
    },
  );
  for (const t of traces) {
    const at = (i: number) => t.nll[Math.min(i, t.nll.length) - 1]!.toFixed(5);
    // checkpoints that exist: 1, 10, 100 (when run that long) and the last iteration
    const marks = [...new Set([1, 10, 100].filter((i) => i < t.nll.length).concat(t.nll.length))];
    log(`${t.gate.padEnd(12)} NLL/n init ${t.initialNll.toFixed(5)}  ${marks.map((i) => `it${i} ${at(i)}`).join('  ')}`);
  }
  if (o.out) {
    const owned = OwnedOutputDir.openReusable(o.out, 'simulate');
    try {
    writeFileAtomic(join(o.out, 'trace.json'), `${JSON.stringify({ config: o, traces }, null, 2)}\n`);
    const svg = await lineChart(
      traces.map((t) => ({ name: t.gate, x: t.nll.map((_, i) => i + 1), y: t.nll })),
      {
        title: `EM on Regime ${o.regime} data (${o.dataGate === 'standard' ? 'one sample, standard-gate truth' : "each gate's own truth"}), k = ${o.k}, n = ${o.n}`,
        logX: true,
        xLabel: 'EM iteration',
        yLabel: 'negative log-likelihood (per sample)',
      },
    );
    writeFileAtomic(join(o.out, 'trace.svg'), svg);
    } finally {
      owned.close();
    }
  }
  return traces;
}

function addStudyOptions(cmd: Command): Command {
  return cmd
    .option('--n-min <n>', 'smallest sample size', '1e4')
    .option('--n-max <n>', 'largest sample size', '1e5')
    .option('--sizes <count>', 'number of log-spaced sample sizes', '20')
    .option('--reps <count>', 'replications per size', '40')
    .option('--seed <int>', 'base seed (each (size, rep) gets its own stream)', '1')
    .option('--init <kind>', 'truth (App. D: random cell assignment + Gaussian perturbation) | random', 'truth')
    .option('--init-sd <sd>', 'standard deviation of the perturbation of the truth', '0.01')
    .option('--init-sd-exponent <e>', 'perturbation sd at size n = init-sd · n^e (authors\' code: 0.005 · n^-0.083)', '0')
    .option('--tol <eps>', 'EM stops when the relative change of the log-likelihood is below this', '1e-6')
    .option('--max-iter <count>', 'at most this many EM iterations', '2000')
    .option('--workers <count>', 'worker threads (results do not depend on it)', '2')
    .option('--out <dir>', 'write result.json, table.txt, rate.svg and the per-size cache here (resumable)')
    .option('--quiet', 'no progress bar', false);
}

/** Add `simulate mlogit-moe | gaussian-moe | em-trace` to a commander program. */
export function registerSimulateCommands(program: Command): void {
  const sim = program.command('simulate').description('theory lab: convergence-rate simulations for softmax-gating MoE (seed 002, FuseMoE §4)');
  addStudyOptions(
    sim
      .command('mlogit-moe')
      .description('seed 002 App. D: Voronoi loss D_r of the EM estimate vs n for the (modified) softmax-gating multinomial logistic MoE')
      .option('--regime <1|2>', '1: Table 2 truth; 2: Table 3 truth (b₂ = 0)', '1')
      .option('--k <count>', 'fitted number of experts (k* = 2)', '3')
      .option('--gate <name>', 'standard | sigmoid | tanh | cos | sin | log-abs | l2-normalize | pow<m>', 'standard')
      .option('--newton-steps <count>', 'Newton steps per M-step', '10')
      .option('--accelerate <kind>', 'none | squarem (accelerated EM)', 'none')
      .option('--r <order>', 'order r of the Voronoi loss', '2')
      .option('--init-beta0 <kind>', "split: β₀ⱼ* − log|Sⱼ| (cell mass starts at the truth) | truth: β₀ⱼ* for every atom of Sⱼ (App. D literally)", 'split')
      .option('--init-groups <kind>', 'random | pin-last (fitted atom k is always in the group of the pinned true atom k*)', 'random')
      .option('--gauge <kind>', 'Voronoi-loss gauge: reference-cell | none (eq. 5 on the fitted parameters as given)', 'reference-cell')
      .option('--spacing <kind>', 'sample sizes log- or linearly spaced (np.linspace in the authors\' code)', 'log')
      .option('--stop <rule>', "EM stopping rule: relative (paper: |Δℓ| ≤ tol·|ℓ|) | absolute (|Δℓ| ≤ tol)", 'relative')
      .option('--em-budget <count>', 'run exactly this many EM iterations (no stopping rule; replaces --max-iter)')
      .option('--bound <B>', 'bounded MLE instead of EM: projected Fisher scoring on |θ| ≤ B (reports the fits ending on the bound)')
      .option('--mle-tol <eps>', 'bounded MLE stops when its last 10 iterations raised ℓ by ≤ 10·eps·|ℓ|', '1e-9'),
  ).action(async (opts: Record<string, unknown>) => {
    await runMlogitSimulation(parseMlogitOptions(opts));
  });
  addStudyOptions(
    sim
      .command('gaussian-moe')
      .description('FuseMoE §4: Voronoi loss of the EM estimate vs n for a Gaussian MoE with softmax or Laplace gating')
      .option('--gate <name>', 'softmax | laplace', 'laplace')
      .option('--k <count>', 'fitted number of experts (k* = 2)', '3')
      .option('--loss <kind>', 'gate: gating-parameter Voronoi loss; d2: FuseMoE eq. 8', 'gate'),
  ).action(async (opts: Record<string, unknown>) => {
    await runGaussianSimulation(parseGaussianOptions(opts));
  });
  sim
    .command('em-trace')
    .description('seed 002 Fig. 3: per-iteration negative log-likelihood of EM for several gates')
    .option('--gates <list>', 'comma-separated gate names', 'standard,sin,cos,log-abs')
    .option('--regime <1|2>', 'truth of Table 2 or 3', '2')
    .option('--k <count>', 'fitted number of experts', '3')
    .option('--n <count>', 'sample size', '1e4')
    .option('--iterations <count>', 'EM iterations', '200')
    .option('--seed <int>', 'seed', '1')
    .option('--init-sd <sd>', 'perturbation of the truth at initialisation', '0.01')
    .option('--newton-steps <count>', 'Newton steps per M-step', '10')
    .option('--data-gate <kind>', "standard: one sample from the standard-gate truth for all gates; own: each gate's own truth (eq. 44)", 'standard')
    .option('--out <dir>', 'write trace.json and trace.svg here')
    .option('--quiet', 'no progress lines', false)
    .action(async (opts: Record<string, unknown>) => {
      await runEmTrace(parseEmTraceOptions(opts));
    });
  registerFisherCommand(sim);
}

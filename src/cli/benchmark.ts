/**
 * `fleximodal benchmark [--suite quick|standard|full] [--datasets …] [--methods …] [--protocols …]
 *  [--seeds 1,2,3] --out DIR [--workers auto|N] [--queue redis://HOST:PORT] [--only CELL]`
 * Every method × dataset × missingness protocol × seed as ordinary run directories under
 * DIR/cells, then DIR/leaderboard.{json,md,html} (src/benchmark/*).
 */
import type { Command } from 'commander';
import { parseSeeds } from './options.js';
import { runBenchmark } from '../benchmark/benchmark.js';

const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : undefined);

export function registerBenchmarkCommand(program: Command): void {
  program
    .command('benchmark')
    .description('every method × dataset × missingness protocol × seed as run directories, and a leaderboard (json, md, static html) with paired bootstrap intervals')
    .option('--suite <name>', 'quick (≤ 15 min on 2 cores), standard (docs/BENCHMARK.md) or full', 'quick')
    .option('--datasets <list>', 'comma-separated: synthetic, mfeat, physionet2012, physionet2012-panels, mimic-iv-ihm, mimic-iv-los, mimic-iv-phe (default: the suite’s)')
    .option('--methods <list>', 'comma-separated method ids (default: the suite’s; see docs/BENCHMARK.md)')
    .option('--protocols <list>', 'comma-separated: natural, drop30, drop50, longtail, extreme, unseen (default: the suite’s)')
    .option('--seeds <list>', 'comma-separated seeds (default: the suite’s)')
    .requiredOption('-o, --out <dir>', 'benchmark directory (an earlier one is resumed: finished cells are kept)')
    .option('--workers <n>', "local child processes: 'auto' (free cores) or a number", 'auto')
    .option('--queue <url>', 'run the cells on BullMQ workers (`fleximodal worker --queue <url>`) instead of locally, e.g. redis://127.0.0.1:6379')
    .option('--only <cell>', 'clear and rerun one cell (e.g. mfeat/drop30/remind/seed-1) or every cell under a prefix')
    .option('--data-dir <dir>', 'folder holding physionet2012/ and uci-mfeat/ (default: $FLEXIMODAL_DATA_DIR or the shared data folder beside the checkout)')
    .option('--mimic-iv <dir>', 'MIMIC-IV directory (hosp/, icu/) for the MIMIC-IV tasks (default: $MIMIC_IV_DIR)')
    .option('--epochs <n>', "override the suite's training epochs")
    .option('--bootstrap-reps <n>', 'bootstrap replicates of the intervals (default 1000)')
    .option('--tabulate', 'run no cell: write the leaderboard of the cells finished so far')
    .action(async (o: { suite: string; datasets?: string; methods?: string; protocols?: string; seeds?: string; out: string; workers: string; queue?: string; only?: string; dataDir?: string; mimicIv?: string; epochs?: string; bootstrapReps?: string; tabulate?: boolean }) => {
      const { leaderboard } = await runBenchmark({
        suite: o.suite,
        datasets: list(o.datasets),
        methods: list(o.methods),
        protocols: list(o.protocols),
        seeds: o.seeds ? parseSeeds(o.seeds) : undefined,
        out: o.out,
        workers: o.workers,
        queue: o.queue,
        only: o.only,
        dataDir: o.dataDir,
        mimicDir: o.mimicIv,
        epochs: o.epochs ? Number(o.epochs) : undefined,
        bootstrapReps: o.bootstrapReps ? Number(o.bootstrapReps) : undefined,
        tabulateOnly: o.tabulate,
      });
      // exit 1 when a cell failed for another reason than a model type this build lacks
      if (leaderboard.cells.failed.some((f) => !/^unknown model type/.test(f.reason))) process.exitCode = 1;
    });
}

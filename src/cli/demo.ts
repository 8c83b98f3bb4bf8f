/**
 * `fleximodal demo [--out <dir>]` — what the product is for, in about a minute: the late-fusion
 * baseline and FuseMoE trained on the same synthetic FlexiModal data (long-tailed missing
 * modalities, irregular times), same split and seed; their metrics side by side overall and per
 * modality-combination group, and FuseMoE's expert × modality heat-map (in the terminal and as SVG).
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { runExperiment } from '../run/experiment.js';
import type { MetricsJson } from '../eval/aggregate.js';
import type { ExpertUsage } from '../analysis/expertUsage.js';
import { loadRunConfig } from './train.js';
import { demoConfigPaths } from './defaults.js';
import { writeComparison } from './compare.js';
import { OwnedOutputDir } from '../io/ownedOutput.js';
import { FlexiModalError } from '../errors.js';
import { checkOverwriteForeign, OVERWRITE_FOREIGN_HELP } from './runDirOptions.js';

/** Shades from empty to full, for a terminal heat-map. */
const SHADES = [' ', '░', '▒', '▓', '█'];

/** A terminal heat-map of one block's expert × modality shares (rows = experts). */
export function terminalHeatmap(u: ExpertUsage, block = 0): string {
  const rows = u.shares[block]!;
  const width = Math.max(...u.modalities.map((m) => m.length), 4);
  const head = `${' '.repeat(18)}${u.modalities.map((m) => m.padStart(width)).join(' ')}`;
  const body = rows.map((r, e) => {
    const load = `${(100 * u.load[block]![e]!).toFixed(1)}%`.padStart(6);
    const cells = r.map((v) => {
      const shade = SHADES[Math.min(SHADES.length - 1, Math.round(v * (SHADES.length - 1)))]!;
      const value = v >= 0.995 ? '1.00' : v.toFixed(2).slice(1).padStart(4); // '.39'
      return (shade.repeat(width - 4) + value).padStart(width);
    });
    return `expert ${String(e).padStart(2)} ${load}  ${cells.join(' ')}`;
  });
  return [head, ...body].join('\n');
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('the built-in demo: baseline vs FuseMoE on synthetic data with long-tailed missing modalities, per-group table and expert heat-map')
    .option('-o, --out <dir>', 'output directory', 'runs/demo')
    .option('--backend <name>', 'tensor backend: wasm (default) or cpu')
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .option('--overwrite', 'replace the demo output of an earlier run (only the files fleximodal wrote)')
    .option('--overwrite-foreign', OVERWRITE_FOREIGN_HELP)
    .action(async (o: { out: string; backend?: string; progress: boolean; overwrite?: boolean; overwriteForeign?: boolean }) => {
      checkOverwriteForeign(o);
      const outDir = resolve(o.out);
      // runs/demo is one owned directory (src/io/ownedOutput.ts): a second `npm start` needs --overwrite
      const earlier = !o.overwrite && existsSync(outDir) && readdirSync(outDir).length > 0;
      if (earlier) {
        throw new FlexiModalError('the output directory is not empty (an earlier demo?)', {
          where: `--out ${o.out}`,
          hint: 'run `fleximodal demo --overwrite` (or `npm start -- --overwrite`) to replace what an earlier demo wrote, or choose another --out',
        });
      }
      const owned = OwnedOutputDir.open(outDir, { command: 'demo', mode: o.overwrite ? 'overwrite' : 'new', overwriteForeign: o.overwriteForeign });
      try {
      const results: Record<string, MetricsJson> = {};
      let usage: ExpertUsage | null | undefined;
      const paths = demoConfigPaths();
      for (const [name, path] of Object.entries(paths)) {
        const cfg = loadRunConfig(path, [], o.backend);
        process.stderr.write(`\n=== ${name}: ${cfg.name} (${path}) ===\n`);
        const res = await runExperiment(cfg, { baseDir: dirname(path), outDir: join(outDir, name), progress: o.progress ? 'auto' : false });
        results[name] = res.metrics;
        usage ??= res.seeds.find((s) => s.usage)?.usage;
      }
      const preamble =
        'Synthetic FlexiModal data (vitals and labs as irregular time series, timed note embeddings, static demographics; ' +
        'a long-tailed distribution of modality combinations), the same split and seed for both models; test split.';
      await writeComparison(outDir, 'late-fusion baseline vs FuseMoE', preamble, results);
      if (usage) {
        process.stdout.write(`\nFuseMoE expert usage on the test split (share of each modality in each expert's top-k assignments; load = share of all gate weight):\n\n`);
        process.stdout.write(terminalHeatmap(usage) + '\n');
        process.stdout.write(`\nSVG heat-map: ${join(outDir, 'fusemoe', 'plots', 'expert-usage-block0.svg')}; full reports: ${join(outDir, '<model>', 'summary.md')}\n`);
      }
      } finally {
        owned.close();
      }
      process.stdout.write(`\nNext: your own data (docs/DATA.md), PhysioNet 2012 (configs/), a saved model in a Node service (README "In a Node service").\n`);
    });
}

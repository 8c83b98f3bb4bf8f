/**
 * `fleximodal compare --config <file> --vary gating=softmax,gaussian,laplace [--vary ...] [--variant name:k=v;k=v] [--seeds 1,2,3]`
 * Trains every variant (the cartesian product of the --vary lists) with the same data, split and
 * seeds, and writes compare.json (variant → metrics.json object), compare.md and a plot.
 *
 * `fleximodal compare --run name=<run dir> --run ...` tabulates runs trained earlier (e.g. in
 * parallel processes) the same way, after checking that they used the same data, split and seeds.
 */
import { resolveConfigArg } from './defaults.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readConfigFile, applyOverride, parseConfig } from '../config/parse.js';
import { resolveSetPaths } from './setPaths.js';
import { runExperiment } from '../run/experiment.js';
import { compareTable } from '../eval/report.js';
import { validateMetricsJson, type MetricsJson, type MetricSummary } from '../eval/aggregate.js';
import { barChartWithErrors } from '../eval/plots/barChartWithErrors.js';
import { FlexiModalError } from '../errors.js';
import { parseSeeds, collect } from './options.js';
import { writeConsistencyComparison } from '../analysis/gradientConsistencyCompare.js';
import { runDirModeOf, checkOverwriteForeign, OVERWRITE_HELP, OVERWRITE_FOREIGN_HELP } from './runDirOptions.js';
import { assertRunComplete, isCompleteRun, withRunDirectory } from '../run/runDirectory.js';

/** One variant: a name ("gating=laplace,router=joint") and its overrides. */
export interface Variant {
  name: string;
  sets: string[];
}

/**
 * Explicit variants `name:key=value;key=value` (for settings that change together, e.g.
 * "joint+load:router=joint;loadWeight=0.01;entropyWeight=0").
 */
export function explicitVariantsOf(specs: string[]): Variant[] {
  return specs.map((spec) => {
    const colon = spec.indexOf(':');
    if (colon <= 0) throw new FlexiModalError(`--variant '${spec}' is not name:key=value;key=value`, { hint: 'e.g. --variant "joint:router=joint;loadWeight=0.01"' });
    const sets = spec.slice(colon + 1).split(';').map((x) => x.trim()).filter(Boolean);
    if (!sets.length) throw new FlexiModalError(`--variant '${spec}' sets no key`);
    return { name: spec.slice(0, colon), sets };
  });
}

/** Cartesian product of `key=v1,v2` specs (values are split on commas outside brackets). */
export function variantsOf(vary: string[]): Variant[] {
  if (!vary.length) throw new FlexiModalError('compare needs --vary key=v1,v2 or --variant name:key=value;...', { hint: 'e.g. --vary gating=softmax,gaussian,laplace' });
  let variants: Variant[] = [{ name: '', sets: [] }];
  for (const spec of vary) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new FlexiModalError(`--vary '${spec}' is not key=v1,v2,...`, { hint: 'e.g. --vary gating=softmax,laplace' });
    const key = spec.slice(0, eq);
    const values = splitTopLevel(spec.slice(eq + 1));
    if (!values.length) throw new FlexiModalError(`--vary '${spec}' lists no values`);
    variants = variants.flatMap((v) =>
      values.map((val) => ({ name: v.name ? `${v.name},${key}=${val}` : `${key}=${val}`, sets: [...v.sets, `${key}=${val}`] })),
    );
  }
  return variants;
}

/** Refuse a grid naming one variant twice (e.g. `--vary gating=softmax,softmax`) or two variants one folder. */
export function checkDistinctVariants(variants: Variant[]): void {
  const byName = new Map<string, string>();
  const bySlug = new Map<string, string>();
  for (const v of variants) {
    if (byName.has(v.name)) {
      throw new FlexiModalError(`the variant '${v.name}' is listed twice`, { where: '--vary / --variant', hint: 'give each value once in --vary, and each --variant its own name' });
    }
    const folder = slug(v.name);
    const other = bySlug.get(folder);
    if (other !== undefined) {
      throw new FlexiModalError(`variants '${other}' and '${v.name}' would share the output folder variants/${folder}`, { where: '--vary / --variant', hint: 'rename one --variant' });
    }
    byName.set(v.name, v.name);
    bySlug.set(folder, v.name);
  }
}

function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '[' || ch === '{') depth++;
    if (ch === ']' || ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

/** A finished run directory to tabulate: its metrics and what makes runs comparable. */
interface FinishedRun {
  name: string;
  dir: string;
  metrics: MetricsJson;
  /** data, externalData, split and seeds of its config.json / manifest.json. */
  protocol: Record<string, string>;
}

/** Read `name=dir` (a run directory written by train or compare). Errors name the file. */
export function readFinishedRun(spec: string): FinishedRun {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new FlexiModalError(`--run '${spec}' is not name=<run directory>`, { hint: 'write e.g. --run laplace=runs/laplace' });
  const name = spec.slice(0, eq);
  const dir = resolve(spec.slice(eq + 1));
  assertRunComplete(dir);
  const read = (file: string): unknown => {
    const path = join(dir, file);
    if (!existsSync(path)) throw new FlexiModalError(`${file} not found`, { where: path, hint: 'pass a run directory written by `fleximodal train` (or a compare variant directory)' });
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new FlexiModalError(`${file} is not valid JSON (${(e as Error).message})`, { where: path });
    }
  };
  const metrics = validateMetricsJson(read('metrics.json'), join(dir, 'metrics.json'));
  const cfg = withSchemaDefaults(read('config.json') as Record<string, unknown>, join(dir, 'config.json'));
  const manifest = read('manifest.json') as Record<string, unknown>;
  // file paths may be written relative to different config folders: the data hashes compare the files
  const protocol = {
    data: JSON.stringify(withoutPaths(cfg.data)),
    externalData: JSON.stringify(withoutPaths(cfg.externalData ?? null)),
    missingness: JSON.stringify(cfg.missingness ?? null),
    split: JSON.stringify(cfg.split),
    seeds: JSON.stringify(manifest.seeds),
    dataHashes: JSON.stringify(Object.values((manifest.dataHashes ?? {}) as Record<string, string>).sort()),
  };
  return { name, dir, metrics, protocol };
}

/**
 * A run's config.json with every key the current schema defaults filled in, so that runs written
 * before a key was added (e.g. `split.holdOutGroups: []`) compare equal to runs written after it.
 * A config the current schema no longer accepts is compared as written.
 */
function withSchemaDefaults(cfg: Record<string, unknown>, where: string): Record<string, unknown> {
  try {
    return parseConfig(cfg, where) as unknown as Record<string, unknown>;
  } catch {
    return cfg;
  }
}

/** A data-source section without its file-path keys. */
function withoutPaths(source: unknown): unknown {
  if (!source || typeof source !== 'object') return source;
  return Object.fromEntries(Object.entries(source).filter(([k]) => !['records', 'outcomes', 'path'].includes(k)));
}

/** Throw unless every run used the same data, split and seeds (naming the first difference). */
export function checkComparable(runs: FinishedRun[]): void {
  const [first, ...rest] = runs;
  for (const r of rest) {
    for (const key of Object.keys(first!.protocol)) {
      if (first!.protocol[key] !== r.protocol[key]) {
        throw new FlexiModalError(`runs '${first!.name}' and '${r.name}' differ in ${key}: ${first!.protocol[key]} vs ${r.protocol[key]}`, {
          where: `${first!.dir} vs ${r.dir}`,
          hint: 'compare runs trained on the same data, split and seeds, or pass --allow-mismatch to tabulate them anyway',
        });
      }
    }
  }
}

/** Per-group rows of the comparison: groups with at least this many samples in the split (all groups stay in compare.json). */
const MIN_GROUP_N = 10;

/** Write compare.json, compare.md and the test-AUROC bar chart; print the Markdown. */
/** Write compare.json, compare.md and the AUROC bar chart into `outDir`, and print the table. */
export async function writeComparison(outDir: string, title: string, preamble: string, results: Record<string, MetricsJson>): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  writeFileAtomic(join(outDir, 'compare.json'), JSON.stringify(results, null, 2) + '\n');
  const hasExternal = Object.values(results).some((m) => m.external);
  const md = [
    `# Comparison: ${title}`,
    '',
    preamble,
    '',
    compareTable(results, { split: 'test', groups: true, minGroupN: MIN_GROUP_N }),
    '',
    ...(hasExternal ? ['## External test set', '', compareTable(results, { split: 'external', groups: true, minGroupN: MIN_GROUP_N }), ''] : []),
  ].join('\n');
  writeFileAtomic(join(outDir, 'compare.md'), md);
  const bars = Object.entries(results)
    .map(([name, m]) => ({ name, s: m.test?.auroc as MetricSummary | undefined }))
    .filter((b) => b.s && b.s.mean !== null)
    .map((b) => ({ label: b.name, mean: b.s!.mean!, std: b.s!.std ?? undefined }));
  if (bars.length) writeFileAtomic(join(outDir, 'compare-test-auroc.svg'), await barChartWithErrors(bars, { title: 'test AUROC per variant', yLabel: 'AUROC' }));
  process.stdout.write(md + '\n');
  process.stdout.write(`\nwrote ${join(outDir, 'compare.json')}, compare.md and compare-test-auroc.svg\n`);
}

/** Directory-safe variant name. */
function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9_.=-]+/g, '_');
}

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('train config variants side by side (same data, split, seeds) and tabulate mean ± std overall and per group')
    .option('-c, --config <file>', 'base run configuration (JSON); required unless --run is used')
    .option('--vary <key=v1,v2>', 'a config key and its values (repeatable; variants = cartesian product)', collect, [])
    .option('--variant <name:k=v;k=v>', 'an explicit variant setting several keys together (repeatable)', collect, [])
    .option('--run <name=dir>', 'tabulate a finished run directory as a variant instead of training (repeatable)', collect, [])
    .option('--allow-mismatch', 'with --run: tabulate runs even when their data, split or seeds differ')
    .option('--seeds <list>', 'comma-separated seeds, e.g. 1,2,3')
    .option('-o, --out <dir>', 'output directory', 'runs/compare')
    .option('--set <key=value>', 'override a config key for every variant (repeatable)', collect, [])
    .option('--backend <name>', 'tensor backend: wasm (default) or cpu')
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .option('--overwrite', OVERWRITE_HELP)
    .option('--overwrite-foreign', OVERWRITE_FOREIGN_HELP)
    .option('--resume', 'continue an interrupted compare: finished variants are kept, the others resume from their checkpoints')
    .action(
      async (o: { config?: string; vary: string[]; variant: string[]; run: string[]; allowMismatch?: boolean; seeds?: string; out: string; set: string[]; backend?: string; progress: boolean; overwrite?: boolean; resume?: boolean; overwriteForeign?: boolean }) => {
        const outDir = resolve(o.out);
        const mode = runDirModeOf(o);
        checkOverwriteForeign(o);
        const overwriteForeign = o.overwriteForeign;
        if (o.run.length) {
          if (o.config || o.vary.length || o.variant.length || o.set.length || o.seeds) {
            throw new FlexiModalError('--run tabulates finished runs: it cannot be combined with --config, --vary, --variant, --set or --seeds', {
              hint: 'train the variants first (or use --vary without --run)',
            });
          }
          const runs = o.run.map(readFinishedRun);
          const names = new Set<string>();
          for (const r of runs) {
            if (names.has(r.name)) throw new FlexiModalError(`--run name '${r.name}' is used twice`, { hint: 'give every run its own name' });
            names.add(r.name);
          }
          if (!o.allowMismatch) checkComparable(runs);
          const preamble = `Finished runs: ${runs.map((r) => `${r.name} = \`${r.dir}\``).join('; ')}; seeds ${runs[0]!.protocol.seeds}; mean ± std over seeds.${o.allowMismatch ? ' Runs were not checked for the same data, split and seeds (--allow-mismatch).' : ' Same data, split and seeds (checked).'}`;
          await withRunDirectory(outDir, { mode: mode === 'resume' ? 'overwrite' : mode, identity: { runs: o.run }, command: 'compare', overwriteForeign }, async () => {
            await writeComparison(outDir, runs.map((r) => r.name).join(' vs '), preamble, Object.fromEntries(runs.map((r) => [r.name, r.metrics])));
            const gc = await writeConsistencyComparison(outDir, runs);
            if (gc) process.stdout.write(`wrote ${join(outDir, gc)}\n`);
          });
          return;
        }
        if (!o.config) throw new FlexiModalError('compare needs --config <file> (or --run name=<dir> to tabulate finished runs)');
        const configPath = resolveConfigArg(o.config);
        const base = readConfigFile(configPath);
        const variants = [...(o.vary.length || !o.variant.length ? variantsOf(o.vary) : []), ...explicitVariantsOf(o.variant)];
        const seeds = o.seeds !== undefined ? parseSeeds(o.seeds) : undefined;
        // validate every variant (names, output folders, configs) before training any
        checkDistinctVariants(variants);
        const configs = variants.map((v) => {
          let raw = base;
          for (const s of o.set) raw = resolveSetPaths(applyOverride(raw, s), s);
          for (const s of v.sets) raw = applyOverride(raw, s);
          if (o.backend) raw = applyOverride(raw, `engine.backend=${o.backend}`);
          return parseConfig(raw, `${configPath} with ${v.name}`);
        });
        await withRunDirectory(outDir, { mode, identity: { configs, seeds: seeds ?? null }, command: 'compare', overwriteForeign }, async (run) => {
          const results: Record<string, MetricsJson> = {};
          for (let i = 0; i < variants.length; i++) {
            const v = variants[i]!;
            const variantDir = join(outDir, 'variants', slug(v.name));
            if (run.resumed && isCompleteRun(variantDir)) {
              // the compare's run.json matched: this variant was trained with the same config and seeds
              process.stderr.write(`\n=== variant ${i + 1}/${variants.length}: ${v.name} (finished before the interruption) ===\n`);
              results[v.name] = validateMetricsJson(JSON.parse(readFileSync(join(variantDir, 'metrics.json'), 'utf8')), join(variantDir, 'metrics.json'));
            } else {
              process.stderr.write(`\n=== variant ${i + 1}/${variants.length}: ${v.name} ===\n`);
              const res = await runExperiment(configs[i]!, {
                baseDir: dirname(configPath),
                outDir: variantDir,
                seeds,
                progress: o.progress ? 'auto' : false,
                runDir: run.resumed ? 'resume' : 'new',
              });
              results[v.name] = res.metrics;
            }
            writeFileAtomic(join(outDir, 'compare.json'), JSON.stringify(results, null, 2) + '\n');
          }
          const preamble = `Base config \`${o.config}\`; seeds ${(seeds ?? configs[0]!.seeds).join(', ')}; mean ± std over seeds.`;
          await writeComparison(outDir, [...o.vary, ...o.variant].join(' × '), preamble, results);
          await writeConsistencyComparison(outDir, variants.map((v) => ({ name: v.name, dir: join(outDir, 'variants', slug(v.name)) })));
        });
      },
    );
}

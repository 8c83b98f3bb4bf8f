/**
 * The run side of `split.holdOutGroups`: removes the held-out groups before the split and writes
 * `heldout.json` (groups, sample ids of the fine-tuning and test parts, and the data directory),
 * which `fleximodal finetune` reads.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Dataset } from '../data/schema.js';
import type { RunConfig } from '../config/schema.js';
import { holdOutGroups } from '../data/holdOut.js';
import { FlexiModalError } from '../errors.js';
import { writeFileAtomic } from '../io/atomicWrite.js';

/** Contents of heldout.json. */
export interface HeldOutFile {
  groups: Record<string, number>;
  fraction: number;
  seed: number;
  /** Directory the config's data paths are relative to (absolute). */
  baseDir: string;
  finetune: string[];
  test: string[];
}

/** Seed of the held-out partition: the split seed (0 with per-seed splits). */
function holdOutSeed(cfg: RunConfig): number {
  return typeof cfg.split.seed === 'number' ? cfg.split.seed : 0;
}

/** The dataset without the held-out groups (unchanged when none are configured); writes heldout.json. */
export function withoutHeldOutGroups(dataset: Dataset, cfg: RunConfig, outDir: string, baseDir: string, log: (l: string) => void): Dataset {
  const groups = cfg.split.holdOutGroups;
  if (!groups.length) return dataset;
  const p = holdOutGroups(dataset, groups, cfg.split.holdOutFinetuneFraction, holdOutSeed(cfg));
  const file: HeldOutFile = {
    groups: p.counts,
    fraction: cfg.split.holdOutFinetuneFraction,
    seed: holdOutSeed(cfg),
    baseDir: resolve(baseDir),
    finetune: p.finetune.map((s) => s.id),
    test: p.test.map((s) => s.id),
  };
  writeFileAtomic(join(outDir, 'heldout.json'), JSON.stringify(file, null, 2) + '\n');
  log(p.rest.report.notes[p.rest.report.notes.length - 1]!);
  return p.rest;
}

/** Reads `<runDir>/heldout.json`; errors say how to get one. */
export function readHeldOutFile(runDir: string): HeldOutFile {
  const path = join(runDir, 'heldout.json');
  if (!existsSync(path)) {
    throw new FlexiModalError('heldout.json not found: the run held no group out', { where: path, hint: 'train with split.holdOutGroups, e.g. --set split.holdOutGroups=["fac+fou"]' });
  }
  return JSON.parse(readFileSync(path, 'utf8')) as HeldOutFile;
}

/**
 * The held-out groups' test part (the samples `fleximodal finetune` evaluates on), in the order of
 * heldout.json; empty when no group is held out. `dataset` is the data before the groups were removed.
 */
export function heldOutTestSamples(dataset: Dataset, cfg: RunConfig): Dataset['samples'] {
  const groups = cfg.split.holdOutGroups;
  if (!groups.length) return [];
  return holdOutGroups(dataset, groups, cfg.split.holdOutFinetuneFraction, holdOutSeed(cfg)).test;
}

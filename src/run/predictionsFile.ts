/**
 * Per-sample predictions of one seed on one evaluated part, written beside the run's other outputs
 * as `seeds/<seed>/predictions-<part>.json` (part `test`, or `heldout-test` for the held-out groups
 * of split.holdOutGroups). They let a paired comparison of two runs resample the same test samples
 * (the benchmark's bootstrap intervals, src/benchmark/bootstrap.ts).
 *
 *   { "part": "test", "seed": 1, "task": "binary", "width": 1,
 *     "ids": [id…], "groups": [group name…], "labels": [number…] ([N] or [N·L] row-major),
 *     "probs": [number…] ([N·width] row-major) }
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlexiModalError } from '../errors.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import type { DatasetSpec, Sample } from '../data/schema.js';
import { groupIdOf, groupName } from '../data/groups.js';
import { labelsOf, type Predictions } from '../train/predict.js';

/** Which evaluated part a predictions file holds. */
export type PredictionPart = 'test' | 'heldout-test';

/** Contents of a predictions file. */
export interface PredictionsFile {
  part: PredictionPart;
  seed: number;
  task: DatasetSpec['task']['kind'];
  /** Columns per sample in `probs` (1 for binary). */
  width: number;
  ids: string[];
  /** Modality-combination group of each sample. */
  groups: string[];
  /** [N] (binary / multiclass index) or [N·L] row-major (multi-label). */
  labels: number[];
  /** [N·width] row-major probabilities. */
  probs: number[];
}

/** Path of a seed's predictions file in a run directory. */
export function predictionsPath(runDir: string, seed: number, part: PredictionPart): string {
  return join(runDir, 'seeds', String(seed), `predictions-${part}.json`);
}

/** Write the predictions of `samples` (in the same order as `predictions.ids`). */
export function writePredictionsFile(runDir: string, seed: number, part: PredictionPart, spec: DatasetSpec, samples: Sample[], predictions: Predictions): void {
  const byId = new Map(samples.map((s) => [s.id, s] as const));
  const ordered = predictions.ids.map((id) => byId.get(id)!);
  const file: PredictionsFile = {
    part,
    seed,
    task: spec.task.kind,
    width: predictions.width,
    ids: predictions.ids,
    groups: ordered.map((s) => groupName(spec, groupIdOf(spec, s))),
    labels: Array.from(labelsOf(spec.task, ordered)),
    probs: Array.from(predictions.probs),
  };
  writeFileAtomic(predictionsPath(runDir, seed, part), JSON.stringify(file) + '\n');
}

/** Read a predictions file; errors name the file and say how to get one. */
export function readPredictionsFile(runDir: string, seed: number, part: PredictionPart): PredictionsFile {
  const path = predictionsPath(runDir, seed, part);
  if (!existsSync(path)) {
    throw new FlexiModalError(`predictions-${part}.json not found`, { where: path, hint: 'runs written before per-sample predictions were saved lack it: train the run again' });
  }
  const f = JSON.parse(readFileSync(path, 'utf8')) as PredictionsFile;
  if (!Array.isArray(f.ids) || !Array.isArray(f.probs) || f.probs.length !== f.ids.length * f.width) {
    throw new FlexiModalError(`predictions file is malformed (${f.ids?.length} ids, ${f.probs?.length} probabilities, width ${f.width})`, { where: path, hint: 'train the run again' });
  }
  return f;
}

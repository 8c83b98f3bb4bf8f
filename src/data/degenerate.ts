/**
 * Degenerate inputs that would otherwise train or score "successfully" with a meaningless
 * result: samples with no modality at all, a training / validation split with one class only,
 * and evaluation on the very samples a model was trained on (detected by sample id AND a hash of
 * the sample's data, from the `train-samples.json` written next to a saved model).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlexiModalError } from '../errors.js';
import type { Dataset, DatasetSpec, Sample, TaskSpec } from './schema.js';
import { listIds, hasNoModality } from './report.js';
import { sampleToJson } from './sources/jsonl.js';
import { writeFileAtomic } from '../io/atomicWrite.js';

export { NO_MODALITY, hasNoModality } from './report.js';

/**
 * `emptySamples: 'refuse'`: an error listing the samples with no modality (they are counted in the
 * data report either way; with 'flag' they are kept).
 */
export function checkEmptySamples(dataset: Pick<Dataset, 'samples'>, policy: 'flag' | 'refuse', where: string): void {
  if (policy !== 'refuse') return;
  const ids = dataset.samples.filter(hasNoModality).map((s) => s.id);
  if (ids.length) {
    throw new FlexiModalError(`${ids.length} sample(s) have no modality at all: ${listIds(ids)}`, {
      where,
      hint: "remove them from the data, or set emptySamples: 'flag' to keep them (their prediction is the prior risk)",
    });
  }
}

/** Label values present in samples (class index per sample; multilabel: per label, the set of 0/1 seen). */
function classCounts(task: TaskSpec, samples: Sample[]): Map<number, number> {
  const counts = new Map<number, number>();
  if (task.kind === 'multilabel') return counts;
  for (const s of samples) counts.set(s.label as number, (counts.get(s.label as number) ?? 0) + 1);
  return counts;
}

/**
 * A split whose training part holds one class only cannot learn anything, and a binary
 * validation part with one class cannot select an epoch or a threshold: both are errors.
 */
export function checkSplitClasses(task: TaskSpec, parts: { train: Sample[]; val: Sample[] }, where: string): void {
  if (task.kind === 'multilabel') return;
  const name = (k: number) => (task.kind === 'multiclass' ? (task.classes[k] ?? String(k)) : String(k));
  const describe = (c: Map<number, number>) => [...c].map(([k, n]) => `${n} × ${name(k)}`).join(', ') || 'none';
  const train = classCounts(task, parts.train);
  if (train.size < 2) {
    throw new FlexiModalError(`the training split has one class only (${describe(train)}): nothing to learn`, {
      where,
      hint: 'check the labels (all the same?), or use a stratified split with more data',
    });
  }
  const val = classCounts(task, parts.val);
  if (task.kind === 'binary' && val.size < 2) {
    throw new FlexiModalError(`the validation split has one class only (${describe(val)}): AUROC and the decision threshold are undefined`, {
      where,
      hint: 'use a larger validation fraction or more data (splits are stratified)',
    });
  }
}

/** File written next to a saved model: id and data hash of every training sample. */
export const TRAIN_SAMPLES_FILE = 'train-samples.json';

/** Hash of a sample's data and label (not its id), 16 hex digits. */
export function sampleHash(spec: DatasetSpec, s: Sample): string {
  const { id: _id, ...data } = sampleToJson(spec, s);
  return createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16);
}

/** Write `train-samples.json` (id → data hash of the training samples) into a model directory. */
export function writeTrainingSamples(modelDir: string, spec: DatasetSpec, samples: Sample[]): void {
  const hashes = Object.fromEntries(samples.map((s) => [s.id, sampleHash(spec, s)]));
  writeFileAtomic(join(modelDir, TRAIN_SAMPLES_FILE), JSON.stringify({ version: 1, samples: hashes }) + '\n');
}

/**
 * Samples that the model in `modelDir` was trained on: same id and same data hash. null when the
 * model directory has no `train-samples.json` (older models).
 */
export function trainingOverlap(modelDir: string, spec: DatasetSpec, samples: Sample[]): string[] | null {
  const p = join(modelDir, TRAIN_SAMPLES_FILE);
  if (!existsSync(p)) return null;
  let known: Record<string, string>;
  try {
    known = (JSON.parse(readFileSync(p, 'utf8')) as { samples: Record<string, string> }).samples ?? {};
  } catch (e) {
    throw new FlexiModalError(`cannot read ${TRAIN_SAMPLES_FILE}: ${(e as Error).message}`, { where: p, hint: 'delete the file or re-save the model' });
  }
  return samples.filter((s) => known[s.id] !== undefined && known[s.id] === sampleHash(spec, s)).map((s) => s.id);
}

/** Ids of `samples` that are also in `training` (same id and same data hash). */
export function sharedWithTraining(spec: DatasetSpec, training: Sample[], samples: Sample[]): string[] {
  const known = new Map(training.map((s) => [s.id, s]));
  return samples.filter((s) => known.has(s.id) && sampleHash(spec, known.get(s.id)!) === sampleHash(spec, s)).map((s) => s.id);
}

/** The warning for an overlap (log line and metrics.json). */
export function overlapWarning(ids: string[], total: number): string {
  return `${ids.length} of ${total} evaluated samples are training samples of this model (same id and data hash): these metrics are not a held-out estimate — ${listIds(ids, 10)}`;
}

/**
 * Seeded stratified train/val/test splits and the split file (JSON).
 *
 * Stratum of a sample: the label (binary/multiclass); for multilabel, by default the number of
 * positive labels (capped at 3 → strata 0, 1, 2, 3+), or the first label with
 * `multilabelStratify: 'first'`. Within each stratum the ids are shuffled with the seed and cut
 * by largest remainder, so each split's count of every stratum is within ±1 of fraction × count.
 *
 * Patient-level splits: when samples carry a `subject` id, the unit that is shuffled and cut is
 * the subject (all its samples go to one split), its stratum the largest stratum key of its
 * samples (binary: positive when any of its samples is), and the split file also lists the
 * subject ids of each split (`subjects`). Samples without a subject are units of their own.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { z } from 'zod';
import { FlexiModalError } from '../errors.js';
import { Rng } from '../engine/rng.js';
import type { Dataset, Sample } from './schema.js';

/** A train/val/test split by sample id. */
export interface Split {
  seed: number;
  /** [train, val, test], summing to 1. */
  fractions: [number, number, number];
  train: string[];
  val: string[];
  test: string[];
  /** Subject (patient) ids per split, when the samples carry subjects; no subject is in two. */
  subjects?: { train: string[]; val: string[]; test: string[] };
}

/** Options of `stratifiedSplit`. */
export interface SplitOptions {
  seed: number;
  /** Default [0.7, 0.15, 0.15]. */
  fractions?: [number, number, number];
  /** Multilabel stratum: number of positive labels (default, capped at 3) or the first label. */
  multilabelStratify?: 'count' | 'first';
}

/** Stratum key of a sample (see the module comment). */
export function stratumOf(sample: Sample, multilabelStratify: 'count' | 'first' = 'count'): string {
  const y = sample.label;
  if (Array.isArray(y)) {
    if (multilabelStratify === 'first') return String(y[0] ?? 0);
    return String(Math.min(3, y.reduce((a, b) => a + (b > 0 ? 1 : 0), 0)));
  }
  return String(y);
}

/** Seeded stratified split of a dataset's samples (ids keep dataset order within each split). */
export function stratifiedSplit(dataset: Pick<Dataset, 'samples'>, opts: SplitOptions): Split {
  const fractions = opts.fractions ?? [0.7, 0.15, 0.15];
  checkFractions(fractions, 'fractions');
  const { unitOf, unitStrata } = splitUnits(dataset.samples, opts.multilabelStratify);
  const strata = new Map<string, number[]>();
  unitStrata.forEach((k, u) => {
    let a = strata.get(k);
    if (!a) strata.set(k, (a = []));
    a.push(u);
  });
  const rng = new Rng(opts.seed);
  const assign = new Int8Array(unitStrata.length);
  for (const key of [...strata.keys()].sort()) {
    const idx = rng.shuffle([...strata.get(key)!]);
    const n = idx.length;
    const exact = fractions.map((f) => f * n);
    const counts = exact.map(Math.floor);
    let rest = n - counts.reduce((a, b) => a + b, 0);
    const order = [0, 1, 2].sort((a, b) => exact[b]! - counts[b]! - (exact[a]! - counts[a]!) || a - b);
    for (let k = 0; rest > 0; k = (k + 1) % 3, rest--) counts[order[k]!]!++;
    let p = 0;
    for (let part = 0; part < 3; part++) for (let c = 0; c < counts[part]!; c++) assign[idx[p++]!] = part;
  }
  const out: Split = { seed: opts.seed, fractions: [...fractions], train: [], val: [], test: [] };
  dataset.samples.forEach((s, i) => [out.train, out.val, out.test][assign[unitOf[i]!]!]!.push(s.id));
  const subjects = subjectsOfSplit(dataset.samples, out);
  if (subjects) out.subjects = subjects;
  return out;
}

/**
 * Units of a split: each subject (all its samples) or, for a sample without a subject, the sample
 * itself; `unitOf[i]` is sample i's unit, `unitStrata[u]` the unit's stratum key (the largest of
 * its samples' keys, compared numerically). Without subjects unit i = sample i.
 */
function splitUnits(samples: Sample[], multilabelStratify: 'count' | 'first' | undefined): { unitOf: Int32Array; unitStrata: string[] } {
  const unitOf = new Int32Array(samples.length);
  const unitStrata: string[] = [];
  const bySubject = new Map<string, number>();
  samples.forEach((s, i) => {
    const k = stratumOf(s, multilabelStratify);
    const known = s.subject === undefined ? undefined : bySubject.get(s.subject);
    if (known === undefined) {
      unitOf[i] = unitStrata.length;
      if (s.subject !== undefined) bySubject.set(s.subject, unitStrata.length);
      unitStrata.push(k);
    } else {
      unitOf[i] = known;
      if (Number(k) > Number(unitStrata[known])) unitStrata[known] = k;
    }
  });
  return { unitOf, unitStrata };
}

/** Sorted subject ids per split, or undefined when no sample has a subject. */
function subjectsOfSplit(samples: Sample[], split: Split): Split['subjects'] {
  if (!samples.some((s) => s.subject !== undefined)) return undefined;
  const subjectOf = new Map(samples.map((s) => [s.id, s.subject]));
  const part = (ids: string[]) => [...new Set(ids.map((id) => subjectOf.get(id)).filter((x): x is string => x !== undefined))].sort();
  return { train: part(split.train), val: part(split.val), test: part(split.test) };
}

function checkFractions(f: number[], where: string): void {
  if (f.length !== 3 || f.some((x) => !(x >= 0)) || Math.abs(f[0]! + f[1]! + f[2]! - 1) > 1e-6) {
    throw new FlexiModalError(`split fractions must be 3 non-negative numbers summing to 1, got [${f.join(', ')}]`, {
      where,
      hint: 'e.g. [0.7, 0.15, 0.15]',
    });
  }
}

const splitFileSchema = z.object({
  seed: z.number().int(),
  fractions: z.tuple([z.number(), z.number(), z.number()]),
  train: z.array(z.string()),
  val: z.array(z.string()),
  test: z.array(z.string()),
  subjects: z.object({ train: z.array(z.string()), val: z.array(z.string()), test: z.array(z.string()) }).optional(),
});

/** Write a split file (JSON: { seed, fractions, train, val, test }). */
export async function writeSplitFile(path: string, split: Split): Promise<void> {
  writeFileAtomic(path, JSON.stringify(split, null, 1) + '\n');
}

/**
 * Read a split file and validate it against the dataset: every id must exist in the dataset and
 * no id may be in two splits (or twice in one). Dataset samples absent from the file are allowed
 * (they are simply not used); `splitSamples` lists them.
 */
export async function readSplitFile(path: string, dataset: Pick<Dataset, 'samples'>): Promise<Split> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new FlexiModalError(`split file not found: ${path}`, { where: path });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FlexiModalError(`split file is not valid JSON: ${(e as Error).message}`, { where: path });
  }
  const r = splitFileSchema.safeParse(raw);
  if (!r.success) {
    const iss = r.error.issues[0]!;
    throw new FlexiModalError(`invalid split file: ${iss.path.join('.') || '(root)'}: ${iss.message}`, {
      where: path,
      hint: 'expected { "seed", "fractions": [tr, va, te], "train": [ids], "val": [ids], "test": [ids] }',
    });
  }
  const split = r.data as Split;
  checkFractions(split.fractions, `${path}: fractions`);
  const known = new Set(dataset.samples.map((s) => s.id));
  const seen = new Map<string, string>();
  for (const part of ['train', 'val', 'test'] as const) {
    for (const id of split[part]) {
      if (!known.has(id)) {
        throw new FlexiModalError(`split "${part}" lists id "${id}" which is not in the dataset`, {
          where: path,
          hint: 'the split file belongs to another dataset; regenerate it',
        });
      }
      const prev = seen.get(id);
      if (prev !== undefined) {
        throw new FlexiModalError(`id "${id}" is in two splits ("${prev}" and "${part}")`, { where: path });
      }
      seen.set(id, part);
    }
  }
  checkSubjectsDisjoint(split, dataset.samples, path);
  return split;
}

/**
 * No subject may have samples in two splits (checked against the dataset's samples, and against
 * the file's own `subjects` lists when present).
 */
function checkSubjectsDisjoint(split: Split, samples: Sample[], where: string): void {
  const subjectOf = new Map(samples.map((s) => [s.id, s.subject]));
  const partOf = new Map<string, string>();
  for (const part of ['train', 'val', 'test'] as const) {
    const subjects = [...split[part].map((id) => subjectOf.get(id)), ...(split.subjects?.[part] ?? [])];
    for (const subject of subjects) {
      if (subject === undefined) continue;
      const prev = partOf.get(subject);
      if (prev !== undefined && prev !== part) {
        throw new FlexiModalError(`subject "${subject}" has samples in two splits ("${prev}" and "${part}")`, {
          where,
          hint: 'stays of one patient are correlated: draw a patient-level split (omit split.file) or move all of the subject\'s samples to one split',
        });
      }
      partOf.set(subject, part);
    }
  }
}

/** The samples of each split (split-file order), plus ids of dataset samples in no split. */
export function splitSamples(dataset: Pick<Dataset, 'samples'>, split: Split): { train: Sample[]; val: Sample[]; test: Sample[]; unassigned: string[] } {
  const byId = new Map(dataset.samples.map((s) => [s.id, s]));
  const pick = (ids: string[]) =>
    ids.map((id) => {
      const s = byId.get(id);
      if (!s) throw new FlexiModalError(`split id "${id}" is not in the dataset`);
      return s;
    });
  const used = new Set([...split.train, ...split.val, ...split.test]);
  return {
    train: pick(split.train),
    val: pick(split.val),
    test: pick(split.test),
    unassigned: dataset.samples.filter((s) => !used.has(s.id)).map((s) => s.id),
  };
}

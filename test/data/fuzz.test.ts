/**
 * Property-based fuzzing of the readers and of config parsing (fast-check): random and mutated
 * inputs either load, with every value of every Sample finite (static NaN = missing entry), or
 * fail with a FlexiModalError — never another error, never a hang (each case is time-bounded).
 * The number of cases of each property is in its test name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FlexiModalError } from '../../src/errors.js';
import { readJsonl } from '../../src/data/sources/jsonl.js';
import { readLongCsv } from '../../src/data/sources/longCsv.js';
import { readPhysioNet2012 } from '../../src/data/sources/physionet2012.js';
import { parseConfig, readConfigFile } from '../../src/config/parse.js';
import type { Dataset } from '../../src/data/schema.js';
import { p12Outcomes, p12Record, tmpDir } from './fixtures.js';

const CASES = 150;
const CASE_MS = 2000;

/** Reject when `p` takes longer than CASE_MS. */
async function bounded<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`hang: more than ${CASE_MS} ms`)), CASE_MS)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every number in every sample is finite (static entries may be NaN = missing, never ±Infinity). */
function assertFiniteSamples(ds: Dataset): void {
  for (const s of ds.samples) {
    for (const [name, m] of Object.entries(s.modalities)) {
      if (!m) continue;
      const where = `sample ${s.id} modality ${name}`;
      if (m.kind === 'static') assert.ok(m.values.every((x) => Number.isNaN(x) || Number.isFinite(x)), where);
      else {
        assert.ok(m.times.every(Number.isFinite), `${where} times`);
        if (m.kind === 'timeseries') assert.ok(m.values.every(Number.isFinite), `${where} values`);
        else assert.ok(m.vectors.every((v) => v.every(Number.isFinite)), `${where} vectors`);
      }
    }
  }
}

/** Run a reader: a Dataset with finite samples, or a FlexiModalError; anything else fails. */
async function loadsOrFlexiError(read: () => Promise<Dataset>): Promise<void> {
  try {
    assertFiniteSamples(await bounded(read()));
  } catch (e) {
    if (!(e instanceof FlexiModalError)) throw e;
  }
}

/** Tokens that have broken readers: overflowing literals, non-finite names, odd JSON/CSV syntax. */
const nasty = fc.constantFrom('1e999', '-1e999', 'NaN', 'Infinity', '-Infinity', '1e308', '-0', '0x10', '""', '"', 'null', '[]', '{}', ',', '\n', '\r\n', '\uFEFF', ':', '1e-400', ' ', '\u0000');
/** Insert, delete or replace a span of `text`. */
const mutation = (text: string) =>
  fc.tuple(fc.nat({ max: text.length }), fc.nat({ max: 8 }), fc.oneof(nasty, fc.string({ maxLength: 6 }))).map(([at, del, ins]) => text.slice(0, at) + ins + text.slice(at + del));
const mutated = (text: string) => fc.array(fc.nat(), { minLength: 1, maxLength: 4 }).chain((ks) => ks.reduce((arb, _k) => arb.chain((t) => mutation(t)), fc.constant(text)));

const spec = {
  name: 'f',
  modalities: [
    { name: 'vitals', kind: 'timeseries', variables: ['HR', 'Temp'] },
    { name: 'notes', kind: 'embedding', dim: 2 },
    { name: 'demo', kind: 'static', features: ['age'] },
  ],
  task: { kind: 'binary', name: 'y' },
  horizonHours: 48,
};
const validJsonl = [
  JSON.stringify({ fleximodal: 1, spec }),
  '{"id":"a","label":1,"modalities":{"vitals":{"times":[0,1.5],"variables":["HR","Temp"],"values":[80,37.1]},"notes":{"times":[2],"vectors":[[0.1,-2]]},"demo":{"values":[63]}}}',
  '{"id":"b","label":0,"modalities":{"vitals":{"times":[3],"variables":[1],"values":[36.5]},"demo":{"values":[null]}}}',
  '',
].join('\n');

test(`fuzz: JSONL reader on mutated files (${CASES} cases) and random sample lines (${CASES} cases)`, async () => {
  const dir = tmpDir('fm-fuzz-');
  const path = join(dir, 'f.jsonl');
  await fc.assert(
    fc.asyncProperty(mutated(validJsonl), async (text) => {
      writeFileSync(path, text);
      await loadsOrFlexiError(() => readJsonl(path));
    }),
    { numRuns: CASES, seed: 11 },
  );
  const header = validJsonl.split('\n')[0]!;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ maxLength: 40 })), { maxLength: 3 }), async (lines) => {
      writeFileSync(path, [header, ...lines].join('\n'));
      await loadsOrFlexiError(() => readJsonl(path));
    }),
    { numRuns: CASES, seed: 12 },
  );
});

const validCsv = 'id,time,variable,value\np1,0.5,HR,80\np1,1,Temp,37\np1,,age,63\np2,2,HR,1e2\n';
const csvLabels = 'id,label\np1,1\np2,0\n';
const csvMap = { HR: 'vitals', Temp: 'vitals', age: { modality: 'demo', static: true as const } };

test(`fuzz: long-CSV reader on mutated observation and label files (${CASES} cases)`, async () => {
  const dir = tmpDir('fm-fuzz-');
  await fc.assert(
    fc.asyncProperty(mutated(validCsv), fc.oneof(fc.constant(csvLabels), mutated(csvLabels)), async (obs, labels) => {
      writeFileSync(join(dir, 'o.csv'), obs);
      writeFileSync(join(dir, 'l.csv'), labels);
      await loadsOrFlexiError(() => readLongCsv({ path: 'o.csv', labels: 'l.csv', modalityMap: csvMap, baseDir: dir }));
    }),
    { numRuns: CASES, seed: 21 },
  );
});

test(`fuzz: PhysioNet 2012 reader on mutated record and outcome files (${CASES} cases)`, async () => {
  const dir = tmpDir('fm-fuzz-');
  const record = p12Record(132539, ['00:07,HR,73', '00:07,Temp,36.5', '01:00,BUN,20', '02:30,Urine,250', '03:00,FiO2,50']);
  const outcomes = p12Outcomes([[132539, 1]]);
  await fc.assert(
    fc.asyncProperty(mutated(record), fc.oneof(fc.constant(outcomes), mutated(outcomes)), async (rec, out) => {
      rmSync(join(dir, 'rec'), { recursive: true, force: true });
      mkdirSync(join(dir, 'rec'));
      writeFileSync(join(dir, 'rec', '132539.txt'), rec);
      writeFileSync(join(dir, 'out.txt'), out);
      await loadsOrFlexiError(() => readPhysioNet2012({ records: 'rec', outcomes: 'out.txt', baseDir: dir }));
    }),
    { numRuns: CASES, seed: 31 },
  );
});

const validConfig = {
  name: 'fz',
  data: { type: 'synthetic', n: 50, seed: 1 },
  split: { fractions: [0.7, 0.15, 0.15] },
  model: { type: 'baseline', d: 8, encoder: { kind: 'mtand', gamma: 4, dt: 4, heads: 1 }, hidden: [8] },
  train: { epochs: 1, lr: 0.001 },
  normalize: { robust: ['HR'] },
};

/** Replace the value at a random path of a JSON object by a random JSON value. */
function replaceAt(obj: unknown, path: number[], value: unknown): unknown {
  if (!path.length || obj === null || typeof obj !== 'object') return value;
  const keys = Object.keys(obj);
  if (!keys.length) return value;
  const k = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(obj) ? ([...obj] as unknown as Record<string, unknown>) : { ...(obj as Record<string, unknown>) };
  copy[k] = replaceAt((obj as Record<string, unknown>)[k], path.slice(1), value);
  return copy;
}

test(`fuzz: config parsing of random values (${CASES} cases), mutated configs (${CASES} cases) and mutated config text (${CASES} cases)`, async () => {
  const parsesOrFlexiError = (raw: unknown) => {
    try {
      parseConfig(raw, 'fuzz.json');
    } catch (e) {
      if (!(e instanceof FlexiModalError)) throw e;
    }
  };
  fc.assert(fc.property(fc.anything(), parsesOrFlexiError), { numRuns: CASES, seed: 41 });
  fc.assert(
    fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.oneof(fc.jsonValue(), nasty), (path, value) => parsesOrFlexiError(replaceAt(validConfig, path, value))),
    { numRuns: CASES, seed: 42 },
  );
  const dir = tmpDir('fm-fuzz-');
  const text = JSON.stringify(validConfig, null, 1);
  fc.assert(
    fc.property(mutated(text), (t) => {
      writeFileSync(join(dir, 'c.json'), t);
      try {
        parseConfig(readConfigFile(join(dir, 'c.json')), 'c.json');
      } catch (e) {
        if (!(e instanceof FlexiModalError)) throw e;
      }
    }),
    { numRuns: CASES, seed: 43 },
  );
});

/** Patient-level splits: samples carrying a subject id are split by subject. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { stratifiedSplit, readSplitFile, writeSplitFile } from '../../src/data/split.js';
import type { Sample } from '../../src/data/schema.js';
import { assertDataError, tmpDir } from './fixtures.js';

function withSubjects(n: number, subjects: number): Sample[] {
  return generateSynthetic({ n, seed: 4 }).samples.map((s, i) => ({ ...s, subject: `p${(i * 7) % subjects}` }));
}

test('subject split: no subject in two splits, every sample assigned once, subjects listed, seeded', () => {
  const samples = withSubjects(300, 90);
  const split = stratifiedSplit({ samples }, { seed: 3 });
  assert.deepEqual(split, stratifiedSplit({ samples }, { seed: 3 }));
  assert.notDeepEqual(split.train, stratifiedSplit({ samples }, { seed: 4 }).train);
  const all = [...split.train, ...split.val, ...split.test];
  assert.equal(all.length, 300);
  assert.equal(new Set(all).size, 300);
  const subjectOf = new Map(samples.map((s) => [s.id, s.subject!]));
  const parts = (['train', 'val', 'test'] as const).map((p) => new Set(split[p].map((id) => subjectOf.get(id)!)));
  for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) for (const s of parts[a]!) assert.ok(!parts[b]!.has(s), `subject ${s} in two splits`);
  assert.deepEqual(split.subjects!.train, [...parts[0]!].sort());
  assert.deepEqual(split.subjects!.test, [...parts[2]!].sort());
  // 90 subjects cut 70/15/15 by largest remainder within each stratum: 63 / 13-14 / 13-14 subjects
  assert.equal(parts[0]!.size + parts[1]!.size + parts[2]!.size, 90);
  assert.ok(Math.abs(parts[0]!.size - 63) <= 2, `train subjects ${parts[0]!.size}`);
  // a subject's stratum is its largest label: a subject with a positive sample counts as positive
  const positiveSubjects = new Set(samples.filter((s) => s.label === 1).map((s) => s.subject));
  const trainPos = [...parts[0]!].filter((s) => positiveSubjects.has(s)).length;
  assert.ok(Math.abs(trainPos - 0.7 * positiveSubjects.size) <= 1, `positive subjects in train ${trainPos} of ${positiveSubjects.size}`);
});

test('subject split: samples without subjects are split exactly as before (each its own unit)', () => {
  const samples = generateSynthetic({ n: 120, seed: 4 }).samples;
  const a = stratifiedSplit({ samples }, { seed: 9 });
  assert.equal(a.subjects, undefined);
  const singletons = samples.map((s) => ({ ...s, subject: `only-${s.id}` }));
  const b = stratifiedSplit({ samples: singletons }, { seed: 9 });
  assert.deepEqual([b.train, b.val, b.test], [a.train, a.val, a.test], 'one sample per subject = the sample-level split');
});

test('subject split file: round trip; a file putting one subject in two splits is rejected', async () => {
  const samples = withSubjects(60, 20);
  const split = stratifiedSplit({ samples }, { seed: 1 });
  const p = join(tmpDir(), 'split.json');
  await writeSplitFile(p, split);
  assert.deepEqual(await readSplitFile(p, { samples }), split);
  const subjectOf = new Map(samples.map((s) => [s.id, s.subject!]));
  const moved = split.train.find((id) => samples.some((s) => s.id !== id && s.subject === subjectOf.get(id) && split.train.includes(s.id)))!;
  const bad = { ...split, train: split.train.filter((id) => id !== moved), test: [...split.test, moved] };
  writeFileSync(p, JSON.stringify(bad));
  await assertDataError(() => readSplitFile(p, { samples }), `subject "${subjectOf.get(moved)}"`, 'two splits', 'patient-level');
});

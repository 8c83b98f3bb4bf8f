/** Helpers for data tests: temp dirs, small fixture files, the shared-data location. */
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { FlexiModalError } from '../../src/errors.js';

const madeDirs: string[] = [];

/**
 * A fresh temporary directory under os.tmpdir(), removed when the test process exits (node --test
 * runs each test file in its own process, so this is "after the file"). In a test body that wants
 * its directory gone right after the test, prefer `tempDir(t)` from test/helpers/tempDir.ts.
 */
export function tmpDir(prefix = 'fmdata-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (madeDirs.length === 0) {
    process.once('exit', () => {
      for (const d of madeDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  madeDirs.push(dir);
  return dir;
}

/** Write `files` (relative path → content) under `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

/** Repo root (dist/test/data → ../../..). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** ../shared/data relative to the repo root. */
export const sharedData = resolve(repoRoot, '../shared/data');
/** Why a shared-data test is skipped, or false when the data are there. */
export function skipUnless(path: string): string | false {
  return existsSync(path) ? false : `shared data absent: ${path}`;
}

/** Assert that `fn` rejects/throws a FlexiModalError whose message contains every fragment. */
export async function assertDataError(fn: () => unknown, ...fragments: string[]): Promise<FlexiModalError> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof FlexiModalError, `expected a FlexiModalError, got ${String(err)}`);
  for (const f of fragments) assert.ok(err.message.includes(f), `message "${err.message}" should contain "${f}"`);
  return err;
}

/** A minimal valid PhysioNet 2012 record file. */
export function p12Record(id: number, rows: string[] = ['00:07,HR,73', '00:07,Temp,36.5', '01:00,BUN,20']): string {
  return [
    'Time,Parameter,Value',
    `00:00,RecordID,${id}`,
    '00:00,Age,54',
    '00:00,Gender,0',
    '00:00,Height,-1',
    '00:00,ICUType,4',
    '00:00,Weight,80',
    ...rows,
    '',
  ].join('\n');
}

/** An outcomes file for the given (id, death) pairs. */
export function p12Outcomes(rows: [number, 0 | 1][]): string {
  return ['RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death', ...rows.map(([id, y]) => `${id},10,2,5,-1,${y}`), ''].join('\n');
}

/**
 * Self-cleaning temporary directories for tests.
 *
 * - `tempDir(t, prefix)` inside a test: created under os.tmpdir(), removed when the test ends.
 * - `moduleTempDir(prefix)` at module level (a fixture shared by the tests of one file): created now,
 *   removed by node:test's `after` hook once every test of the file has run.
 */
import { after } from 'node:test';
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Remove `dir` and everything under it; never throws for a missing directory. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A fresh directory under os.tmpdir() that is removed after the test `t` (and its subtests) ends. */
export function tempDir(t: Pick<TestContext, 'after'>, prefix = 'fm-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => removeDir(dir));
  return dir;
}

/** A fresh directory under os.tmpdir() that is removed after all tests of the current file. */
export function moduleTempDir(prefix = 'fm-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => removeDir(dir));
  return dir;
}

/**
 * A maker of temporary directories for one test file: call at module level, then `tmp(prefix)`
 * anywhere (module level or a test body); every directory it made is removed after all tests of
 * the file.
 */
export function tempDirs(defaultPrefix = 'fm-test-'): (prefix?: string) => string {
  const made: string[] = [];
  after(() => made.forEach(removeDir));
  return (prefix = defaultPrefix) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}

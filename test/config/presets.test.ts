import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readConfigFile, parseConfig } from '../../src/config/parse.js';

const dir = resolve('configs');

test('every shipped config parses, and its file paths exist where ../shared is present', (t) => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 4, `configs found: ${files.join(', ')}`);
  const shared = existsSync(resolve('../shared/data'));
  if (!shared) t.diagnostic('../shared/data absent: only parsing is checked, not the data paths');
  for (const f of files) {
    const path = join(dir, f);
    const cfg = parseConfig(readConfigFile(path), path);
    if (!shared) continue;
    for (const source of [cfg.data, cfg.externalData]) {
      if (!source) continue;
      for (const key of ['records', 'outcomes', 'path'] as const) {
        const p = (source as Record<string, unknown>)[key];
        if (typeof p === 'string') assert.ok(existsSync(resolve(dirname(path), p)), `${f}: ${key} ${p} exists`);
      }
    }
  }
});

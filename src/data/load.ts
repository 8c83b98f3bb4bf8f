/**
 * `loadDataset(source, baseDir)`: one entry point for every data source, configured by the
 * discriminated union `dataSourceSchema` (reused by the run-config schema).
 */
import { resolve } from 'node:path';
import { FlexiModalError } from '../errors.js';
import type { Dataset, TaskSpec } from './schema.js';
import { readPhysioNet2012 } from './sources/physionet2012.js';
import { readJsonl } from './sources/jsonl.js';
import { readLongCsv } from './sources/longCsv.js';
import { dataSourceSchema, type DataSource } from './sourceSchema.js';
import { readMultiviewCsv } from './sources/multiviewCsv.js';
import { generateSynthetic } from './synthetic.js';
import { readMimicIv } from './sources/mimicIv/reader.js';
import { RangePolicy } from './ranges.js';

export { dataSourceSchema, type DataSource } from './sourceSchema.js';

/** Validate a data-source config (errors name the config key, prefixed by `where`). */
export function parseDataSource(raw: unknown, where = 'data'): DataSource {
  const r = dataSourceSchema.safeParse(raw);
  if (!r.success) {
    const iss = r.error.issues[0]!;
    const key = [where, ...iss.path.map(String)].join('.');
    throw new FlexiModalError(`invalid data source: ${iss.message}`, {
      where: `config key ${key}`,
      hint: 'type is one of physionet2012, jsonl, long-csv, multiview-csv, synthetic, mimic-iv (see docs/DATA.md)',
    });
  }
  return r.data;
}

/** The range policy a data source reads with (PhysioNet 2012 starts from its own table). */
export function rangePolicyOf(source: DataSource): RangePolicy {
  if (source.type === 'synthetic') return RangePolicy.default();
  return RangePolicy.from(source, source.type === 'physionet2012' ? 'physionet2012' : 'none');
}

/** Load any data source; relative paths are resolved against `baseDir` (default process.cwd()). */
export async function loadDataset(source: DataSource | unknown, baseDir: string = process.cwd()): Promise<Dataset> {
  const src = parseDataSource(source);
  switch (src.type) {
    case 'physionet2012':
      return readPhysioNet2012({ ...src, baseDir });
    case 'jsonl': {
      const abs = resolve(baseDir, src.path);
      const specAbs = src.specPath ? resolve(baseDir, src.specPath) : undefined;
      const ds = await readJsonl(abs, { specPath: specAbs, requireLabels: src.requireLabels, ranges: RangePolicy.from(src, 'none', undefined, 'config key data.ranges') });
      // Key the hashes by the paths as configured (like the other readers).
      const hashes: Record<string, string> = { [src.path]: ds.hashes![abs]! };
      if (src.specPath && specAbs) hashes[src.specPath] = ds.hashes![specAbs]!;
      return { ...ds, hashes };
    }
    case 'long-csv':
      return readLongCsv({ ...src, task: src.task as TaskSpec | undefined, baseDir });
    case 'multiview-csv':
      return readMultiviewCsv({ ...src, baseDir, ranges: RangePolicy.from(src, 'none', undefined, 'config key data.ranges') });
    case 'synthetic': {
      const { type: _t, ...opts } = src;
      return generateSynthetic(opts);
    }
    case 'mimic-iv':
      return readMimicIv(src, { baseDir });
  }
}

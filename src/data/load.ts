/**
 * `loadDataset(source, baseDir)`: one entry point for every data source, configured by the
 * discriminated union `dataSourceSchema` (reused by the run-config schema).
 */
import { existsSync } from 'node:fs';
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
import { checkDistinctSpecNames, checkRangeNames, warnAbsentModalities } from './bookkeeping.js';

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

/** The file / directory paths a data source names, by config key below the source (`records`, `views.fac`, ...). */
function dataPaths(src: DataSource): [string, string][] {
  const out: [string, string][] = [];
  const add = (key: string, v: unknown) => {
    if (typeof v === 'string') out.push([key, v]);
    else if (Array.isArray(v)) v.forEach((x, i) => typeof x === 'string' && out.push([v.length > 1 ? `${key}[${i}]` : key, x]));
  };
  const o = src as Record<string, unknown>;
  for (const k of ['records', 'outcomes', 'path', 'specPath', 'icd10Gem', 'ccsDxref']) add(k, o[k]); // MIMIC-IV's data.dir: its reader names it
  if (src.type === 'long-csv') {
    add('labels', src.labels);
    if (typeof src.modalityMap === 'string') add('modalityMap', src.modalityMap);
  }
  if (src.type === 'multiview-csv') {
    add('labels', src.labels);
    for (const [view, path] of Object.entries(src.views)) add(`views.${view}`, path);
  }
  const emb = o['embeddings'];
  if (Array.isArray(emb)) emb.forEach((e, i) => add(`embeddings[${i}].path`, (e as { path?: unknown })?.path));
  return out;
}

/**
 * Every path a data source names must exist. A preset (configs/*.json) points at this repository's
 * data layout, which an installed package does not have: the error names the config key and the
 * `--set` that gives the file instead.
 */
export function checkDataPaths(src: DataSource, baseDir: string, configKey = 'data'): void {
  for (const [key, path] of dataPaths(src)) {
    const abs = resolve(baseDir, path);
    if (existsSync(abs)) continue;
    const setKey = `${configKey}.${key.replace(/\[\d+\]$/, '')}`;
    throw new FlexiModalError(`the data path ${path} does not exist (resolved to ${abs})`, {
      where: `config key ${configKey}.${key}`,
      hint:
        `give your own file: \`--set ${setKey}=<path>\` on the command line (config key ${setKey} from code)` +
        (src.type === 'physionet2012' ? '; `fleximodal data fetch physionet2012 --dir <dir>` downloads the files' : '') +
        '; presets assume fleximodal\'s own repository layout (docs/DATA.md)',
    });
  }
}

/** Load any data source; relative paths are resolved against `baseDir` (default process.cwd()). */
export async function loadDataset(source: DataSource | unknown, baseDir: string = process.cwd(), configKey = 'data'): Promise<Dataset> {
  const src = parseDataSource(source);
  checkDataPaths(src, baseDir, configKey);
  const ds = await readSource(src, baseDir);
  // bookkeeping that must not be silent (src/data/bookkeeping.ts)
  checkDistinctSpecNames(ds.spec, `the spec of ${ds.report.source}`);
  if ((src.type === 'jsonl' || src.type === 'multiview-csv') && src.ranges) checkRangeNames(src.ranges, ds.spec, 'config key data.ranges');
  return warnAbsentModalities(ds);
}

async function readSource(src: DataSource, baseDir: string): Promise<Dataset> {
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

/**
 * User-supplied timed embeddings (notes, chest X-rays, ECGs embedded elsewhere, e.g. from
 * MIMIC-IV-Note or MIMIC-CXR): a CSV (.csv / .csv.gz) or Parquet file with columns
 * `stay_id` or `subject_id`, `charttime` and `vector` (a Parquet list, or in CSV the text
 * "[0.1, -0.3, …]"). Rows keyed by subject_id join every cohort stay of the subject whose window
 * holds the charttime; rows keyed by stay_id join that stay. Each file becomes one `embedding`
 * modality. A row that cannot be read, or a vector of another width, is an error naming the row.
 */
import { existsSync } from 'node:fs';
import { FlexiModalError } from '../../../errors.js';
import type { EmbeddingData, EmbeddingModalitySpec } from '../../schema.js';
import type { DuckSession } from './duck.js';
import { readFunction } from './layout.js';

/** An extracted embedding modality. */
export interface ExtractedEmbedding {
  spec: EmbeddingModalitySpec;
  data: Map<number, EmbeddingData>;
}

/** Read one embedding file joined into the cohort's windows. */
export async function extractEmbeddings(db: DuckSession, file: { name: string; path: string; dim?: number }, configKey: string): Promise<ExtractedEmbedding> {
  const where = `${file.path} (config key ${configKey})`;
  if (!existsSync(file.path)) throw new FlexiModalError(`embedding file not found: ${file.path}`, { where: `config key ${configKey}.path` });
  const source = readFunction(file.path);
  const cols = new Set((await db.all(`DESCRIBE SELECT * FROM ${source}`)).map((r) => String(r['column_name']).toLowerCase()));
  const key = cols.has('stay_id') ? 'stay_id' : cols.has('subject_id') ? 'subject_id' : undefined;
  if (!key || !cols.has('charttime') || !cols.has('vector')) {
    throw new FlexiModalError(`an embedding file needs columns (stay_id or subject_id), charttime, vector; it has ${[...cols].join(', ')}`, {
      where,
      hint: 'one row per embedding: e.g. subject_id,charttime,vector with vector like "[0.12, -0.4, …]"',
    });
  }
  const table = `emb_${file.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  await db.exec(`CREATE OR REPLACE TEMP TABLE ${table} AS
    SELECT c.stay_id, TRY_CAST(f.charttime AS TIMESTAMP) AS ct, CAST(f.charttime AS VARCHAR) AS charttime_text,
      CAST(f.${key} AS VARCHAR) AS key_text, TRY_CAST(f.vector AS DOUBLE[]) AS vec, c.intime, c.win_hours
    FROM ${source} f JOIN cohort c ON c.${key} = TRY_CAST(f.${key} AS BIGINT)`);
  const bad = await db.all(`SELECT key_text, charttime_text FROM ${table} WHERE ct IS NULL OR vec IS NULL OR list_contains(list_transform(vec, x -> isfinite(x)), false) LIMIT 1`);
  if (bad.length > 0) {
    throw new FlexiModalError(`row ${key}=${String(bad[0]!['key_text'])}, charttime=${String(bad[0]!['charttime_text'])}: charttime or vector cannot be read (or is not finite)`, {
      where,
      hint: 'charttime like "2180-07-23 14:00:00", vector a list of finite numbers',
    });
  }
  const dims = await db.all(`SELECT len(vec) AS d, any_value(key_text) AS k, any_value(charttime_text) AS t FROM ${table} GROUP BY ALL ORDER BY count(*) DESC`);
  const dim = file.dim ?? (dims.length > 0 ? Number(dims[0]!['d']) : undefined);
  const other = dims.find((r) => Number(r['d']) !== dim);
  if (dim === undefined) throw new FlexiModalError('no embedding row matches a cohort stay; cannot tell the vector width', { where, hint: 'set dim, or check the ids' });
  if (other) {
    throw new FlexiModalError(`row ${key}=${String(other['k'])}, charttime=${String(other['t'])}: vector has width ${Number(other['d'])}, expected ${dim}`, { where, hint: 'every vector of one file must have the same width' });
  }
  const acc = new Map<number, { times: number[]; vectors: Float32Array[] }>();
  const rows = db.stream(`SELECT CAST(stay_id AS DOUBLE), (epoch(ct) - epoch(intime)) / 3600.0 AS t, vec FROM ${table}
    WHERE (epoch(ct) - epoch(intime)) / 3600.0 >= 0 AND (epoch(ct) - epoch(intime)) / 3600.0 < win_hours ORDER BY stay_id, t, vec`);
  for await (const chunk of rows) {
    for (const r of chunk) {
      const s = r[0] as number;
      let d = acc.get(s);
      if (!d) acc.set(s, (d = { times: [], vectors: [] }));
      d.times.push(r[1] as number);
      d.vectors.push(Float32Array.from(r[2] as number[]));
    }
  }
  await db.exec(`DROP TABLE ${table}`);
  const data = new Map<number, EmbeddingData>();
  for (const [s, d] of acc) data.set(s, { kind: 'embedding', times: Float64Array.from(d.times), vectors: d.vectors });
  return { spec: { name: file.name, kind: 'embedding', dim }, data };
}

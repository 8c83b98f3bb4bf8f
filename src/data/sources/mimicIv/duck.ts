/**
 * A DuckDB session for MIMIC-IV extraction: one in-memory database with a memory limit, a thread
 * count and a spill directory from the config, so queries over full-size tables stay bounded.
 * Results come back either small (`all`) or streamed chunk by chunk (`stream`).
 */
// Types only: the package is an optional dependency, loaded when a session opens.
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { FlexiModalError } from '../../../errors.js';
import { optionalDependency } from '../../../optionalDependency.js';

/** A JS row of a query result (column name → value; BIGINT as bigint, cast in SQL to avoid it). */
export type Row = Record<string, unknown>;

/** Quote a string as an SQL literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Quote an identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** Create a temp table from literal rows (small lookup tables). */
export async function valuesTable(db: DuckSession, name: string, columns: string[], rows: (string | number | boolean | null)[][]): Promise<void> {
  const lit = (x: string | number | boolean | null) => (x === null ? 'NULL' : typeof x === 'string' ? sqlString(x) : String(x));
  const body = rows.length > 0 ? rows.map((r) => `(${r.map(lit).join(', ')})`).join(',\n') : `(${columns.map(() => 'NULL').join(', ')})`;
  await db.exec(`CREATE OR REPLACE TEMP TABLE ${name} AS SELECT * FROM (VALUES ${body}) t(${columns.join(', ')})${rows.length > 0 ? '' : ' WHERE false'}`);
}

/** Resources of a session. */
export interface DuckOptions {
  memoryLimit: string;
  threads: number;
  tempDir?: string;
}

/** One DuckDB connection with the resource settings applied. */
export class DuckSession {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  /** Open an in-memory database with memory_limit / threads / temp_directory set. */
  static async open(opts: DuckOptions): Promise<DuckSession> {
    const { DuckDBInstance } = await optionalDependency('@duckdb/node-api', 'to read MIMIC-IV (data.type "mimic-iv")', () => import('@duckdb/node-api'));
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const s = new DuckSession(instance, conn);
    try {
      await s.exec(`SET memory_limit = ${sqlString(opts.memoryLimit)}`);
      await s.exec(`SET threads = ${opts.threads}`);
      await s.exec('SET preserve_insertion_order = false');
      if (opts.tempDir) await s.exec(`SET temp_directory = ${sqlString(opts.tempDir)}`);
    } catch (e) {
      s.close();
      throw new FlexiModalError(`DuckDB rejected a resource setting: ${(e as Error).message}`, {
        where: 'config key data.duckdb',
        hint: 'memoryLimit like "2GB", threads a positive integer, tempDir a writable directory',
      });
    }
    return s;
  }

  /** Run a statement (no result). */
  async exec(sql: string): Promise<void> {
    await this.conn.run(sql);
  }

  /** Run a query and return all rows as JS objects (for small results: counts, vocabularies). */
  async all(sql: string): Promise<Row[]> {
    const r = await this.conn.runAndReadAll(sql);
    return r.getRowObjectsJS() as Row[];
  }

  /** Stream a query's rows chunk by chunk (each chunk an array of row arrays, columns in SELECT order). */
  async *stream(sql: string): AsyncGenerator<unknown[][]> {
    const result = await this.conn.stream(sql);
    for await (const rows of result.yieldRowsJs()) yield rows as unknown[][];
  }

  /** Close the connection and the database. */
  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/**
 * MIMIC-IV extraction at scale: time and peak RSS of the `mimic-iv` source (cohort + 48-IHM labels
 * + the labs and demographics modalities) on synthetic MIMIC-shaped databases that DuckDB
 * generates itself, at several sizes of hosp/labevents, to show linear time and bounded memory.
 *
 *   nice -n 10 node dist/bench/mimic.js [--rows 5,10,20] (millions of labevents rows)
 *        [--format parquet|csv.gz] [--dir /tmp/fm-mimic-bench] [--memory 1GB] [--threads 2]
 *
 * Shape: 2,000 labevents rows per patient (one admission, one ICU stay of 24–124 h starting a day
 * after admission), lab times spread over the 10-day admission, 22 % of rows on the 21 extracted
 * lab items (MIMIC units and plausible values; 1 % out of range), the rest on 78 other itemids.
 * Each extraction runs in its own child process (no cache), so its peak RSS (maxRSS, which
 * includes DuckDB's native memory) is its own; the JS heap after a forced GC is what the returned
 * dataset itself holds (it grows with the cohort, as any in-memory dataset must). CPU seconds (user +
 * system, all DuckDB threads, the child process only) are reported next to wall time because on a
 * shared machine the wall time varies with load. The databases are written under --dir (default
 * /tmp), never into the repository. A figure, not a test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckSession } from '../src/data/sources/mimicIv/duck.js';
import { readMimicIv } from '../src/data/sources/mimicIv/reader.js';
import { mimicIvSourceSchema } from '../src/data/sources/mimicIv/options.js';
import { LABS } from '../src/data/sources/mimicIv/variables.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

const ROWS_PER_PATIENT = 2000;

/** Write a synthetic MIMIC-shaped database with `rows` labevents rows into `dir`. */
async function generate(dir: string, rows: number, format: 'parquet' | 'csv.gz'): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'hosp'), { recursive: true });
  mkdirSync(join(dir, 'icu'), { recursive: true });
  const db = await DuckSession.open({ memoryLimit: '1GB', threads: 2 });
  const patients = Math.ceil(rows / ROWS_PER_PATIENT);
  const out = (table: string) => `'${join(dir, table)}.${format}' (FORMAT ${format === 'parquet' ? 'parquet' : "csv, HEADER, COMPRESSION 'gzip'"})`;
  const items = `[${LABS.map((l) => l.itemids[0]).join(', ')}]`;
  const units = `[${LABS.map((l) => `'${l.unit}'`).join(', ')}]`;
  const mids = `[${LABS.map((l) => (l.range[0] + l.range[1]) / 2).join(', ')}]`;
  const spans = `[${LABS.map((l) => (l.range[1] - l.range[0]) / 4).join(', ')}]`;
  try {
    await db.exec(`COPY (SELECT i AS subject_id, CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS gender, 18 + i % 70 AS anchor_age,
      2150 AS anchor_year, '2017 - 2019' AS anchor_year_group, NULL AS dod FROM range(${patients}) t(i)) TO ${out('hosp/patients')}`);
    await db.exec(`COPY (SELECT i AS subject_id, 1000000 + i AS hadm_id, TIMESTAMP '2150-01-01' + to_days(CAST(i % 3000 AS INTEGER)) AS admittime,
      TIMESTAMP '2150-01-11' + to_days(CAST(i % 3000 AS INTEGER)) AS dischtime,
      CASE WHEN i % 9 = 0 THEN TIMESTAMP '2150-01-11' + to_days(CAST(i % 3000 AS INTEGER)) END AS deathtime,
      CASE WHEN i % 9 = 0 THEN 1 ELSE 0 END AS hospital_expire_flag FROM range(${patients}) t(i)) TO ${out('hosp/admissions')}`);
    await db.exec(`COPY (SELECT i AS subject_id, 1000000 + i AS hadm_id, 30000000 + i AS stay_id, 'MICU' AS first_careunit, 'MICU' AS last_careunit,
      TIMESTAMP '2150-01-02' + to_days(CAST(i % 3000 AS INTEGER)) AS intime,
      TIMESTAMP '2150-01-02' + to_days(CAST(i % 3000 AS INTEGER)) + to_hours(CAST(24 + i % 101 AS INTEGER)) AS outtime,
      (24 + i % 101) / 24.0 AS los FROM range(${patients}) t(i)) TO ${out('icu/icustays')}`);
    await db.exec(`COPY (SELECT r AS labevent_id, subject_id, 1000000 + subject_id AS hadm_id, r // 8 AS specimen_id,
        CASE WHEN lab THEN ${items}[k] ELSE 51100 + other END AS itemid, NULL AS order_provider_id,
        TIMESTAMP '2150-01-01' + to_days(CAST(subject_id % 3000 AS INTEGER)) + to_minutes(minute) AS charttime,
        NULL AS storetime, NULL AS value,
        CASE WHEN lab THEN ${mids}[k] + ${spans}[k] * (u / 1000.0 - 1) * CASE WHEN outlier THEN 5 ELSE 1 END ELSE u / 20.0 END AS valuenum,
        CASE WHEN lab THEN ${units}[k] ELSE 'units' END AS valueuom,
        NULL AS ref_range_lower, NULL AS ref_range_upper, NULL AS flag, 'ROUTINE' AS priority, NULL AS comments
      FROM (SELECT r, r // ${ROWS_PER_PATIENT} AS subject_id, h % 100 < 22 AS lab, CAST(h % 21 AS INTEGER) + 1 AS k, CAST(h % 78 AS INTEGER) AS other,
              CAST((h >> 8) % 14400 AS BIGINT) AS minute, CAST((h >> 20) % 2001 AS DOUBLE) AS u, (h >> 32) % 100 = 0 AS outlier
            FROM (SELECT r, hash(r) AS h FROM range(${rows}) t(r)))) TO ${out('hosp/labevents')}`);
  } finally {
    db.close();
  }
}

/** Child: extract one database and print {seconds, maxRssMb, samples, observations} as JSON. */
async function extractChild(dir: string): Promise<void> {
  const src = mimicIvSourceSchema.parse({
    type: 'mimic-iv',
    dir,
    task: 'ihm',
    modalities: ['labs', 'demographics'],
    cache: false,
    progress: false,
    duckdb: { memoryLimit: arg('memory', '1GB'), threads: Number(arg('threads', '2')), tempDir: join(dir, 'duckdb-tmp') },
  });
  const t0 = performance.now();
  const ds = await readMimicIv(src);
  const seconds = (performance.now() - t0) / 1000;
  const usage = process.resourceUsage();
  const maxRssMb = usage.maxRSS / 1024;
  const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  (globalThis as { gc?: () => void }).gc?.();
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  process.stdout.write(JSON.stringify({ seconds, cpuSeconds, maxRssMb, heapMb, samples: ds.samples.length, observations: ds.report.observationsKept, dropped: ds.report.counts }) + '\n');
}

async function main(): Promise<void> {
  const child = arg('extract', '');
  if (child) return extractChild(child);
  const sizes = arg('rows', '5,10,20').split(',').map(Number);
  const format = arg('format', 'parquet') as 'parquet' | 'csv.gz';
  const root = arg('dir', '/tmp/fm-mimic-bench');
  const self = fileURLToPath(import.meta.url);
  console.log(`MIMIC-IV extraction (cohort + 48-IHM + labs + demographics), ${format}, DuckDB memory_limit ${arg('memory', '1GB')}, threads ${arg('threads', '2')}`);
  console.log('| labevents rows | patients / ICU stays | generate s | extract s (wall) | extract CPU s (all threads) | CPU s per M rows | peak RSS MB | JS heap after (the dataset) MB | samples | observations kept |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const m of sizes) {
    const rows = Math.round(m * 1e6);
    const dir = join(root, `${m}M-${format.replace('.', '')}`);
    const g0 = performance.now();
    if (!existsSync(join(dir, 'hosp', `labevents.${format}`))) await generate(dir, rows, format);
    const gen = (performance.now() - g0) / 1000;
    const r = spawnSync(process.execPath, ['--expose-gc', self, '--extract', dir, '--memory', arg('memory', '1GB'), '--threads', arg('threads', '2')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`extraction of ${dir} failed: ${r.stderr}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; cpuSeconds: number; maxRssMb: number; heapMb: number; samples: number; observations: number };
    console.log(
      `| ${rows.toLocaleString('en')} | ${Math.ceil(rows / ROWS_PER_PATIENT).toLocaleString('en')} | ${gen.toFixed(1)} | ${res.seconds.toFixed(1)} | ${res.cpuSeconds.toFixed(1)} | ${(res.cpuSeconds / m).toFixed(2)} | ${res.maxRssMb.toFixed(0)} | ${res.heapMb.toFixed(0)} | ${res.samples} | ${res.observations.toLocaleString('en')} |`,
    );
  }
  console.log(`(databases kept under ${root}; delete with rm -r ${root})`);
}

await main();

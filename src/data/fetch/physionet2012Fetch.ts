/**
 * `fleximodal data fetch physionet2012`: download the public PhysioNet/CinC Challenge 2012 files
 * (https://physionet.org/content/challenge-2012/1.0.0/, ODC-BY 1.0) and verify them against the
 * table below before keeping them.
 *
 * Outcome files are verified by their sha256. The record archives are verified by their
 * *content*: the sha256 of the list "<sha256 of the record file>  <set-x/RecordID.txt>" over all
 * 4000 record files, sorted by name. Archive bytes depend on how a tarball was packed (the copy
 * in ../shared/data/physionet2012 was re-packed and its sha256 differs from PhysioNet's own
 * tarball), but the record files inside are byte-identical to PhysioNet's; the digest checks
 * exactly those. The digests were computed from records.sha256 of ../shared/data/physionet2012.
 */
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { join, resolve } from 'node:path';
import tarStream from 'tar-stream';
import { FlexiModalError } from '../../errors.js';
import { downloadResumable } from './download.js';

/** PhysioNet's file area of the challenge, version 1.0.0. */
export const PHYSIONET2012_BASE_URL = 'https://physionet.org/files/challenge-2012/1.0.0/';
/** Environment variable that replaces the base URL (a mirror). */
export const PHYSIONET2012_URL_ENV = 'FLEXIMODAL_PHYSIONET2012_URL';

/** How a downloaded file is verified. */
export type FileCheck = { kind: 'sha256'; sha256: string; bytes: number } | { kind: 'records'; digest: string; records: number };

/** One file of the challenge and its verification. */
export interface FetchFile {
  name: string;
  check: FileCheck;
}

/** The files fetched (set C's records are not: no second verified copy of them was available to us). */
export const PHYSIONET2012_FILES: FetchFile[] = [
  { name: 'set-a.tar.gz', check: { kind: 'records', digest: '21f882fe44fbd2503e13a19f95da90411f343d19394314cd8b7d9811afd7c094', records: 4000 } },
  { name: 'set-b.tar.gz', check: { kind: 'records', digest: 'c190d153585936e0233b77dcd21bea8614d4979de3a29b6bab84bba6a73302d8', records: 4000 } },
  { name: 'Outcomes-a.txt', check: { kind: 'sha256', sha256: '2613ea60ccda29f87571a7d6b09ad130858a8ccd66325bd073365925026883c2', bytes: 79219 } },
  { name: 'Outcomes-b.txt', check: { kind: 'sha256', sha256: '1305f29734da374a809483229a99f33a9230aa8d4fa74b1a2d6ad788136423d5', bytes: 79149 } },
  { name: 'Outcomes-c.txt', check: { kind: 'sha256', sha256: '0b32dcb7753c0f18f2f5fde498a28618b8879c5e527ce0dae8ad120dd7e205c9', bytes: 79191 } },
];

/** sha256 of a file's bytes. */
async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The content digest of a .tar.gz of record files (see the module comment) and how many records it holds. */
export async function recordsDigest(path: string): Promise<{ digest: string; records: number }> {
  const entries: { name: string; sha256: string }[] = [];
  const extract = tarStream.extract();
  const done = new Promise<void>((resolveDone, reject) => {
    extract.on('entry', (header, stream, next) => {
      const name = header.name.replace(/^\.\//, '');
      if (header.type !== 'file' || !name.endsWith('.txt')) {
        stream.resume();
        stream.on('end', next);
        return;
      }
      const h = createHash('sha256');
      stream.on('data', (c: unknown) => h.update(c as Buffer));
      stream.on('end', () => {
        entries.push({ name, sha256: h.digest('hex') });
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', resolveDone);
    extract.on('error', reject);
  });
  const gunzip = createGunzip();
  const input = createReadStream(path);
  const fail = (e: Error) => extract.destroy(e);
  input.on('error', fail);
  gunzip.on('error', fail);
  input.pipe(gunzip).pipe(extract);
  await done;
  entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const list = entries.map((e) => `${e.sha256}  ${e.name}\n`).join('');
  return { digest: createHash('sha256').update(list).digest('hex'), records: entries.length };
}

/** Why `path` is not the file `f` describes, or null when it is. */
export async function verifyFile(f: FetchFile, path: string): Promise<string | null> {
  if (f.check.kind === 'sha256') {
    const sha = await fileSha256(path);
    return sha === f.check.sha256 ? null : `sha256 ${sha}, expected ${f.check.sha256}`;
  }
  let got: { digest: string; records: number };
  try {
    got = await recordsDigest(path);
  } catch (e) {
    return `not a readable .tar.gz (${(e as Error).message})`;
  }
  if (got.records !== f.check.records) return `${got.records} record files, expected ${f.check.records}`;
  return got.digest === f.check.digest ? null : `record-content sha256 ${got.digest}, expected ${f.check.digest} (a record file differs)`;
}

export interface FetchOptions {
  /** Target directory (created). */
  dir: string;
  /** Base URL of the files (default: $FLEXIMODAL_PHYSIONET2012_URL or PhysioNet). */
  baseUrl?: string;
  log?: (line: string) => void;
  /** Progress line writer (default: none). */
  progress?: (name: string, done: number, total: number | null) => void;
}

/** What a fetch did with each file. */
export interface FetchResult {
  dir: string;
  files: { name: string; path: string; action: 'present' | 'downloaded' }[];
}

/** Download (or find already present) and verify every file of {@link PHYSIONET2012_FILES}. */
export async function fetchPhysioNet2012(opts: FetchOptions): Promise<FetchResult> {
  const dir = resolve(opts.dir);
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  let base = opts.baseUrl ?? process.env[PHYSIONET2012_URL_ENV] ?? PHYSIONET2012_BASE_URL;
  if (!base.endsWith('/')) base += '/';
  mkdirSync(dir, { recursive: true });
  const files: FetchResult['files'] = [];
  for (const f of PHYSIONET2012_FILES) {
    const dest = join(dir, f.name);
    if (existsSync(dest)) {
      const why = await verifyFile(f, dest);
      if (!why) {
        log(`${f.name}: already present and verified`);
        files.push({ name: f.name, path: dest, action: 'present' });
        continue;
      }
      log(`${f.name}: the file present does not verify (${why}); downloading it again`);
      rmSync(dest);
    }
    const url = new URL(f.name, base).toString();
    log(`${f.name}: downloading ${url}`);
    const part = await downloadResumable(url, dest, { log, onProgress: (d, t) => opts.progress?.(f.name, d, t) });
    const why = await verifyFile(f, part);
    if (why) {
      rmSync(part, { force: true });
      throw new FlexiModalError(`downloaded ${f.name} does not verify: ${why}; the download was deleted`, {
        where: url,
        hint: 'run the command again; if it fails again the server (or --base-url mirror) serves other bytes than the PhysioNet 2012 challenge files',
      });
    }
    renameSync(part, dest);
    log(`${f.name}: verified`);
    files.push({ name: f.name, path: dest, action: 'downloaded' });
  }
  return { dir, files };
}

/** The config lines (the `data` and `externalData` sections) that read the fetched files. */
export function physioNet2012ConfigLines(dir: string): string {
  const p = (name: string) => JSON.stringify(join(resolve(dir), name));
  return [
    `"data": { "type": "physionet2012", "records": ${p('set-a.tar.gz')}, "outcomes": ${p('Outcomes-a.txt')}, "grouping": "vitals-labs" },`,
    `"externalData": { "type": "physionet2012", "records": ${p('set-b.tar.gz')}, "outcomes": ${p('Outcomes-b.txt')}, "grouping": "vitals-labs" },`,
  ].join('\n');
}


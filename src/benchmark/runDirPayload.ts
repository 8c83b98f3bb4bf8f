/**
 * A cell's run directory as one payload (a tar archive, tar-stream) that a queue worker returns
 * to the coordinator, and back: `packDirectory` / `unpackDirectory`. Regular files only; paths are
 * relative and checked on unpacking (no absolute path, no `..`).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import tarStream from 'tar-stream';
import { FlexiModalError } from '../errors.js';

/** Relative paths of the regular files under `dir`, sorted. */
function filesUnder(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p, base));
    else if (e.isFile()) out.push(relative(base, p).split(sep).join('/'));
  }
  return out;
}

/** A tar archive of every regular file under `dir`. */
export async function packDirectory(dir: string): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((res, rej) => {
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', () => res(Buffer.concat(chunks)));
    pack.on('error', rej);
  });
  for (const f of filesUnder(dir)) {
    const path = join(dir, f);
    pack.entry({ name: f, size: statSync(path).size, mode: 0o644 }, readFileSync(path));
  }
  pack.finalize();
  return done;
}

/** Unpack `archive` into `dir` (created). Throws on an entry that would leave `dir`. */
export async function unpackDirectory(archive: Buffer, dir: string): Promise<number> {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const extract = tarStream.extract();
  let files = 0;
  const done = new Promise<number>((res, rej) => {
    extract.on('entry', (header, stream, next) => {
      const target = resolve(root, header.name);
      if (header.name.startsWith('/') || !(target === root || target.startsWith(root + sep))) {
        stream.resume();
        extract.destroy(new FlexiModalError(`archive entry '${header.name}' lies outside the run directory`, { where: dir, hint: 'the payload is not a cell run directory written by `fleximodal worker`' }));
        return;
      }
      const parts: Buffer[] = [];
      stream.on('data', (c: unknown) => parts.push(c as Buffer));
      stream.on('end', () => {
        if (header.type === 'file') {
          mkdirSync(dirname(target), { recursive: true });
          writeFileSync(target, Buffer.concat(parts));
          files++;
        }
        next();
      });
    });
    extract.on('finish', () => res(files));
    extract.on('error', rej);
  });
  extract.end(archive);
  return done;
}

/**
 * A resumable HTTP(S) download: bytes go to `<dest>.part`; an interrupted transfer (a dropped
 * connection, a killed process) continues from the bytes already there with an HTTP Range
 * request; redirects are followed. The caller verifies the finished `.part` file and renames it.
 */
import { createWriteStream, existsSync, statSync, truncateSync, type WriteStream } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { FlexiModalError } from '../../errors.js';

export interface DownloadOptions {
  /** Called as bytes arrive: bytes on disk so far, and the total when the server said it. */
  onProgress?: (done: number, total: number | null) => void;
  /** Log sink for resume / retry lines. */
  log?: (line: string) => void;
  /** How many times a dropped transfer is resumed before giving up (default 3). */
  retries?: number;
}

/** The partial file of a download to `dest`. */
export function partPathOf(dest: string): string {
  return `${dest}.part`;
}

/** GET `url` with optional headers, following up to 5 redirects. */
function request(url: string, headers: Record<string, string>, redirects = 5): Promise<IncomingMessage> {
  const u = new URL(url);
  const get = u.protocol === 'https:' ? httpsGet : u.protocol === 'http:' ? httpGet : null;
  if (!get) throw new FlexiModalError(`unsupported URL scheme ${u.protocol}`, { where: url, hint: 'use an http:// or https:// base URL' });
  return new Promise((resolveRes, reject) => {
    const req = get(u, { headers: { 'user-agent': 'fleximodal', ...headers } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects === 0) return reject(new FlexiModalError('too many redirects', { where: url }));
        return resolveRes(request(new URL(res.headers.location, u).toString(), headers, redirects - 1));
      }
      resolveRes(res);
    });
    req.on('error', (e) =>
      reject(new FlexiModalError(`download failed: ${e.message}`, { where: url, hint: 'check the network connection or the --base-url mirror' })),
    );
  });
}

/** Bytes already in the partial file. */
function partSize(part: string): number {
  return existsSync(part) ? statSync(part).size : 0;
}

/**
 * Resolves once `sink` has closed its file. A failed pipeline rejects as soon as one stream
 * errors, while the file stream may still have a write in flight; measuring the partial file
 * before that write lands would resume at a stale offset and duplicate bytes.
 */
function fileClosed(sink: WriteStream): Promise<void> {
  if (sink.closed) return Promise.resolve();
  return new Promise((r) => sink.once('close', () => r()));
}

/** Download `url` into `<dest>.part` (continuing a partial one); returns the .part path when complete. */
export async function downloadResumable(url: string, dest: string, opts: DownloadOptions = {}): Promise<string> {
  const part = partPathOf(dest);
  const log = opts.log ?? (() => {});
  const retries = opts.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    const have = partSize(part);
    if (have > 0) log(`${url}: resuming at byte ${have}`);
    const res = await request(url, have > 0 ? { range: `bytes=${have}-` } : {});
    const status = res.statusCode ?? 0;
    if (status === 416) {
      res.resume();
      return part; // the partial file already holds everything the server has; verification decides
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw new FlexiModalError(`the server answered HTTP ${status}`, { where: url, hint: 'check the URL / --base-url (the files must be at <base-url>/<file name>)' });
    }
    let start = 0;
    if (status === 206) {
      const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      start = m ? Number(m[1]) : -1;
      if (start !== have) {
        res.resume();
        throw new FlexiModalError(`the server resumed at byte ${start}, not at ${have}`, { where: url, hint: `delete ${part} and retry` });
      }
    } else if (have > 0) {
      log(`${url}: the server ignores range requests; downloading from the start`);
      truncateSync(part, 0);
    }
    const length = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : null;
    const total = length === null ? null : start + length;
    let done = start;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        done += chunk.length;
        opts.onProgress?.(done, total);
        cb(null, chunk);
      },
    });
    // bytes go to their offset (`start`), not to wherever the file happens to end
    const sink = start > 0 ? createWriteStream(part, { flags: 'r+', start }) : createWriteStream(part, { flags: 'w' });
    try {
      await pipeline(res, counter, sink);
      if (total !== null && done < total) throw new Error(`transfer ended after ${done} of ${total} bytes`);
      return part;
    } catch (e) {
      await fileClosed(sink);
      if (attempt >= retries) {
        throw new FlexiModalError(`download interrupted (${(e as Error).message}); ${partSize(part)} bytes kept in ${part}`, {
          where: url,
          hint: 'run the same command again to resume',
        });
      }
      log(`${url}: transfer interrupted (${(e as Error).message}); retrying`);
    }
  }
}

/** sha256 of input files, for the run manifest. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** sha256 (hex) of a buffer or string. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Digest of a set of files: sha256 of their `sha256sum`-style listing
 * (`<sha256>  <name>\n` per file, sorted by name), so a directory's digest can be checked with
 * standard tools: `(cd dir && sha256sum *.txt) | sha256sum` for files listed as bare names.
 */
export function listingDigest(entries: { name: string; sha256: string }[]): string {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sha256(sorted.map((e) => `${e.sha256}  ${e.name}\n`).join(''));
}

/**
 * API keys (bearer tokens) for the HTTP server: read from a file (one key per line, `#` comments)
 * and/or an environment variable (comma- or newline-separated), compared in constant time on
 * equal-length SHA-256 digests (crypto.timingSafeEqual), every key checked on every request so the
 * time does not depend on which key matched. Keys are never logged: a request is known by the key's
 * id (`key-<n>`, its position), which is what the rate limit counts by.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FlexiModalError } from '../errors.js';

/** Shortest key accepted: a shorter one is too easy to guess. */
export const MIN_KEY_LENGTH = 16;

/** Keys given to the server. `admin` keys may also call the admin routes (reload). */
export interface ApiKeySources {
  /** Key strings given directly (embedding). */
  keys?: string[];
  /** A file with one key per line. */
  file?: string;
  /** Name of an environment variable holding keys separated by commas or newlines. */
  env?: string;
}

function parseKeyList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

/** Read the keys of one source set (throws naming the file / variable, never the key). */
export function readApiKeys(src: ApiKeySources, what: string): string[] {
  const keys = [...(src.keys ?? [])];
  if (src.file) {
    let text: string;
    try {
      text = readFileSync(src.file, 'utf8');
    } catch (e) {
      throw new FlexiModalError(`cannot read the ${what} file (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { where: src.file, hint: 'pass a readable file with one key per line' });
    }
    const fromFile = parseKeyList(text);
    if (!fromFile.length) throw new FlexiModalError(`the ${what} file holds no key`, { where: src.file, hint: 'one key per line; lines starting with # are comments' });
    keys.push(...fromFile);
  }
  if (src.env) {
    const v = process.env[src.env];
    if (v !== undefined) keys.push(...parseKeyList(v));
  }
  keys.forEach((k, i) => {
    if (k.length < MIN_KEY_LENGTH || /\s/.test(k)) {
      throw new FlexiModalError(`${what} #${i + 1} is shorter than ${MIN_KEY_LENGTH} characters or holds whitespace`, {
        where: src.file ?? (src.env ? `environment variable ${src.env}` : 'apiKeys'),
        hint: 'use long random keys, e.g. `openssl rand -hex 32`',
      });
    }
  });
  return keys;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The set of accepted keys, by digest. */
export class ApiKeyring {
  private readonly digests: Buffer[];
  private readonly adminFlags: boolean[];

  constructor(keys: string[], adminKeys: string[] = []) {
    const all = [...keys, ...adminKeys.filter((k) => !keys.includes(k))];
    this.digests = all.map(digest);
    this.adminFlags = all.map((k) => adminKeys.includes(k));
  }

  /** Whether any key is configured (no key: the server binds to loopback only). */
  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** Whether any admin key is configured. */
  get adminEnabled(): boolean {
    return this.adminFlags.some(Boolean);
  }

  /**
   * The id of the key in an `Authorization: Bearer <key>` header, or null. Every configured key
   * is compared (constant time, equal-length digests), whichever matches.
   */
  verify(authorization: string | undefined): { id: string; admin: boolean } | null {
    const m = /^Bearer ([^\s]+)\s*$/i.exec(authorization ?? '');
    const given = digest(m ? m[1]! : '');
    let found = -1;
    for (let i = 0; i < this.digests.length; i++) {
      if (timingSafeEqual(given, this.digests[i]!) && found < 0 && m) found = i;
    }
    return found < 0 ? null : { id: `key-${found + 1}`, admin: this.adminFlags[found]! };
  }
}

/** Whether a host name or address is a loopback one (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

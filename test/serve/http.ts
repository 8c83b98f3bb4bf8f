/**
 * HTTP helpers of the serving tests: start a server on an ephemeral loopback port and call it.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createServer, type CreateServerOptions } from '../../src/serve/server.js';

/** A started server: its base URL, its app, and the log lines it wrote. */
export interface Started {
  base: string;
  app: FastifyInstance;
  logs: string[];
  close: () => Promise<void>;
}

/** createServer + listen on 127.0.0.1:0, logging (info) into `logs`. */
export async function start(opts: CreateServerOptions): Promise<Started> {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const app = await createServer({ logger: { level: 'info', stream }, ...opts });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { base, app, logs, close: () => app.close() };
}

/** A response: status, headers and body (parsed JSON when it is JSON). */
export interface Res {
  status: number;
  headers: Headers;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** fetch → Res. */
export async function call(url: string, init: RequestInit = {}): Promise<Res> {
  const r = await fetch(url, init);
  const text = await r.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, headers: r.headers, text, json };
}

/** POST a JSON body (already a string when `raw`). */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}, raw = false): Promise<Res> {
  return call(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw ? (body as string) : JSON.stringify(body) });
}

/** Largest absolute difference between the numbers of two JSON values of the same shape (Infinity when the shapes differ). */
export function maxDiff(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length !== b.length ? Infinity : Math.max(0, ...a.map((x, i) => maxDiff(x, b[i])));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join('\u0000') !== kb.join('\u0000')) return Infinity;
    return Math.max(0, ...ka.map((k) => maxDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])));
  }
  return a === b ? 0 : Infinity;
}

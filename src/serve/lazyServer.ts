/**
 * The HTTP server's public entry points, loaded on first use: Fastify and its logger (pino, which
 * opens the process's stdout when imported) are not imported with the package, so importing
 * fleximodal opens no handle and stays quick (issue 18 §2, §6). Same signatures as
 * src/serve/server.ts.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { CreateServerOptions, ServeOptions } from './server.js';

/** `createServer` of src/serve/server.ts (a Fastify instance, not yet listening). */
export async function createServer(opts: CreateServerOptions): Promise<FastifyInstance> {
  const server = await import('./server.js');
  return server.createServer(opts);
}

/** `fleximodalServe` of src/serve/server.ts: the Fastify plugin, for mounting in an existing app. */
export const fleximodalServe: FastifyPluginAsync<ServeOptions> = async (app, opts) => {
  const server = await import('./server.js');
  await server.fleximodalServe(app, opts);
};

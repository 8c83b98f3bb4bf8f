/**
 * Versions of fleximodal and of the packages a run depends on (recorded in every manifest).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Root of the installed fleximodal package (where package.json is). */
export function packageRoot(): string {
  // compiled layout: <root>/dist/src/run/versions.js
  return join(here, '..', '..', '..');
}

/** fleximodal's own version. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Versions of the runtime and the key dependencies. */
export function dependencyVersions(): Record<string, string> {
  const require = createRequire(join(packageRoot(), 'package.json'));
  const out: Record<string, string> = { node: process.version, fleximodal: packageVersion() };
  for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', 'zod', 'commander']) {
    try {
      const pkgPath = require.resolve(`${name}/package.json`);
      out[name] = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
    } catch {
      out[name] = 'unknown';
    }
  }
  return out;
}

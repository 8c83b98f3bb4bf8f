/**
 * Where the built-in configs live (shipped with the package).
 */
import { join } from 'node:path';
import { packageRoot } from '../run/versions.js';

/** The config `fleximodal train` uses without --config: synthetic data, late-fusion baseline. */
export function defaultConfigPath(): string {
  return join(packageRoot(), 'configs', 'demo-synthetic.json');
}

/** The two configs of `fleximodal demo` (= `npm start`): name → path. */
export function demoConfigPaths(): Record<string, string> {
  return {
    baseline: join(packageRoot(), 'configs', 'demo-synthetic.json'),
    fusemoe: join(packageRoot(), 'configs', 'demo-synthetic-fusemoe.json'),
  };
}

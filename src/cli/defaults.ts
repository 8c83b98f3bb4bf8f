/**
 * Where the built-in configs live (shipped with the package).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FlexiModalError } from '../errors.js';
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

/** Names of the presets shipped in the package's configs/ (file names without .json). */
export function presetNames(): string[] {
  const dir = join(packageRoot(), 'configs');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [];
}

/**
 * A `--config` argument as a file path: an existing file (relative to the working directory), or
 * the name of a preset shipped with the package (`demo-synthetic` → <package>/configs/demo-synthetic.json),
 * so that presets work where fleximodal is an installed dependency.
 */
export function resolveConfigArg(arg: string): string {
  const asPath = resolve(arg);
  if (existsSync(asPath)) return asPath;
  const name = arg.replace(/\.jsonc?$/, '');
  if (!/[\\/]/.test(name)) {
    const preset = join(packageRoot(), 'configs', `${name}.json`);
    if (existsSync(preset)) return preset;
  }
  throw new FlexiModalError(`no config file ${arg}, and no preset of that name`, {
    where: `--config ${arg}`,
    hint: `give a config file path, or a preset name: ${presetNames().join(', ')}`,
  });
}

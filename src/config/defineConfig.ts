/**
 * `defineConfig()`: write a run config in TypeScript with completion and checking for every key.
 *
 *   import { defineConfig, parseConfig, runExperiment } from 'fleximodal';
 *   const config = defineConfig({ name: 'demo', data: { type: 'synthetic', n: 400 }, model: { type: 'baseline' } });
 *   await runExperiment(parseConfig(config, 'my config'), { baseDir: '.', outDir: 'runs/demo' });
 */
import type { z } from 'zod';
import type { configSchema } from './schema.js';

/** A run config as written (defaults may be left out): the input type of the config schema. */
export type RunConfigInput = z.input<typeof configSchema>;

/** Returns `config` unchanged; its type gives completion and checks for every config key. Validate with `parseConfig`. */
export function defineConfig<const C extends RunConfigInput>(config: C): C {
  return config;
}

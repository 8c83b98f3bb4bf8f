// Module hooks for scripts/mutation/native.mjs: when the test process imports the module under
// mutation (MUTANT_TARGET_URL, the compiled file's file: URL), they serve the mutated JavaScript
// from MUTANT_SOURCE_FILE instead. Every other module loads as usual, so each test process runs
// exactly one mutant at native speed and nothing in dist/ is modified.
import { readFile } from 'node:fs/promises';

const target = process.env.MUTANT_TARGET_URL;
const mutated = process.env.MUTANT_SOURCE_FILE;

/** Node's load hook: the mutated source for the target module, the default loader for the rest. */
export async function load(url, context, nextLoad) {
  if (target && mutated && url === target) {
    return { format: 'module', source: await readFile(mutated, 'utf8'), shortCircuit: true };
  }
  return nextLoad(url, context);
}

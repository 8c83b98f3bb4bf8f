#!/usr/bin/env node
/**
 * Builds dist/vendor/tfjs-gradients.js: tfjs-core's gradient and chained-op registrations as one
 * ES module. tfjs-core ships them only as extension-less ES modules that Node cannot import, and
 * its bundles leave them out (the all-in-one `@tensorflow/tfjs` bundles them the same way, with
 * ≈140 MB of packages we do not use). The bundled copies of core's internals share the one engine,
 * kernel registry and Tensor class through tfjs's global namespace, so the registrations land in
 * the core that `import '@tensorflow/tfjs-core'` gives.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  stdin: {
    contents:
      "import '@tensorflow/tfjs-core/dist/register_all_gradients';\n" +
      "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';\n",
    resolveDir: root,
    sourcefile: 'tfjs-gradients-entry.js',
  },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'es2020',
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
  outfile: join(root, 'dist/vendor/tfjs-gradients.js'),
});

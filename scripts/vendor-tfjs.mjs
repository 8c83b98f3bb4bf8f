#!/usr/bin/env node
/**
 * Builds dist/vendor/tfjs-gradients.js (and .cjs): tfjs-core's gradient and chained-op registrations as one
 * ES module (and one CommonJS module). tfjs-core ships them only as extension-less ES modules that Node cannot import, and
 * its bundles leave them out (the all-in-one `@tensorflow/tfjs` bundles them the same way, with
 * ≈140 MB of packages we do not use). The bundled copies of core's internals share the one engine,
 * kernel registry and Tensor class through tfjs's global namespace, so the registrations land in
 * the core that `import '@tensorflow/tfjs-core'` gives.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = {
  stdin: {
    contents:
      "import '@tensorflow/tfjs-core/dist/register_all_gradients';\n" +
      "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';\n",
    resolveDir: root,
    sourcefile: 'tfjs-gradients-entry.js',
  },
  bundle: true,
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'es2020',
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
};
// ES module (browsers, bundlers) and CommonJS (Node: src/engine/tf.ts requires it right after
// tfjs-core, without an ESM import of the CommonJS tfjs bundles; see the comment there).
await build({ ...common, format: 'esm', outfile: join(root, 'dist/vendor/tfjs-gradients.js') });
await build({ ...common, format: 'cjs', outfile: join(root, 'dist/vendor/tfjs-gradients.cjs') });

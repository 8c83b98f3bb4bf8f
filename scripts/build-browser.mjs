#!/usr/bin/env node
/**
 * Builds the browser bundle of fleximodal (`npm run build` runs it after tsc and vendor-tfjs):
 *   dist/browser/fleximodal.js       the `fleximodal/browser` entry (dist/src/browser/index.js), ESM
 *   dist/browser/app.js              the page of `fleximodal export --format web` (imports ./fleximodal.js)
 *   dist/browser/index.html          that page's HTML
 *   dist/browser/fleximodal.meta.json  esbuild's metafile (what went in; the tests check it)
 * In the bundle, src/engine/tf.ts is replaced by an inference-only variant: tfjs-core and its
 * chained ops (`x.square()`), without the gradients bundle and the pure-JS cpu backend; the wasm
 * backend comes from src/browser/engine.ts. Node-only modules must not be reachable: a `node:`
 * import, the native BLAS addon (src/engine/blas.ts), DuckDB or worker_threads fail the build.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/browser');
mkdirSync(out, { recursive: true });

const engineTf = join(root, 'dist/src/engine/tf.js');
const BROWSER_TF = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
tf.env().set('PROD', true);
export { tf };
`;

/** Modules that must never reach the browser bundle (name pattern → why). */
const FORBIDDEN = [
  [/^node:/, 'a Node built-in'],
  [/^(fs|fs\/promises|path|os|crypto|child_process|worker_threads|module|vm|readline|zlib|stream)$/, 'a Node built-in'],
  [/@duckdb\//, 'DuckDB (native)'],
  [/^koffi$/, 'the FFI addon'],
];

/** esbuild plugin: the browser tf module, and a build error for any Node-only import. */
const browserOnly = {
  name: 'fleximodal-browser',
  setup(b) {
    b.onResolve({ filter: /(^|\/)tf\.js$/ }, (args) => {
      const abs = join(args.resolveDir, args.path);
      return abs === engineTf ? { path: 'browser-tf', namespace: 'fleximodal' } : undefined;
    });
    b.onLoad({ filter: /^browser-tf$/, namespace: 'fleximodal' }, () => ({ contents: BROWSER_TF, resolveDir: root, loader: 'js' }));
    // zod's namespace re-exports its ~40 message locales (≈260 kB minified); we only use English.
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer) ? { path: join(args.resolveDir, args.path), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
    b.onResolve({ filter: /.*/ }, (args) => {
      // Packages' own guarded Node requires are disabled through their "browser" fields; our code must not have any.
      if (!args.importer.startsWith(join(root, 'dist/src'))) return undefined;
      for (const [re, what] of FORBIDDEN) {
        if (re.test(args.path)) return { errors: [{ text: `${relative(root, args.importer)} imports ${args.path} (${what}), which cannot run in a browser` }] };
      }
      if (/\/engine\/(blas|threads|backend|autoThreads)\.js$/.test(args.path) || /(^|\/)models\/build\.js$|^\.\/build\.js$/.test(args.path)) {
        return { errors: [{ text: `${relative(root, args.importer)} imports ${args.path} (Node-only: engine set-up, or the full model factory with native-library models; use buildTensorModel)` }] };
      }
      return undefined;
    });
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  mainFields: ['browser', 'module', 'main'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
};

const lib = await build({
  ...common,
  entryPoints: [join(root, 'dist/src/browser/index.js')],
  outfile: join(out, 'fleximodal.js'),
  plugins: [browserOnly],
});
writeFileSync(join(out, 'fleximodal.meta.json'), JSON.stringify(lib.metafile));

// The page imports the library from the file beside it (one copy of tfjs per site).
await build({
  ...common,
  entryPoints: [join(root, 'dist/src/browser/app.js')],
  outfile: join(out, 'app.js'),
  plugins: [
    {
      name: 'fleximodal-app',
      setup(b) {
        b.onResolve({ filter: /^\.\/index\.js$/ }, () => ({ path: './fleximodal.js', external: true }));
      },
    },
    browserOnly,
  ],
});
copyFileSync(join(root, 'src/browser/site/index.html'), join(out, 'index.html'));

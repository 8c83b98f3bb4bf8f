#!/usr/bin/env node
/**
 * Writes the public declaration of `tf` (types/tf.d.ts) over the one tsc emitted
 * (dist/src/engine/tf.d.ts), so that the package's types never import '@tensorflow/tfjs-core'
 * (whose declarations need the DOM library, WebGPU types and @types/long: a consumer compiling
 * without skipLibCheck would fail inside them). Run by `npm run build` after tsc.
 */
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
copyFileSync(join(root, 'types', 'tf.d.ts'), join(root, 'dist', 'src', 'engine', 'tf.d.ts'));

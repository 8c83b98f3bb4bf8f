/**
 * Child process for blas.test.ts: `node blasChild.js <engine.blas>` initialises the engine with
 * that setting and prints RESULT {summary, native, product} (a 2×2 product through BatchMatMul).
 */
import { engineSummary, initEngine } from '../../src/engine/backend.js';
import { nativeMatMulInUse } from '../../src/engine/fastKernels.js';
import { tf } from '../../src/engine/tf.js';

await initEngine({ backend: 'wasm', blas: process.argv[2] ?? 'auto' });
const product = Array.from(tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).dataSync());
console.log(`RESULT ${JSON.stringify({ summary: engineSummary(), native: nativeMatMulInUse(), product })}`);

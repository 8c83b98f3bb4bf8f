/** Child process for threads.test.ts: `node threadsChild.js <threads>` prints RESULT {json}. */
import { initEngine, engineThreads } from '../../src/engine/backend.js';
import { ReferenceMoe } from '../../src/engine/referenceMoe.js';

const threads = Number(process.argv[2] ?? '1');
await initEngine({ backend: 'wasm', threads });
const moe = new ReferenceMoe({ tokens: 384 });
const losses = [moe.step(), moe.step(), moe.step()];
moe.dispose();
console.log(`RESULT ${JSON.stringify({ threadsUsed: engineThreads(), losses })}`);

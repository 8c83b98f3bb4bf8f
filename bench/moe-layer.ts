/**
 * Forward + backward time of one SparseMoE layer, sparse dispatch vs the dense reference.
 *
 *   node dist/bench/moe-layer.js [--backend wasm|cpu] [--experts 4,16,64] [--topk 4]
 *        [--tokens 2048] [--dim 128] [--hidden 512] [--steps 3] [--gating softmax] [--no-dense]
 *
 * One step = gate + top-K routing + experts + loss mean((y − T)²) + gradients w.r.t. every
 * variable and x, inside tf.tidy. Reported: median over --steps after one warm-up step.
 * A figure, not a test.
 */
import { tf } from '../src/engine/tf.js';
import { initEngine, type BackendName } from '../src/engine/backend.js';
import { Rng } from '../src/engine/rng.js';
import type { GatingFunction } from '../src/moe/gating.js';
import { SparseMoE } from '../src/moe/sparse-moe.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

const backend = arg('backend', 'wasm') as BackendName;
const experts = arg('experts', '4,16,64').split(',').map(Number);
const topK = Number(arg('topk', '4'));
const N = Number(arg('tokens', '2048'));
const d = Number(arg('dim', '128'));
const h = Number(arg('hidden', '512'));
const steps = Number(arg('steps', '3'));
const gating = arg('gating', 'softmax') as GatingFunction;
const withDense = !process.argv.includes('--no-dense');

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timeSteps(moe: SparseMoE, x: tf.Tensor2D, target: tf.Tensor2D, dispatch: 'sparse' | 'dense'): number {
  const vars = moe.variables();
  const step = (): void =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(tf.sub(moe.apply(x, { training: true, dispatch }).y, target))) as tf.Scalar,
        vars,
      );
      value.dataSync();
      for (const g of Object.values(grads)) g.dataSync();
    });
  step(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function main(): Promise<void> {
  await initEngine({ backend });
  console.log(
    `MoE layer fwd+bwd, backend=${tf.getBackend()}, N=${N} tokens, d=${d}, h=${h}, top-${topK}, ` +
      `gating=${gating}, median of ${steps} steps (ms)`,
  );
  console.log('| experts S | sparse ms | dense ms | dense / sparse |');
  console.log('| ---: | ---: | ---: | ---: |');
  const rng = new Rng(1);
  const x = tf.randomNormal([N, d], 0, 1, 'float32', 1) as tf.Tensor2D;
  const target = tf.randomNormal([N, d], 0, 1, 'float32', 2) as tf.Tensor2D;
  for (const S of experts) {
    const moe = new SparseMoE(`bench.moe${S}`, { dim: d, hidden: h, numExperts: S, topK: Math.min(topK, S), gating }, rng);
    const sparse = timeSteps(moe, x, target, 'sparse');
    const dense = withDense ? timeSteps(moe, x, target, 'dense') : NaN;
    console.log(
      `| ${S} | ${sparse.toFixed(0)} | ${withDense ? dense.toFixed(0) : '—'} | ${withDense ? (dense / sparse).toFixed(2) : '—'} |`,
    );
    moe.variables().forEach((v) => v.dispose());
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

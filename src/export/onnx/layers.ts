/**
 * ONNX emitters of the shared layers, each mirroring the inference path of its TypeScript
 * counterpart (src/nn, src/moe): Linear, MLP with its activations, LayerNorm, the mTAND time
 * embedding, multi-head self-attention, the expert pool, gating logits and dense top-K weights.
 * Tensor names are strings; shapes are in the comments ([B, …] with B the dynamic batch).
 */
import { FlexiModalError } from '../../errors.js';
import type { tf } from '../../engine/tf.js';
import type { Linear } from '../../nn/linear.js';
import type { Mlp } from '../../nn/mlp.js';
import type { LayerNorm } from '../../nn/layerNorm.js';
import type { TimeEmbedding } from '../../nn/timeEmbedding.js';
import type { MultiHeadAttention } from '../../nn/multiHeadAttention.js';
import type { ActivationName } from '../../nn/activations.js';
import type { ExpertPool } from '../../moe/experts.js';
import { GATE_EPS, type Gate } from '../../moe/gating.js';
import type { OnnxGraph } from './graph.js';

/** A refusal naming the part the exporter cannot (or does not) express. */
export function refuse(part: string, hint: string): never {
  throw new FlexiModalError(`ONNX export: ${part} cannot be exported`, { where: 'fleximodal export --format onnx', hint });
}

/** y = x·W + b over the last axis.  [..., in] → [..., out] */
export function linear(g: OnnxGraph, x: string, layer: Linear): string {
  const y = g.matmul(x, g.weight(layer.w));
  return layer.b ? g.add(y, g.weight(layer.b)) : y;
}

/** The named activation (exact GELU via Erf, as src/nn/activations.ts). */
export function activation(g: OnnxGraph, name: ActivationName, x: string): string {
  switch (name) {
    case 'gelu':
      return g.mul(g.mul(x, g.const(0.5)), g.add(g.const(1), g.node('Erf', [g.mul(x, g.const(Math.SQRT1_2))])));
    case 'gelu-fast':
      return geluSigmoid(g, x);
    case 'relu':
      return g.node('Relu', [x]);
    case 'tanh':
      return g.node('Tanh', [x]);
    case 'sigmoid':
      return g.node('Sigmoid', [x]);
    case 'identity':
      return x;
  }
}

/** x·σ(1.702x): the experts' GELU approximation (src/moe/experts.ts geluApprox). */
export function geluSigmoid(g: OnnxGraph, x: string): string {
  return g.mul(x, g.node('Sigmoid', [g.mul(x, g.const(1.702))]));
}

/** Linear → act → … → Linear (dropout is the identity at inference).  [..., in] → [..., out] */
export function mlp(g: OnnxGraph, x: string, m: Mlp): string {
  let h = x;
  m.layers.forEach((layer, i) => {
    h = linear(g, h, layer);
    if (i + 1 < m.layers.length) h = activation(g, m.activation, h);
  });
  return h;
}

/** (x − μ)/√(σ² + ε)·g + b over the last axis, biased variance.  [..., d] → [..., d] */
export function layerNorm(g: OnnxGraph, x: string, ln: LayerNorm): string {
  const mean = g.reduceMean(x, [-1]);
  const c = g.sub(x, mean);
  const variance = g.reduceMean(g.mul(c, c), [-1]);
  const xhat = g.div(c, g.node('Sqrt', [g.add(variance, g.const(ln.eps))]));
  return g.add(g.mul(xhat, g.weight(ln.g)), g.weight(ln.b));
}

/** φ(τ): linear first channel, sin of the others.  τ [...] → [..., d_t] */
export function timeEmbedding(g: OnnxGraph, t: string, te: TimeEmbedding): string {
  const lin = g.add(g.mul(g.unsqueeze(t, [-1]), g.weight(te.w)), g.weight(te.b)); // [..., d_t]
  const sel = new Array<number>(te.dim).fill(0);
  sel[0] = 1;
  const linSel = g.const(sel, 'float32', [te.dim]);
  const periodic = g.const(sel.map((s) => 1 - s), 'float32', [te.dim]);
  return g.add(g.mul(lin, linSel), g.mul(g.node('Sin', [lin]), periodic));
}

/** Unmasked multi-head self-attention (FuseMoE / REMIND blocks).  x [B, L, d] → [B, L, out] */
export function selfAttention(g: OnnxGraph, x: string, mha: MultiHeadAttention, L: number): string {
  const h = mha.heads;
  const dh = mha.projDim / h;
  const split = (y: string): string => g.transpose(g.reshape(y, [-1, L, h, dh]), [0, 2, 1, 3]); // [B, h, L, dh]
  const Q = split(linear(g, x, mha.q));
  const K = split(linear(g, x, mha.k));
  const V = split(linear(g, x, mha.v));
  const s = g.mul(g.matmul(Q, g.transpose(K, [0, 1, 3, 2])), g.const(1 / Math.sqrt(dh))); // [B, h, L, L]
  const a = g.softmax(s, -1);
  const ctx = g.reshape(g.transpose(g.matmul(a, V), [0, 2, 1, 3]), [-1, L, mha.projDim]); // [B, L, p]
  return linear(g, ctx, mha.o);
}

/** Stacked parameters of an expert pool: W1 [S, d, h], b1 [S, 1, h], W2 [S, h, d], b2 [S, 1, d]. */
export function expertStack(g: OnnxGraph, pool: ExpertPool, name: string): { w1: string; b1: string; w2: string; b2: string; S: number } {
  const vars = pool.variables(); // w1, b1, w2, b2 per expert
  const S = pool.cfg.numExperts;
  const { dim: d, hidden: h } = pool.cfg;
  const cat = (k: number, size: number): Float32Array => {
    const out = new Float32Array(S * size);
    for (let e = 0; e < S; e++) out.set((vars[e * 4 + k] as tf.Tensor).dataSync() as Float32Array, e * size);
    return out;
  };
  return {
    w1: g.tensor(cat(0, d * h), [S, d, h], 'float32', `${name}.experts.w1`),
    b1: g.tensor(cat(1, h), [S, 1, h], 'float32', `${name}.experts.b1`),
    w2: g.tensor(cat(2, h * d), [S, h, d], 'float32', `${name}.experts.w2`),
    b2: g.tensor(cat(3, d), [S, 1, d], 'float32', `${name}.experts.b2`),
    S,
  };
}

/** Every expert on every row: x [N, d] → [S, N, d]. */
export function allExperts(g: OnnxGraph, x: string, st: ReturnType<typeof expertStack>): string {
  const hid = geluSigmoid(g, g.add(g.matmul(x, st.w1), st.b1)); // [S, N, h]
  return g.add(g.matmul(hid, st.w2), st.b2); // [S, N, d]
}

/**
 * Dense combine of top-K routing: y = Σ_e w[:, e]·E_e(x), w [N, S] zero off the top-K.
 * x [N, d] → [N, d]. (Same result as the sparse dispatch: unselected experts are weighted 0.)
 */
export function denseMoe(g: OnnxGraph, x: string, weights: string, st: ReturnType<typeof expertStack>): string {
  const ys = allExperts(g, x, st); // [S, N, d]
  const w = g.unsqueeze(g.transpose(weights, [1, 0]), [2]); // [S, N, 1]
  return g.reduceSum(g.mul(ys, w), [0], false); // [N, d]
}

/** Gate logits h(x) of src/moe/gating.ts.  x [N, d] → [N, S] */
export function gateLogits(g: OnnxGraph, x: string, gate: Gate): string {
  const w = g.weight(gate.w);
  const withBias = (h: string): string => (gate.b ? g.add(h, g.weight(gate.b)) : h);
  switch (gate.cfg.gating) {
    case 'softmax':
      return withBias(g.matmul(x, w));
    case 'modified-softmax': {
      let mx: string;
      switch (gate.cfg.modifiedGateFn) {
        case 'sigmoid':
          mx = g.node('Sigmoid', [x]);
          break;
        case 'tanh':
          mx = g.node('Tanh', [x]);
          break;
        case 'cos':
          mx = g.node('Cos', [x]);
          break;
        case 'l2-normalize':
          mx = g.div(x, g.node('Sqrt', [g.add(g.reduceSum(g.mul(x, x), [1]), g.const(GATE_EPS))]));
          break;
      }
      return withBias(g.matmul(mx, w));
    }
    case 'gaussian':
    case 'laplace': {
      const xx = g.reduceSum(g.mul(x, x), [1]); // [N, 1]
      const ww = g.reduceSum(g.mul(w, w), [0]); // [1, S]
      const sq = g.node('Relu', [g.add(g.sub(xx, g.mul(g.matmul(x, w), g.const(2))), ww)]); // [N, S]
      if (gate.cfg.gating === 'gaussian') return g.node('Neg', [sq]);
      return g.node('Neg', [g.node('Sqrt', [g.add(sq, g.const(GATE_EPS))])]);
    }
  }
}

/**
 * Dense top-K weights: softmax over the K largest logits scattered into zeros (ties: lower
 * expert id first, as src/moe/topk.ts and ONNX TopK).  logits [N, S] → [N, S]
 */
export function topKWeights(g: OnnxGraph, logits: string, K: number): string {
  const [vals, idx] = g.nodeN('TopK', [logits, g.ints([K])], { axis: -1, largest: 1, sorted: 1 }, 2);
  const gates = g.softmax(vals!, -1); // [N, K]
  const zeros = g.node('ConstantOfShape', [g.node('Shape', [logits])], { value: { tensor: { dims: [1], dataType: 1, floatData: [0] } } });
  return g.node('ScatterElements', [zeros, idx!, gates], { axis: 1 });
}

/** A sparse MoE layer (gate + pool) exported densely.  x [N, d] → [N, d] */
export function sparseMoe(g: OnnxGraph, x: string, gate: Gate, pool: ExpertPool, K: number, name: string, stack?: ReturnType<typeof expertStack>): string {
  const weights = topKWeights(g, gateLogits(g, x, gate), K); // [N, S]
  return denseMoe(g, x, weights, stack ?? expertStack(g, pool, name));
}

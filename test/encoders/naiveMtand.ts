/**
 * A direct, loop-based float64 implementation of mTAND (SPEC §1.1) used as an independent
 * reference in tests (not a test file itself).
 */
import { MTand, MTandInput } from '../../src/encoders/mtand.js';
import { referencePoints } from '../../src/encoders/batchArrays.js';

/** Z [B, γ, d] as a flat Float64Array, computed with loops from the layer's current weights. */
export function naiveMtand(layer: MTand, input: MTandInput): Float64Array {
  const { B, T } = input;
  const V = layer.inputDim;
  const dt = layer.dt;
  const h = layer.heads;
  const dk = dt / h;
  const g = layer.gamma;
  const d = layer.d;
  const C = layer.channels;
  const tw = Array.from(layer.time.w.dataSync());
  const tb = Array.from(layer.time.b.dataSync());
  const qw = layer.q.w.dataSync();
  const qb = layer.q.b!.dataSync();
  const kw = layer.k.w.dataSync();
  const kb = layer.k.b!.dataSync();
  const ow = layer.out.w.dataSync();
  const ob = layer.out.b!.dataSync();
  const phi = (tau: number) => tw.map((w, i) => (i === 0 ? w * tau + tb[i]! : Math.sin(w * tau + tb[i]!)));
  const lin = (x: number[], w: ArrayLike<number>, b: ArrayLike<number>, n: number) =>
    Array.from({ length: n }, (_, o) => x.reduce((s, xi, i) => s + xi * w[i * n + o]!, b[o]!));
  const refs = Array.from(referencePoints(g));
  const Q = refs.map((r) => lin(phi(r), qw, qb, dt));
  const out = new Float64Array(B * g * d);
  for (let b = 0; b < B; b++) {
    const K = Array.from({ length: T }, (_, t) => lin(phi(input.times[b * T + t]!), kw, kb, dt));
    let anyObs = false;
    for (let t = 0; t < T; t++)
      for (let v = 0; v < V; v++) {
        const obs = input.timeMask[b * T + t]! > 0 && (layer.maskMode === 'shared' || input.mask![(b * T + t) * V + v]! > 0);
        if (obs) anyObs = true;
      }
    if (!anyObs) continue;
    for (let r = 0; r < g; r++) {
      const I: number[] = []; // [h·C]
      for (let hh = 0; hh < h; hh++) {
        const s: number[] = [];
        for (let t = 0; t < T; t++) {
          let acc = 0;
          for (let j = 0; j < dk; j++) acc += Q[r]![hh * dk + j]! * K[t]![hh * dk + j]!;
          s.push(acc / Math.sqrt(dk));
        }
        for (let c = 0; c < C; c++) {
          const v = c % V;
          const obs = (t: number) =>
            input.timeMask[b * T + t]! > 0 && (layer.maskMode === 'shared' || input.mask![(b * T + t) * V + v]! > 0);
          const ts = Array.from({ length: T }, (_, t) => t).filter(obs);
          if (ts.length === 0) {
            I.push(0);
            continue;
          }
          const mx = Math.max(...ts.map((t) => s[t]!));
          const wts = ts.map((t) => Math.exp(s[t]! - mx));
          const z = wts.reduce((a, x) => a + x, 0);
          const val = (t: number) => (c < V ? input.values[(b * T + t) * V + v]! : 1);
          I.push(ts.reduce((acc, t, n) => acc + (wts[n]! / z) * val(t), 0));
        }
      }
      const zr = lin(I, ow, ob, d);
      for (let o = 0; o < d; o++) out[(b * g + r) * d + o] = zr[o]!;
    }
  }
  return out;
}

/** A random MTandInput with padding, a never-observed variable and an empty sample. */
export function randomInput(B: number, T: number, V: number, seed: number): MTandInput {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const times = new Float32Array(B * T);
  const timeMask = new Float32Array(B * T);
  const values = new Float32Array(B * T * V);
  const mask = new Float32Array(B * T * V);
  for (let b = 0; b < B; b++) {
    const n = b === B - 1 ? 0 : Math.max(1, T - b); // last sample empty, others with padding
    const ts = Array.from({ length: n }, () => rnd()).sort((a, c) => a - c);
    for (let t = 0; t < n; t++) {
      times[b * T + t] = ts[t]!;
      timeMask[b * T + t] = 1;
      for (let v = 0; v < V; v++) {
        if (b === 0 && v === V - 1) continue; // variable never observed in sample 0
        if (rnd() < 0.6) {
          mask[(b * T + t) * V + v] = 1;
          values[(b * T + t) * V + v] = 2 * rnd() - 1;
        }
      }
    }
  }
  return { B, T, times, timeMask, values, mask };
}

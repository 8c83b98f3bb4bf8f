/**
 * Expert-collapse detector (seed 002, practical implication 1): a training callback that watches
 * the parameter distances between the experts of every MoE layer and the training-loss trend.
 * When experts' parameters converge to one another the softmax gate interacts with them and
 * parameter estimation slows down drastically (seed 002 Regime 2, Theorem 3.3); the detector then
 * warns, naming the experts, and suggests a modified gate softmax(β₁ᵀM(x) + β₀) (M = sigmoid,
 * tanh, l2-normalize, …; seed 002 §4) or Laplace gating (FuseMoE §4).
 *
 * Experts are found by the variable naming convention `<prefix>.expert<i>.<param>` (see
 * src/train/callbacks.ts); each prefix is one MoE layer.
 *
 * For a small MoE of the seed-002 family the identifiability view is `theory.mlogitFisherDiagnostics`
 * (Fisher spectrum, asymptotic standard errors, src/theory/fisher.ts; docs/THEORY.md §6). Note that
 * it measures the sigmoid gate as *worse* identified than the standard one at the seed-002 truths
 * with X ~ U[0, 1] (docs/THEORY.md §5b), so the suggested gate change is a hypothesis to check.
 */
import type { tf } from '../engine/tf.js';
import type { EpochEndInfo, TrainerCallback } from './callbacks.js';

/** Options of {@link CollapseDetector}. */
export interface CollapseDetectorOptions {
  /** Two experts count as collapsed when their relative parameter distance is below this (default 0.05). */
  collapseDistance?: number;
  /**
   * They count as collapsing when the relative distance is below `trendDistance` (default 0.25)
   * and shrank by at least the factor `shrinkFactor` (default 0.5) over the last `window` epochs.
   */
  trendDistance?: number;
  shrinkFactor?: number;
  /** Epochs of history for the trend and the plateau test (default 3). */
  window?: number;
  /** The loss has plateaued when it improved by less than this relative amount over `window` epochs (default 0.002). */
  plateauTol?: number;
  /** Warn only when the loss has also plateaued (default false). */
  requirePlateau?: boolean;
  /** Ask the trainer to stop when experts collapsed and the loss plateaued (default false). */
  stopOnCollapse?: boolean;
}

/** Relative distance between two experts of one layer. */
export interface ExpertPairDistance {
  layer: string;
  i: number;
  j: number;
  /** ‖θᵢ − θⱼ‖ / sqrt((‖θᵢ‖² + ‖θⱼ‖²)/2). */
  relDistance: number;
}

/** One detected group of mutually collapsing experts. */
export interface CollapseFinding {
  layer: string;
  experts: number[];
  /** Smallest relative distance within the group now. */
  relDistance: number;
  /** The same pair's distance `window` epochs ago (NaN when there is no history). */
  previous: number;
  kind: 'collapsed' | 'collapsing';
}

const EXPERT_RE = /^(.*)\.expert(\d+)\.(.+)$/;

/**
 * Relative parameter distances between every pair of experts of every MoE layer found in
 * `weights`. Parameters missing from one expert or of different sizes are skipped.
 */
export function expertPairDistances(weights: ReadonlyMap<string, tf.Variable | { dataSync(): ArrayLike<number> }>): ExpertPairDistance[] {
  const layers = new Map<string, Map<number, Map<string, ArrayLike<number>>>>();
  for (const [name, v] of weights) {
    const m = EXPERT_RE.exec(name);
    if (!m) continue;
    const [, layer, idx, param] = m;
    if (!layers.has(layer!)) layers.set(layer!, new Map());
    const experts = layers.get(layer!)!;
    const i = Number(idx);
    if (!experts.has(i)) experts.set(i, new Map());
    experts.get(i)!.set(param!, v.dataSync() as ArrayLike<number>);
  }
  const out: ExpertPairDistance[] = [];
  for (const [layer, experts] of [...layers].sort(([a], [b]) => a.localeCompare(b))) {
    const ids = [...experts.keys()].sort((a, b) => a - b);
    for (let a = 0; a < ids.length; a++) {
      for (let b = a + 1; b < ids.length; b++) {
        const ea = experts.get(ids[a]!)!;
        const eb = experts.get(ids[b]!)!;
        let diff = 0;
        let na = 0;
        let nb = 0;
        for (const [param, va] of ea) {
          const vb = eb.get(param);
          if (!vb || vb.length !== va.length) continue;
          for (let q = 0; q < va.length; q++) {
            diff += (va[q]! - vb[q]!) ** 2;
            na += va[q]! ** 2;
            nb += vb[q]! ** 2;
          }
        }
        const scale = Math.sqrt((na + nb) / 2);
        out.push({ layer, i: ids[a]!, j: ids[b]!, relDistance: scale > 0 ? Math.sqrt(diff) / scale : 0 });
      }
    }
  }
  return out;
}

/** The collapse-detector training callback. */
export class CollapseDetector implements TrainerCallback {
  readonly name = 'collapse-detector';
  private readonly opts: Required<CollapseDetectorOptions>;
  private readonly history = new Map<string, number[]>();
  private readonly losses: number[] = [];
  private readonly warned = new Set<string>();
  /** Findings of the latest epoch (for reports). */
  lastFindings: CollapseFinding[] = [];
  /** Whether the training loss had plateaued at the latest epoch. */
  lastPlateau = false;

  constructor(opts: CollapseDetectorOptions = {}) {
    this.opts = {
      collapseDistance: opts.collapseDistance ?? 0.05,
      trendDistance: opts.trendDistance ?? 0.25,
      shrinkFactor: opts.shrinkFactor ?? 0.5,
      window: opts.window ?? 3,
      plateauTol: opts.plateauTol ?? 0.002,
      requirePlateau: opts.requirePlateau ?? false,
      stopOnCollapse: opts.stopOnCollapse ?? false,
    };
  }

  /** Watch distances and the loss; warn about collapsing experts. */
  onEpochEnd(info: EpochEndInfo): void | { stop?: boolean } {
    const { window: w } = this.opts;
    this.losses.push(info.trainLoss);
    const plateau =
      this.losses.length > w &&
      (this.losses[this.losses.length - 1 - w]! - info.trainLoss) / Math.max(1e-12, Math.abs(this.losses[this.losses.length - 1 - w]!)) < this.opts.plateauTol;
    this.lastPlateau = plateau;
    const pairs = expertPairDistances(info.weights);
    const flagged: (ExpertPairDistance & { previous: number; kind: CollapseFinding['kind'] })[] = [];
    for (const p of pairs) {
      const key = `${p.layer}|${p.i}|${p.j}`;
      const h = this.history.get(key) ?? [];
      h.push(p.relDistance);
      this.history.set(key, h);
      const previous = h.length > w ? h[h.length - 1 - w]! : NaN;
      if (p.relDistance < this.opts.collapseDistance) flagged.push({ ...p, previous, kind: 'collapsed' });
      else if (p.relDistance < this.opts.trendDistance && h.length > w && p.relDistance <= this.opts.shrinkFactor * previous) {
        let monotone = true;
        for (let q = h.length - w; q < h.length; q++) if (h[q]! > h[q - 1]!) monotone = false;
        if (monotone) flagged.push({ ...p, previous, kind: 'collapsing' });
      }
    }
    this.lastFindings = groupFindings(flagged);
    if (this.lastFindings.length === 0) return;
    if (this.opts.requirePlateau && !plateau) return;
    for (const f of this.lastFindings) {
      const sig = `${f.layer}|${f.experts.join(',')}|${f.kind}|${plateau}`;
      if (this.warned.has(sig)) continue;
      this.warned.add(sig);
      info.warn(formatFinding(f, plateau, w, info.epoch));
    }
    if (this.opts.stopOnCollapse && plateau && this.lastFindings.some((f) => f.kind === 'collapsed')) return { stop: true };
  }
}

function groupFindings(flagged: (ExpertPairDistance & { previous: number; kind: CollapseFinding['kind'] })[]): CollapseFinding[] {
  const byLayer = new Map<string, typeof flagged>();
  for (const f of flagged) {
    if (!byLayer.has(f.layer)) byLayer.set(f.layer, []);
    byLayer.get(f.layer)!.push(f);
  }
  const out: CollapseFinding[] = [];
  for (const [layer, list] of byLayer) {
    // union-find over the flagged pairs
    const parent = new Map<number, number>();
    const find = (x: number): number => {
      while (parent.get(x)! !== x) x = parent.get(x)!;
      return x;
    };
    for (const f of list) {
      if (!parent.has(f.i)) parent.set(f.i, f.i);
      if (!parent.has(f.j)) parent.set(f.j, f.j);
      parent.set(find(f.i), find(f.j));
    }
    const groups = new Map<number, number[]>();
    for (const x of parent.keys()) {
      const r = find(x);
      if (!groups.has(r)) groups.set(r, []);
      groups.get(r)!.push(x);
    }
    for (const members of groups.values()) {
      members.sort((a, b) => a - b);
      const inGroup = list.filter((f) => members.includes(f.i));
      const best = inGroup.reduce((a, b) => (b.relDistance < a.relDistance ? b : a));
      out.push({
        layer,
        experts: members,
        relDistance: best.relDistance,
        previous: best.previous,
        kind: inGroup.some((f) => f.kind === 'collapsed') ? 'collapsed' : 'collapsing',
      });
    }
  }
  return out.sort((a, b) => a.layer.localeCompare(b.layer) || a.experts[0]! - b.experts[0]!);
}

function formatFinding(f: CollapseFinding, plateau: boolean, window: number, epoch: number): string {
  const names = f.experts.map((e) => `${f.layer}.expert${e}`).join(', ');
  const trend = Number.isFinite(f.previous) ? `, was ${f.previous.toFixed(3)} ${window} epochs ago` : '';
  return (
    `collapse detector (epoch ${epoch}): experts ${names} are ${f.kind} (relative parameter distance ${f.relDistance.toFixed(3)}${trend})` +
    `${plateau ? ` and the training loss has plateaued (< ${window} epochs of progress)` : ''}. ` +
    'With a softmax gate, experts whose parameters coincide make parameter estimation very slow (seed 002, Regime 2); ' +
    'consider the modified gate softmax(β₁ᵀM(x) + β₀) with M = sigmoid, tanh or l2-normalize (seed 002 §4), or Laplace gating (FuseMoE §4), ' +
    'or re-initialise these experts.'
  );
}

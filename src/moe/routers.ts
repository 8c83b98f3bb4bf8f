/**
 * MoE fusion router designs (FuseMoE §3.3, Fig. 2), all with one interface:
 *   input  = tokens grouped by modality (a list of [B, L_j, d]) + a modality-present mask [B, M]
 *   output = tokens of the same shapes + router statistics for the losses and the analysis.
 *
 * (a) 'joint':        one router and one expert pool over the concatenation of all modalities'
 *                     embeddings of a sample (per position: [Z_1[t] ‖ … ‖ Z_M[t]], width M·d).
 * (b) 'per-modality': one router per modality over one shared pool of S experts.
 * (c) 'disjoint':     one router per modality, each with its own pool of S experts.
 *
 * routingUnit 'token' (default) routes every token; 'sample' reproduces the public reference code,
 * which flattens each sample's sequence to one vector [L·d] and routes (and runs the experts on)
 * that vector — a deviation from the paper kept as an explicit switch.
 *
 * Every gate is a registered, trained variable (the reference code leaves per-modality router
 * weights unregistered; here they are returned by variables()).
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import { ExpertPool } from './experts.js';
import { Gate } from './gating.js';
import { loadBalancingLoss, modalityDistributions, entropyLoss, type LoadBalanceWeights } from './losses.js';
import { routeTokens, type Routing } from './routing.js';
import { SparseMoE, gateConfigOf, type SparseMoEConfig } from './sparse-moe.js';

export type RouterDesign = 'joint' | 'per-modality' | 'disjoint';
export type RoutingUnit = 'token' | 'sample';
export const ROUTER_DESIGNS: readonly RouterDesign[] = ['joint', 'per-modality', 'disjoint'];

/** Configuration of an MoE fusion router: the expert-pool settings of SparseMoE plus the design. */
export interface MoEFusionConfig extends SparseMoEConfig {
  design: RouterDesign;
  /** Number of modalities M. `dim` is the token width of every modality; `numExperts` is per pool (disjoint: M·S in total). */
  numModalities: number;
  /** 'token' (default) or the reference code's per-sample routing of the flattened sequence. */
  routingUnit?: RoutingUnit;
  /**
   * Sequence length L_j per modality. Required for routingUnit 'sample' (expert width = L_j·d) and
   * checked against the input when given.
   */
  seqLens?: number[];
}

/** Input of a router call. */
export interface FusionInput {
  /** Per modality j: [B, L_j, d]. */
  tokens: tf.Tensor3D[];
  /** [B·M] row-major: 1 when modality j is observed for sample b (tokens of absent ones still route). */
  present: ArrayLike<number | boolean>;
  /** Optional per modality j: [B·L_j] 1 = real token, 0 = padding (not routed, output 0). */
  tokenMask?: (Float32Array | null | undefined)[];
}

/** Options of a router call. */
export interface FusionApplyOptions {
  training: boolean;
  /** Base seed of the gating noise (router j uses seed + j). */
  seed?: number;
  /** 'sparse' (default) or 'dense' reference dispatch. */
  dispatch?: 'sparse' | 'dense';
}

/** One gate call's routing, in the router's global expert numbering. */
export interface RoutedGroup {
  /** 'joint' or 'mod<j>'. */
  label: string;
  /** The modality this group routes, or −1 for joint tokens (all modalities). */
  modality: number;
  /** [N_g, S_g] full softmax of the routing logits. */
  gateProbs: tf.Tensor2D;
  /** [N_g, K] GLOBAL expert ids (expertOffset added), −1 for unrouted padding. */
  topIdx: Int32Array;
  /** [N_g, K] gate values. */
  topGates: tf.Tensor2D;
  /** [S_g] Σ of gates per expert of this group's pool. */
  importance: tf.Tensor1D;
  /** [S_g] load (smooth estimate with noise, else counts). */
  load: tf.Tensor1D;
  /** First global expert id of this group's pool (disjoint: j·S). */
  expertOffset: number;
  /** S_g. */
  numExperts: number;
  /** [N_g·M] modality membership of each routed token, restricted to present, non-padding tokens. */
  membership: Float32Array;
}

/** Router statistics of one call. */
export interface RouterStats {
  numModalities: number;
  /** Size of the global expert numbering (S, or M·S for disjoint). */
  totalExperts: number;
  topK: number;
  groups: RoutedGroup[];
  /** [M, totalExperts] p̂_j: modality j's router distribution averaged over its present tokens (computed on first read). */
  readonly modalityProbs: tf.Tensor2D;
  /** [M] number of present tokens counted per modality (0: excluded from the entropy loss). */
  readonly modalityCounts: Float64Array;
}

/** Output of a router call. */
export interface FusionOutput {
  /** Per modality j: [B, L_j, d] (same shapes as the input). */
  tokens: tf.Tensor3D[];
  stats: RouterStats;
}

/** The common interface of the three designs. */
export interface MoEFusionRouter {
  readonly name: string;
  readonly cfg: MoEFusionConfig;
  apply(input: FusionInput, opts: FusionApplyOptions): FusionOutput;
  variables(): tf.Variable[];
}

/** Weights of the router auxiliary losses. */
export interface RouterLossWeights {
  /** Weight of FuseMoE's entropy loss E (eq. 4). Default 0. */
  entropy?: number;
  /** Weight of Shazeer's balancing loss (mean over gate groups). Default 0. */
  balance?: number;
  /** Inner weights of the balancing loss terms. */
  balanceTerms?: LoadBalanceWeights;
}

/**
 * The router auxiliary losses of one call: entropy = E(p̂) (eq. 4), balance = mean over gate
 * groups of cv²(importance) + cv²(load); total = w_E·entropy + w_B·balance (add it to the task loss).
 */
export function routerLosses(
  stats: RouterStats,
  w: RouterLossWeights,
): { entropy: tf.Scalar; balance: tf.Scalar; total: tf.Scalar } {
  const entropy = entropyLoss(stats.modalityProbs, stats.modalityCounts);
  const parts = stats.groups.map((g) => loadBalancingLoss(g.importance, g.load, w.balanceTerms));
  const balance = (parts.length === 0 ? tf.scalar(0) : tf.div(tf.addN(parts), parts.length)) as tf.Scalar;
  const total = tf.add(tf.mul(entropy, w.entropy ?? 0), tf.mul(balance, w.balance ?? 0)) as tf.Scalar;
  return { entropy, balance, total };
}

/** Build the router of the configured design. */
export function createRouter(name: string, cfg: MoEFusionConfig, rng: Rng): MoEFusionRouter {
  if (!ROUTER_DESIGNS.includes(cfg.design)) {
    throw new FlexiModalError(`unknown router design '${String(cfg.design)}'`, {
      where: `config key ${name}.design`,
      hint: `use one of ${ROUTER_DESIGNS.join(', ')}`,
    });
  }
  switch (cfg.design) {
    case 'joint':
      return new JointRouter(name, cfg, rng);
    case 'per-modality':
      return new PerModalityRouter(name, cfg, rng);
    case 'disjoint':
      return new DisjointRouter(name, cfg, rng);
  }
}

// ---------------------------------------------------------------------------------------------
// shared helpers

function unitOf(cfg: MoEFusionConfig): RoutingUnit {
  return cfg.routingUnit ?? 'token';
}

function needSeqLens(name: string, cfg: MoEFusionConfig): number[] {
  const L = cfg.seqLens;
  if (!L || L.length !== cfg.numModalities || L.some((l) => !(Number.isInteger(l) && l > 0))) {
    throw new FlexiModalError(`routingUnit 'sample' needs seqLens with ${cfg.numModalities} positive integers`, {
      where: `config key ${name}.seqLens`,
      hint: 'set seqLens to the token count of each modality (e.g. [48, 48, 1])',
    });
  }
  return L;
}

/** Validate the input against the config; returns B and the per-modality lengths. */
function checkInput(name: string, cfg: MoEFusionConfig, input: FusionInput): { B: number; L: number[] } {
  const M = cfg.numModalities;
  if (input.tokens.length !== M) {
    throw new FlexiModalError(`got ${input.tokens.length} modalities, expected ${M}`, {
      where: name,
      hint: 'pass one [B, L_j, d] tensor per modality, in config order',
    });
  }
  const B = input.tokens[0]!.shape[0];
  const L = input.tokens.map((t, j) => {
    if (t.rank !== 3 || t.shape[0] !== B || t.shape[2] !== cfg.dim) {
      throw new FlexiModalError(`modality ${j} has shape [${t.shape}], expected [${B}, L, ${cfg.dim}]`, {
        where: name,
        hint: 'project every modality to the router width d first',
      });
    }
    if (cfg.seqLens && cfg.seqLens[j] !== t.shape[1]) {
      throw new FlexiModalError(`modality ${j} has ${t.shape[1]} tokens, config seqLens says ${cfg.seqLens[j]}`, {
        where: `config key ${name}.seqLens`,
        hint: 'make seqLens match the encoder output lengths',
      });
    }
    return t.shape[1];
  });
  if (input.present.length !== B * M) {
    throw new FlexiModalError(`present has ${input.present.length} entries, expected B·M = ${B * M}`, {
      where: name,
      hint: 'pass a row-major [B, M] 0/1 mask',
    });
  }
  input.tokenMask?.forEach((m, j) => {
    if (m && m.length !== B * L[j]!) {
      throw new FlexiModalError(`tokenMask[${j}] has ${m.length} entries, expected B·L = ${B * L[j]!}`, {
        where: name,
        hint: 'pass one 0/1 entry per token of the modality',
      });
    }
  });
  return { B, L };
}

/** Membership [N·M] of a one-modality group: token (b, l) counts for modality j if present and real. */
function singleMembership(
  j: number,
  M: number,
  B: number,
  L: number,
  present: ArrayLike<number | boolean>,
  mask: Float32Array | null | undefined,
): Float32Array {
  const out = new Float32Array(B * L * M);
  for (let b = 0; b < B; b++) {
    if (!present[b * M + j]) continue;
    for (let l = 0; l < L; l++) {
      const n = b * L + l;
      out[n * M + j] = mask ? mask[n]! : 1;
    }
  }
  return out;
}

/** p̂ over the global expert numbering: Σ over groups of each group's [M, S_g] block, padded. */
function collectModalityProbs(
  groups: RoutedGroup[],
  M: number,
  totalExperts: number,
): { probs: tf.Tensor2D; counts: Float64Array } {
  const counts = new Float64Array(M);
  // sums (not means) first, so that several groups can contribute to one modality
  let sum: tf.Tensor2D | null = null;
  for (const g of groups) {
    const { probs, counts: c } = modalityDistributions(g.gateProbs, g.membership, M); // [M, S_g] means
    const scale = tf.tensor2d(Array.from(c, (x) => [x]), [M, 1], 'float32');
    let block = tf.mul(probs, scale) as tf.Tensor2D; // back to sums
    const right = totalExperts - g.expertOffset - g.numExperts;
    if (g.expertOffset > 0 || right > 0) block = tf.pad(block, [[0, 0], [g.expertOffset, right]]);
    sum = sum === null ? block : (tf.add(sum, block) as tf.Tensor2D);
    for (let j = 0; j < M; j++) counts[j]! += c[j]!;
  }
  const inv = tf.tensor2d(Array.from(counts, (x) => [x > 0 ? 1 / x : 0]), [M, 1], 'float32');
  return { probs: tf.mul(sum!, inv) as tf.Tensor2D, counts };
}

function groupFrom(
  label: string,
  modality: number,
  r: Pick<Routing, 'gateProbs' | 'topIdx' | 'topGates' | 'importance' | 'load'>,
  expertOffset: number,
  numExperts: number,
  membership: Float32Array,
): RoutedGroup {
  const topIdx = expertOffset === 0 ? r.topIdx : r.topIdx.map((e) => (e >= 0 ? e + expertOffset : e));
  return {
    label,
    modality,
    gateProbs: r.gateProbs,
    topIdx,
    topGates: r.topGates,
    importance: r.importance,
    load: r.load,
    expertOffset,
    numExperts,
    membership,
  };
}

/**
 * The statistics of one router call. p̂ (`modalityProbs`, `modalityCounts`) is computed on first
 * read — only the entropy loss needs it, so inference never pays for it. Read it inside the tidy
 * scope of the forward pass that produced the groups (their gate tensors die with that scope).
 */
function stats(cfg: MoEFusionConfig, groups: RoutedGroup[], totalExperts: number): RouterStats {
  let pHat: { probs: tf.Tensor2D; counts: Float64Array } | null = null;
  const modality = (): { probs: tf.Tensor2D; counts: Float64Array } => (pHat ??= collectModalityProbs(groups, cfg.numModalities, totalExperts));
  return {
    numModalities: cfg.numModalities,
    totalExperts,
    topK: cfg.topK,
    groups,
    get modalityProbs() {
      return modality().probs;
    },
    get modalityCounts() {
      return modality().counts;
    },
  };
}

/** Rows of modality j in the routing unit: token → [B·L_j, d]; sample → [B, L_j·d]. */
function rowsOf(t: tf.Tensor3D, unit: RoutingUnit): tf.Tensor2D {
  const [B, L, d] = t.shape;
  return (unit === 'token' ? tf.reshape(t, [B * L, d]) : tf.reshape(t, [B, L * d])) as tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------
// (a) joint

/** (a) One router + one pool over the concatenated modality embeddings. Variables `<name>.gate.*`, `<name>.expert<i>.*`. */
export class JointRouter implements MoEFusionRouter {
  readonly name: string;
  readonly cfg: MoEFusionConfig;
  readonly moe: SparseMoE;

  constructor(name: string, cfg: MoEFusionConfig, rng: Rng) {
    this.name = name;
    this.cfg = cfg;
    const M = cfg.numModalities;
    const width = unitOf(cfg) === 'token' ? M * cfg.dim : needSeqLens(name, cfg).reduce((a, l) => a + l * cfg.dim, 0);
    this.moe = new SparseMoE(name, { ...cfg, dim: width }, rng);
  }

  apply(input: FusionInput, opts: FusionApplyOptions): FusionOutput {
    const { B, L } = checkInput(this.name, this.cfg, input);
    const M = this.cfg.numModalities;
    const d = this.cfg.dim;
    const unit = unitOf(this.cfg);
    let x: tf.Tensor2D;
    let tokenMask: Float32Array | undefined;
    let membership: Float32Array;
    if (unit === 'token') {
      const L0 = L[0]!;
      if (L.some((l) => l !== L0)) {
        throw new FlexiModalError(`joint token routing needs equal lengths per modality, got [${L}]`, {
          where: this.name,
          hint: "resample the modalities to one length (γ) or use routingUnit 'sample'",
        });
      }
      x = tf.reshape(tf.concat(input.tokens, 2), [B * L0, M * d]) as tf.Tensor2D; // [B·L, M·d]
      const N = B * L0;
      membership = new Float32Array(N * M);
      const masks = input.tokenMask;
      if (masks?.some((m) => m)) {
        tokenMask = new Float32Array(N);
        for (let n = 0; n < N; n++) tokenMask[n] = masks.some((m) => !m || m[n]! > 0) ? 1 : 0;
      }
      for (let n = 0; n < N; n++) {
        const b = Math.floor(n / L0);
        for (let j = 0; j < M; j++) {
          if (!input.present[b * M + j]) continue;
          const m = input.tokenMask?.[j];
          membership[n * M + j] = m ? m[n]! : 1;
        }
      }
    } else {
      x = tf.concat(input.tokens.map((t) => rowsOf(t, 'sample')), 1) as tf.Tensor2D; // [B, Σ L_j·d]
      membership = new Float32Array(B * M);
      for (let b = 0; b < B; b++) for (let j = 0; j < M; j++) membership[b * M + j] = input.present[b * M + j] ? 1 : 0;
    }
    const out = this.moe.apply(x, { training: opts.training, seed: opts.seed, tokenMask, dispatch: opts.dispatch });
    const tokens =
      unit === 'token'
        ? (tf.split(tf.reshape(out.y, [B, L[0]!, M * d]), M, 2) as tf.Tensor3D[])
        : (tf.split(out.y, L.map((l) => l * d), 1) as tf.Tensor2D[]).map(
            (t, j) => tf.reshape(t, [B, L[j]!, d]) as tf.Tensor3D,
          );
    const group = groupFrom('joint', -1, out, 0, this.cfg.numExperts, membership);
    return { tokens, stats: stats(this.cfg, [group], this.cfg.numExperts) };
  }

  variables(): tf.Variable[] {
    return this.moe.variables();
  }
}

// ---------------------------------------------------------------------------------------------
// (b) per-modality routers, shared pool

/**
 * (b) One gate per modality (`<name>.mod<j>.gate.*`) over one shared pool (`<name>.expert<i>.*`).
 * All modalities' routed rows go through the pool in one dispatch.
 */
export class PerModalityRouter implements MoEFusionRouter {
  readonly name: string;
  readonly cfg: MoEFusionConfig;
  readonly gates: Gate[];
  readonly pool: ExpertPool;
  private readonly noiseRng: Rng;

  constructor(name: string, cfg: MoEFusionConfig, rng: Rng) {
    this.name = name;
    this.cfg = cfg;
    let width = cfg.dim;
    if (unitOf(cfg) === 'sample') {
      const L = needSeqLens(name, cfg);
      if (L.some((l) => l !== L[0])) {
        throw new FlexiModalError(`a shared expert pool with routingUnit 'sample' needs equal seqLens, got [${L}]`, {
          where: `config key ${name}.seqLens`,
          hint: "use design 'disjoint' or routingUnit 'token'",
        });
      }
      width = L[0]! * cfg.dim;
    }
    this.gates = [];
    for (let j = 0; j < cfg.numModalities; j++) {
      this.gates.push(new Gate(`${name}.mod${j}.gate`, gateConfigOf(cfg, width), rng));
    }
    this.pool = new ExpertPool(name, { dim: width, hidden: cfg.hidden, numExperts: cfg.numExperts }, rng);
    this.noiseRng = new Rng(rng.seed());
  }

  apply(input: FusionInput, opts: FusionApplyOptions): FusionOutput {
    const { B, L } = checkInput(this.name, this.cfg, input);
    const M = this.cfg.numModalities;
    const unit = unitOf(this.cfg);
    const K = this.cfg.topK;
    const xs: tf.Tensor2D[] = [];
    const groups: RoutedGroup[] = [];
    for (let j = 0; j < M; j++) {
      const x = rowsOf(input.tokens[j]!, unit);
      const mask = unit === 'token' ? (input.tokenMask?.[j] ?? undefined) : undefined;
      const r = routeTokens(
        this.gates[j]!,
        x,
        {
          topK: K,
          training: opts.training,
          seed: opts.seed === undefined ? undefined : opts.seed + j,
          noiseAtInference: this.cfg.noiseAtInference,
          tokenMask: mask,
        },
        () => this.noiseRng.seed(),
      );
      const membership = singleMembership(j, M, B, unit === 'token' ? L[j]! : 1, input.present, mask);
      xs.push(x);
      groups.push(groupFrom(`mod${j}`, j, r, 0, this.cfg.numExperts, membership));
    }
    const rows = xs.map((x) => x.shape[0]);
    const xAll = xs.length === 1 ? xs[0]! : (tf.concat(xs, 0) as tf.Tensor2D);
    const idxAll = new Int32Array(rows.reduce((a, r) => a + r, 0) * K);
    let at = 0;
    for (const g of groups) {
      idxAll.set(g.topIdx, at);
      at += g.topIdx.length;
    }
    const gAll = groups.length === 1 ? groups[0]!.topGates : (tf.concat(groups.map((g) => g.topGates), 0) as tf.Tensor2D);
    const y =
      opts.dispatch === 'dense' ? this.pool.dense(xAll, idxAll, gAll) : this.pool.sparse(xAll, idxAll, gAll);
    const parts = rows.length === 1 ? [y] : (tf.split(y, rows, 0) as tf.Tensor2D[]);
    const tokens = parts.map((p, j) => tf.reshape(p, [B, L[j]!, this.cfg.dim]) as tf.Tensor3D);
    return { tokens, stats: stats(this.cfg, groups, this.cfg.numExperts) };
  }

  variables(): tf.Variable[] {
    return [...this.gates.flatMap((g) => g.variables()), ...this.pool.variables()];
  }
}

// ---------------------------------------------------------------------------------------------
// (c) disjoint

/** (c) One SparseMoE per modality (`<name>.mod<j>.gate.*`, `<name>.mod<j>.expert<i>.*`). */
export class DisjointRouter implements MoEFusionRouter {
  readonly name: string;
  readonly cfg: MoEFusionConfig;
  readonly moes: SparseMoE[];

  constructor(name: string, cfg: MoEFusionConfig, rng: Rng) {
    this.name = name;
    this.cfg = cfg;
    const L = unitOf(cfg) === 'sample' ? needSeqLens(name, cfg) : null;
    this.moes = [];
    for (let j = 0; j < cfg.numModalities; j++) {
      const width = L ? L[j]! * cfg.dim : cfg.dim;
      this.moes.push(new SparseMoE(`${name}.mod${j}`, { ...cfg, dim: width }, rng));
    }
  }

  apply(input: FusionInput, opts: FusionApplyOptions): FusionOutput {
    const { B, L } = checkInput(this.name, this.cfg, input);
    const M = this.cfg.numModalities;
    const S = this.cfg.numExperts;
    const unit = unitOf(this.cfg);
    const groups: RoutedGroup[] = [];
    const tokens = input.tokens.map((t, j) => {
      const mask = unit === 'token' ? (input.tokenMask?.[j] ?? undefined) : undefined;
      const out = this.moes[j]!.apply(rowsOf(t, unit), {
        training: opts.training,
        seed: opts.seed === undefined ? undefined : opts.seed + j,
        tokenMask: mask,
        dispatch: opts.dispatch,
      });
      const membership = singleMembership(j, M, B, unit === 'token' ? L[j]! : 1, input.present, mask);
      groups.push(groupFrom(`mod${j}`, j, out, j * S, S, membership));
      return tf.reshape(out.y, [B, L[j]!, this.cfg.dim]) as tf.Tensor3D;
    });
    return { tokens, stats: stats(this.cfg, groups, M * S) };
  }

  variables(): tf.Variable[] {
    return this.moes.flatMap((m) => m.variables());
  }
}

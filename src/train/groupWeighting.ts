/**
 * Loss weighting by modality-combination group (config `train.groupWeighting`), model-agnostic:
 *
 * - `group-dro` — REMIND eqs. 2–4 (Sagawa et al. 2020's online GroupDRO): the objective is
 *   Σ_k λ_k R_k(θ), R_k = mean task loss of the batch's samples of group k (groups absent from the
 *   batch contribute 0), i.e. per-sample weight w_i = B·λ_{g(i)} / n_{g(i)} in a batch of B with
 *   n_g samples of group g. Every `everySteps` optimizer steps λ is refreshed by the exponentiated
 *   rule λ_k ← λ_k exp(γ R_k) / Σ_j λ_j exp(γ R_j), with R_k the mean per-sample loss of group k
 *   over the training samples seen since the last refresh (0 for a group not seen in that window,
 *   as in Sagawa's code where an absent group's batch loss is 0). λ starts uniform over the
 *   training split's groups.
 * - `reweigh` — static inverse-frequency group weights w_g = c · n_g^(−power) (n_g = training
 *   samples of group g; power 1 = every group contributes equally in expectation), c chosen so
 *   the mean weight over the training split is 1. We reweigh groups rather than adjust logits:
 *   logit adjustment (Menon et al. 2020) corrects a LABEL prior, and here the imbalance is in the
 *   inputs' modality combinations, which are not outputs of the model.
 *
 * A group that a batch holds but the training split did not (possible only with train.augment
 * dropping modalities) gets λ = 1/K (K = groups so far) before renormalising (group-dro), or
 * weight 1 (reweigh); its appearance is counted in `unseenGroupSamples`.
 */
import { tf } from '../engine/tf.js';
import type { TaskSpec } from '../data/schema.js';
import { perSampleTaskLoss, type TaskLossOptions } from './taskLoss.js';

/** Config of `train.groupWeighting` (see src/config/schema.ts). */
export type GroupWeightingConfig =
  | { type: 'none' }
  | { type: 'group-dro'; gamma: number; everySteps: number }
  | { type: 'reweigh'; power: number };

/** A loss weighting over groups, consulted by the trainer on every micro-batch. */
export interface GroupWeighting {
  readonly kind: 'group-dro' | 'reweigh';
  /**
   * The weighted task loss of a batch (scalar). Records the per-sample losses for the next
   * refresh of the weights. Call inside the gradient tape.
   */
  loss(task: TaskSpec, logits: tf.Tensor2D, labels: Float32Array, groupIds: Int32Array, opts: TaskLossOptions): tf.Scalar;
  /** After each optimizer step: refreshes the weights when due. */
  afterStep(): void;
  /** Current weight of each group, by group name (λ for group-dro; w_g for reweigh). */
  snapshot(): Record<string, number>;
  /** Batch samples whose group was not among the training split's groups. */
  readonly unseenGroupSamples: number;
  /** Everything that changes during training, as JSON (for checkpoints). */
  getState(): unknown;
  /** Continue from a state returned by getState. */
  setState(state: unknown): void;
}

/** Per-sample weights for a batch: B·λ_g/n_g (exported for tests). */
export function droSampleWeights(groupIds: Int32Array, lambda: ReadonlyMap<number, number>): Float32Array {
  const inBatch = new Map<number, number>();
  for (const g of groupIds) inBatch.set(g, (inBatch.get(g) ?? 0) + 1);
  const B = groupIds.length;
  return Float32Array.from(groupIds, (g) => (B * lambda.get(g)!) / inBatch.get(g)!);
}

/**
 * One exponentiated-gradient step on the simplex (eq. 4): λ_k ← λ_k e^{γR_k} / Σ_j λ_j e^{γR_j}.
 * Computed in log space (same value, no overflow). `risks` holds R_k for every key of `lambda`.
 */
export function exponentiatedUpdate(lambda: ReadonlyMap<number, number>, risks: ReadonlyMap<number, number>, gamma: number): Map<number, number> {
  const logits = [...lambda.entries()].map(([k, l]) => [k, Math.log(l) + gamma * (risks.get(k) ?? 0)] as const);
  const max = Math.max(...logits.map(([, x]) => x));
  const z = logits.reduce((a, [, x]) => a + Math.exp(x - max), 0);
  return new Map(logits.map(([k, x]) => [k, Math.exp(x - max) / z]));
}

/** The weighted loss from per-sample weights (null = unweighted mean); records the losses. */
function weightedLoss(
  task: TaskSpec,
  logits: tf.Tensor2D,
  labels: Float32Array,
  opts: TaskLossOptions,
  weights: Float32Array | null,
  record: (losses: Float32Array) => void,
): tf.Scalar {
  return tf.tidy(() => {
    const perSample = perSampleTaskLoss(task, logits, labels, opts); // [B]
    record(perSample.dataSync() as Float32Array);
    return (weights ? tf.mean(tf.mul(perSample, tf.tensor1d(weights))) : tf.mean(perSample)) as tf.Scalar;
  });
}

/** Online group DRO (REMIND eqs. 2–4). */
export class GroupDro implements GroupWeighting {
  readonly kind = 'group-dro' as const;
  private lambda: Map<number, number>;
  private readonly lossSum = new Map<number, number>();
  private readonly lossCount = new Map<number, number>();
  private steps = 0;
  unseenGroupSamples = 0;

  constructor(
    trainGroupIds: Iterable<number>,
    private readonly nameOf: (id: number) => string,
    private readonly gamma: number,
    private readonly everySteps: number,
  ) {
    const ids = [...new Set(trainGroupIds)].sort((a, b) => a - b);
    this.lambda = new Map(ids.map((k) => [k, 1 / ids.length]));
  }

  /** Current λ by group id (a copy). */
  weights(): Map<number, number> {
    return new Map(this.lambda);
  }

  loss(task: TaskSpec, logits: tf.Tensor2D, labels: Float32Array, groupIds: Int32Array, opts: TaskLossOptions): tf.Scalar {
    for (const g of groupIds) {
      if (this.lambda.has(g)) continue;
      this.unseenGroupSamples += groupIds.filter((x) => x === g).length;
      const k = this.lambda.size;
      this.lambda.set(g, 1 / Math.max(1, k));
      const z = [...this.lambda.values()].reduce((a, b) => a + b, 0);
      for (const [id, l] of this.lambda) this.lambda.set(id, l / z);
    }
    return weightedLoss(task, logits, labels, opts, droSampleWeights(groupIds, this.lambda), (losses) => {
      groupIds.forEach((g, i) => {
        this.lossSum.set(g, (this.lossSum.get(g) ?? 0) + losses[i]!);
        this.lossCount.set(g, (this.lossCount.get(g) ?? 0) + 1);
      });
    });
  }

  afterStep(): void {
    this.steps++;
    if (this.steps % this.everySteps !== 0) return;
    const risks = new Map([...this.lambda.keys()].map((k) => [k, this.lossCount.get(k) ? this.lossSum.get(k)! / this.lossCount.get(k)! : 0]));
    this.lambda = exponentiatedUpdate(this.lambda, risks, this.gamma);
    this.lossSum.clear();
    this.lossCount.clear();
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.lambda.entries()].map(([k, l]) => [this.nameOf(k), l]));
  }

  getState(): unknown {
    return { lambda: [...this.lambda], lossSum: [...this.lossSum], lossCount: [...this.lossCount], steps: this.steps, unseenGroupSamples: this.unseenGroupSamples };
  }

  setState(state: unknown): void {
    const s = state as { lambda: [number, number][]; lossSum: [number, number][]; lossCount: [number, number][]; steps: number; unseenGroupSamples: number };
    this.lambda = new Map(s.lambda);
    this.lossSum.clear();
    for (const [k, v] of s.lossSum) this.lossSum.set(k, v);
    this.lossCount.clear();
    for (const [k, v] of s.lossCount) this.lossCount.set(k, v);
    this.steps = s.steps;
    this.unseenGroupSamples = s.unseenGroupSamples;
  }
}

/** Static inverse-frequency group weights. */
export class GroupReweigh implements GroupWeighting {
  readonly kind = 'reweigh' as const;
  private readonly weight = new Map<number, number>();
  unseenGroupSamples = 0;

  constructor(
    trainGroupIds: readonly number[],
    private readonly nameOf: (id: number) => string,
    power: number,
  ) {
    const counts = new Map<number, number>();
    for (const g of trainGroupIds) counts.set(g, (counts.get(g) ?? 0) + 1);
    // mean weight over the training split = 1: c Σ_k n_k · n_k^-power = N
    const c = trainGroupIds.length / [...counts.values()].reduce((a, n) => a + n ** (1 - power), 0);
    for (const [g, n] of [...counts.entries()].sort((a, b) => a[0] - b[0])) this.weight.set(g, c * n ** -power);
  }

  loss(task: TaskSpec, logits: tf.Tensor2D, labels: Float32Array, groupIds: Int32Array, opts: TaskLossOptions): tf.Scalar {
    const w = Float32Array.from(groupIds, (g) => {
      const x = this.weight.get(g);
      if (x === undefined) this.unseenGroupSamples++;
      return x ?? 1;
    });
    return weightedLoss(task, logits, labels, opts, w, () => {});
  }

  afterStep(): void {}

  getState(): unknown {
    return { unseenGroupSamples: this.unseenGroupSamples };
  }

  setState(state: unknown): void {
    this.unseenGroupSamples = (state as { unseenGroupSamples: number }).unseenGroupSamples;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.weight.entries()].map(([k, w]) => [this.nameOf(k), w]));
  }
}

/** The weighting a config asks for (null for 'none'); `trainGroupIds` = one group id per training sample. */
export function makeGroupWeighting(cfg: GroupWeightingConfig | undefined, trainGroupIds: readonly number[], nameOf: (id: number) => string): GroupWeighting | null {
  if (!cfg || cfg.type === 'none') return null;
  if (cfg.type === 'group-dro') return new GroupDro(trainGroupIds, nameOf, cfg.gamma, cfg.everySteps);
  return new GroupReweigh(trainGroupIds, nameOf, cfg.power);
}

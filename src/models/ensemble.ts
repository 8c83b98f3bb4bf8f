/**
 * A seed ensemble: M independently initialised and trained copies (members) of one architecture
 * whose predicted probabilities are averaged. Small clinical datasets give high seed-to-seed
 * variance; averaging members reduces it (docs/RESULTS.md measures the gain).
 *
 * One model instance holds the variables; each member is a snapshot of its trained weights that is
 * assigned to that instance before the member's forward pass (one live copy is enough: M copies would
 * hold M times the memory). Inference only: members are trained one by
 * one by the ordinary trainer (src/run/experiment.ts), never through this class.
 */
import { tf } from '../engine/tf.js';
import { paramName } from '../engine/params.js';
import type { Batch } from '../data/batchTypes.js';
import type { TaskSpec } from '../data/schema.js';
import { logitsToProbs } from '../train/taskLoss.js';
import type { ForwardOutput, FusionModel, SampleExplanation } from './model.js';

/** Smallest probability kept when turning averaged probabilities back into logits. */
const EPS = 1e-7;

export class EnsembleModel implements FusionModel {
  readonly type: string;

  /**
   * `base`: a model of the members' architecture (its variables are overwritten);
   * `members`: per member, variable name → trained weights (taken over: disposed with the ensemble).
   */
  constructor(
    private readonly base: FusionModel,
    private readonly members: Map<string, tf.Tensor>[],
    private readonly task: TaskSpec,
  ) {
    if (members.length < 1) throw new Error('EnsembleModel: at least one member is needed');
    for (const [i, m] of members.entries()) {
      for (const v of base.variables()) {
        const w = m.get(paramName(v));
        if (!w) throw new Error(`EnsembleModel: member ${i} has no weight '${paramName(v)}'`);
        if (w.shape.join('x') !== v.shape.join('x')) throw new Error(`EnsembleModel: member ${i} weight '${paramName(v)}' has shape [${w.shape}], expected [${v.shape}]`);
      }
    }
    this.type = base.type;
  }

  /** Number of members. */
  get size(): number {
    return this.members.length;
  }

  /** Member i's weights (variable name → tensor; owned by the ensemble). */
  memberWeights(i: number): Map<string, tf.Tensor> {
    return this.members[i]!;
  }

  /** Run `fn` on the base model carrying member i's weights. */
  withMember<T>(i: number, fn: (model: FusionModel) => T): T {
    const weights = this.members[i]!;
    for (const v of this.base.variables()) v.assign(weights.get(paramName(v))!);
    return fn(this.base);
  }

  /**
   * Logits whose probabilities are the members' mean probabilities: binary / multilabel
   * logit(mean σ(zᵢ)), multiclass log(mean softmax(zᵢ)).  logits [B, C]
   */
  forward(batch: Batch, opts: { training: boolean; seed?: number }): ForwardOutput {
    if (opts.training) throw new Error('EnsembleModel is inference-only: train its members one by one');
    const probs = this.members.map((_, i) => this.withMember(i, (m) => tf.tidy(() => logitsToProbs(this.task, m.forward(batch, { training: false }).logits))));
    const logits = tf.tidy(() => {
      const mean = tf.clipByValue(tf.div(tf.addN(probs), probs.length), EPS, 1 - EPS) as tf.Tensor2D;
      return (this.task.kind === 'multiclass' ? tf.log(mean) : tf.sub(tf.log(mean), tf.log1p(tf.neg(mean)))) as tf.Tensor2D;
    });
    probs.forEach((p) => p.dispose());
    return { logits };
  }

  /** The base model's variables (they hold the weights of the member used last). */
  variables(): tf.Variable[] {
    return this.base.variables();
  }

  dispose(): void {
    this.base.dispose();
    for (const m of this.members) m.forEach((t) => t.dispose());
  }

  /**
   * Per sample: modality shares averaged over members; the members' top experts pooled (each
   * tagged with its member, weights divided by M), best first, as many as one member lists.
   */
  explain(batch: Batch): SampleExplanation[] {
    if (!this.base.explain) return [];
    const perMember = this.members.map((_, i) => this.withMember(i, (m) => m.explain!(batch)));
    const M = perMember.length;
    return perMember[0]!.map((first, n) => {
      const shares: Record<string, number> = {};
      for (const ex of perMember) for (const [k, v] of Object.entries(ex[n]!.modalityShares)) shares[k] = (shares[k] ?? 0) + v / M;
      const experts = perMember
        .flatMap((ex, member) => ex[n]!.topExperts.map((e) => ({ ...e, member, weight: e.weight / M })))
        .sort((a, b) => b.weight - a.weight)
        .slice(0, first.topExperts.length);
      return { id: first.id, modalityShares: shares, topExperts: experts };
    });
  }
}

/** Clone a model's current weights (variable name → tensor) as a member snapshot. */
export function snapshotWeights(model: FusionModel): Map<string, tf.Tensor> {
  return new Map(model.variables().map((v) => [paramName(v), tf.clone(v)] as const));
}

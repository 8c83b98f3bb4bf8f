/**
 * A trainer callback that samples gradient consistency (gradientConsistency.ts) every few epochs
 * for the head and tail modality-combination groups of the training set (REMIND Fig. 3).
 *
 * The examples are drawn once, seeded, so every sampling point sees the same sets: the whole-set
 * sample X (`samples` random training examples: head-dominated, as training is) and per group
 * min(count, `perGroup`) of its examples. Groups with fewer than `minGroupSize` training samples
 * are skipped; at most `maxGroups` groups (every head group first, then the largest tail groups).
 * Tail = groups holding less than `tailFraction` (config `evaluation.tailThreshold`) of the training samples.
 */
import { paramName } from '../engine/params.js';
import type { Sample, TaskSpec, DatasetSpec } from '../data/schema.js';
import type { Batch } from '../data/batchTypes.js';
import { groupIdOf, groupName } from '../data/groups.js';
import type { FusionModel } from '../models/model.js';
import type { TaskLossOptions } from '../train/taskLoss.js';
import type { TrainerCallback, EpochEndInfo } from '../train/callbacks.js';
import { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import { headTailGroups } from '../eval/longTail.js';
import { cosine, dominantDirection, perExampleGradients } from './gradientConsistency.js';

export interface GradientConsistencyConfig {
  /** Sample every `every` epochs (and after epoch 1). */
  every: number;
  /** Whole-set sample size. */
  samples: number;
  /** Examples per group. */
  perGroup: number;
  minGroupSize: number;
  maxGroups: number;
  /** Regular expression selecting the parameters (variable names) of the fusion block. */
  params: string;
  tailFraction: number;
}

/** One group's consistency at one sampling point. */
export interface GroupConsistency {
  name: string;
  kind: 'head' | 'tail';
  /** Share of the training samples in the group. */
  trainShare: number;
  /** Examples used. */
  n: number;
  gc: number;
}

export interface ConsistencyRecord {
  epoch: number;
  groups: GroupConsistency[];
  /** Mean GC over head / tail groups (NaN when there is none). */
  headMean: number;
  tailMean: number;
  seconds: number;
}

/** The groups of a set of samples, largest first, with their share and head/tail kind (tail = share < tailFraction, as in src/eval/longTail.ts). */
export function groupsWithKind(spec: DatasetSpec, samples: Sample[], tailFraction: number): { id: number; name: string; count: number; share: number; kind: 'head' | 'tail'; members: Sample[] }[] {
  const byGroup = new Map<number, Sample[]>();
  for (const s of samples) {
    const g = groupIdOf(spec, s);
    const list = byGroup.get(g);
    if (list) list.push(s);
    else byGroup.set(g, [s]);
  }
  const { tail } = headTailGroups(samples.map((s) => groupName(spec, groupIdOf(spec, s))), tailFraction);
  const tailSet = new Set(tail);
  return [...byGroup.entries()]
    .map(([id, members]) => {
      const name = groupName(spec, id);
      return { id, name, count: members.length, share: members.length / samples.length, kind: tailSet.has(name) ? ('tail' as const) : ('head' as const), members };
    })
    .sort((a, b) => b.count - a.count || a.id - b.id);
}

function mean(xs: number[]): number {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((a, x) => a + x, 0) / f.length : NaN;
}

export class GradientConsistencyMonitor implements TrainerCallback {
  readonly name = 'gradient-consistency';
  readonly records: ConsistencyRecord[] = [];
  private readonly whole: Sample[];
  private readonly groups: { name: string; kind: 'head' | 'tail'; share: number; members: Sample[] }[];
  private readonly params: RegExp;

  constructor(
    private readonly model: FusionModel,
    private readonly task: TaskSpec,
    spec: DatasetSpec,
    train: Sample[],
    private readonly toBatch: (s: Sample[]) => Batch,
    private readonly loss: TaskLossOptions,
    private readonly cfg: GradientConsistencyConfig,
    seed: number,
    private readonly log: (line: string) => void,
  ) {
    try {
      this.params = new RegExp(cfg.params);
    } catch (e) {
      throw new FlexiModalError(`not a regular expression: ${cfg.params} (${(e as Error).message})`, { where: 'config key analysis.gradientConsistency.params' });
    }
    const rng = new Rng(seed);
    const pick = (xs: Sample[], k: number) => rng.shuffle(xs.slice()).slice(0, Math.min(k, xs.length));
    this.whole = pick(train, cfg.samples);
    const eligible = groupsWithKind(spec, train, cfg.tailFraction).filter((g) => g.count >= cfg.minGroupSize);
    const chosen = [...eligible.filter((g) => g.kind === 'head'), ...eligible.filter((g) => g.kind === 'tail')].slice(0, cfg.maxGroups);
    this.groups = chosen.map((g) => ({ name: g.name, kind: g.kind, share: g.share, members: pick(g.members, cfg.perGroup) }));
  }

  /** Sample now (also called by the trainer at the chosen epochs). */
  measure(epoch: number): ConsistencyRecord {
    const started = Date.now();
    const params = this.model.variables().filter((v) => v.trainable && this.params.test(paramName(v)));
    const direction = (xs: Sample[]) => dominantDirection(perExampleGradients(this.model, this.task, xs, this.toBatch, params, this.loss));
    const g = direction(this.whole);
    const groups = this.groups.map((grp) => ({ name: grp.name, kind: grp.kind, trainShare: grp.share, n: grp.members.length, gc: cosine(g, direction(grp.members)) }));
    const rec: ConsistencyRecord = {
      epoch,
      groups,
      headMean: mean(groups.filter((x) => x.kind === 'head').map((x) => x.gc)),
      tailMean: mean(groups.filter((x) => x.kind === 'tail').map((x) => x.gc)),
      seconds: (Date.now() - started) / 1000,
    };
    this.records.push(rec);
    return rec;
  }

  onEpochEnd(info: EpochEndInfo): void {
    if (!(info.epoch === 1 || info.epoch % this.cfg.every === 0)) return;
    const r = this.measure(info.epoch);
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
    this.log(`  gradient consistency (epoch ${r.epoch}): head ${f(r.headMean)}, tail ${f(r.tailMean)} over ${r.groups.length} groups (${r.seconds.toFixed(1)} s)`);
  }
}

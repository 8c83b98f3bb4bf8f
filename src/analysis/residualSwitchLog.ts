/**
 * A trainer callback that records, per epoch, how often REMIND's residual-routing switch fired
 * (eq. 8: Φ_k applied because the shared router was uncertain) per block and modality-combination
 * group, and prints one line per epoch.
 */
import type { DatasetSpec } from '../data/schema.js';
import { groupName } from '../data/groups.js';
import type { RemindModel } from '../models/remind.js';
import type { TrainerCallback, EpochEndInfo } from '../train/callbacks.js';

export interface SwitchRecord {
  epoch: number;
  /** Per block and group: training samples routed and how many of them used Φ_k. */
  groups: { block: number; group: string; fired: number; total: number }[];
}

export class ResidualSwitchLog implements TrainerCallback {
  readonly name = 'residual-switch';
  readonly records: SwitchRecord[] = [];

  constructor(
    private readonly model: RemindModel,
    private readonly spec: DatasetSpec,
    private readonly log: (line: string) => void,
  ) {}

  onEpochEnd(info: EpochEndInfo): void {
    const counts = this.model.takeSwitchCounts();
    const groups = counts.map((c) => ({ block: c.block, group: groupName(this.spec, c.group), fired: c.fired, total: c.total }));
    this.records.push({ epoch: info.epoch, groups });
    const fired = groups.reduce((a, g) => a + g.fired, 0);
    const total = groups.reduce((a, g) => a + g.total, 0);
    const pct = (f: number, t: number) => `${t > 0 ? ((100 * f) / t).toFixed(0) : '–'}%`;
    const largest = groups
      .filter((g) => g.block === 0)
      .sort((a, b) => b.total - a.total)
      .slice(0, 5)
      .map((g) => `${g.group} ${pct(g.fired, g.total)}`)
      .join(', ');
    this.log(`  residual routing switch (epoch ${info.epoch}): fired for ${pct(fired, total)} of samples·blocks; largest groups (block 0): ${largest}`);
  }
}

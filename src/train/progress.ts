/**
 * Training progress: a cli-progress bar on a TTY (loss and validation metric in the bar), plain
 * one-line-per-epoch logs otherwise (CI, files).
 */
import cliProgress from 'cli-progress';

/** Group weights printed per epoch (the largest ones and the smallest); the run writes them all. */
const GROUP_WEIGHTS_SHOWN = 4;
import type { EpochRecord } from './trainer.js';

export class ProgressReporter {
  private bar: cliProgress.SingleBar | null = null;
  private readonly enabled: boolean;
  private lastVal = '';

  constructor(
    mode: boolean | 'auto',
    private readonly label: string,
    private readonly log: (line: string) => void,
  ) {
    this.enabled = mode === 'auto' ? Boolean(process.stderr.isTTY) : mode;
  }

  /** Begin an epoch of `total` micro-batches. */
  startEpoch(epoch: number, epochs: number, total: number): void {
    if (!this.enabled) return;
    this.bar?.stop();
    this.bar = new cliProgress.SingleBar(
      {
        format: `${this.label} epoch ${epoch}/${epochs} [{bar}] {value}/{total} | loss {loss} | {val} | {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { loss: '-', val: this.lastVal || 'val -' });
  }

  /** One micro-batch done. */
  tick(values: { loss: number }): void {
    this.bar?.increment(1, { loss: values.loss.toFixed(4) });
  }

  /** Epoch finished: show validation metrics. */
  endEpoch(r: EpochRecord, monitor: string): void {
    const aux = Object.entries(r.aux).map(([k, v]) => ` ${k} ${v.toFixed(4)}`).join('');
    const valText = Object.entries(r.val)
      .filter(([k]) => ['auroc', 'auprc', 'loss', 'accuracy', monitor].includes(k))
      .map(([k, v]) => `val ${k} ${Number.isFinite(v) ? v.toFixed(4) : 'n/a'}`)
      .join(' ');
    this.lastVal = valText;
    if (this.bar) {
      this.bar.update({ val: valText });
      this.bar.stop();
      this.bar = null;
    } else {
      this.log(`${this.label} epoch ${r.epoch}: loss ${r.trainLoss.toFixed(4)}${aux} | ${valText} | lr ${r.lr.toExponential(2)} | ${r.seconds.toFixed(1)}s`);
    }
    if (this.enabled && aux) this.log(`  aux:${aux}`);
    if (r.groupWeights) {
      const w = Object.entries(r.groupWeights).sort((a, b) => b[1] - a[1]);
      const shown = w.length <= GROUP_WEIGHTS_SHOWN + 1 ? w : [...w.slice(0, GROUP_WEIGHTS_SHOWN), w[w.length - 1]!];
      const text = shown.map(([g, x]) => `${g} ${x.toFixed(4)}`);
      if (shown.length < w.length) text.splice(GROUP_WEIGHTS_SHOWN, 0, `… ${w.length - shown.length} more …`);
      this.log(`  group weights (${w.length} groups, largest first; every group in group-weights.json): ${text.join(', ')}`);
    }
    if (r.augmented) {
      this.log(`  augmentation removed ${r.augmented.observationsDropped} observations and ${r.augmented.modalitiesDropped} modalities from training samples`);
    }
  }

  /** A warning line that does not break the bar. */
  warn(message: string): void {
    if (this.bar) process.stderr.write('\n');
    this.log(`warning: ${message}`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

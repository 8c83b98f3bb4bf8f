/** ROC curve points (one per distinct threshold) and an SVG plot of one or more ROC curves. */
import { checkBinary, type Labels, type Scores } from '../metrics/validate.js';
import { auroc } from '../metrics/auroc.js';
import { thresholdSweep } from '../metrics/thresholdSweep.js';
import { FlexiModalError } from '../../errors.js';
import { renderLayers, type PlotOptions } from './render.js';

/** ROC curve: false/true positive rates at each threshold (score ≥ threshold ⇒ positive), from (0,0) to (1,1). */
export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** thresholds[0] = +Infinity (nothing predicted positive), then the distinct scores descending. */
  thresholds: number[];
}

/**
 * ROC curve points of binary `scores` against 0/1 `labels`. Tied scores move the curve diagonally,
 * so the trapezoidal area under these points equals the rank AUROC (ties ½). Needs both classes.
 */
export function rocCurvePoints(scores: Scores, labels: Labels): RocCurve {
  checkBinary(scores, labels, 'rocCurvePoints');
  const n = scores.length;
  let pos = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) pos++;
  const neg = n - pos;
  if (pos === 0 || neg === 0) {
    throw new FlexiModalError(`ROC curve needs both classes (got ${pos} positives, ${neg} negatives)`, {
      where: 'rocCurvePoints',
      hint: 'evaluate on a set that holds positives and negatives',
    });
  }
  const out: RocCurve = { fpr: [0], tpr: [0], thresholds: [Infinity] };
  for (const { threshold, tp, fp } of thresholdSweep(scores, labels)) {
    out.fpr.push(fp / neg);
    out.tpr.push(tp / pos);
    out.thresholds.push(threshold);
  }
  return out;
}

/** Trapezoidal area under piecewise-linear (x, y) points. */
export function trapezoidArea(x: readonly number[], y: readonly number[]): number {
  let a = 0;
  for (let i = 1; i < x.length; i++) a += ((x[i]! - x[i - 1]!) * (y[i]! + y[i - 1]!)) / 2;
  return a;
}

/** One curve to plot: a name (the legend adds the AUROC) and its scores/labels. */
export interface RocInput {
  name: string;
  scores: Scores;
  labels: Labels;
}

/** SVG of ROC curves (legend "name (AUROC 0.853)") with the chance diagonal dashed. */
export async function rocCurvePlot(curves: readonly RocInput[], opts: PlotOptions = {}): Promise<string> {
  const rows: { fpr: number; tpr: number; curve: string; order: number }[] = [];
  const names: string[] = [];
  for (const c of curves) {
    const r = rocCurvePoints(c.scores, c.labels);
    const name = `${c.name} (AUROC ${auroc(c.scores, c.labels).toFixed(3)})`;
    names.push(name);
    r.fpr.forEach((f, k) => rows.push({ fpr: f, tpr: r.tpr[k]!, curve: name, order: k }));
  }
  const x = { field: 'fpr', type: 'quantitative', title: opts.xLabel ?? 'false positive rate', scale: { domain: [0, 1] } };
  const y = { field: 'tpr', type: 'quantitative', title: opts.yLabel ?? 'true positive rate', scale: { domain: [0, 1] } };
  return renderLayers(opts, { width: 320, height: 320, title: 'ROC curve' }, null, [
    {
      data: { values: [{ fpr: 0, tpr: 0 }, { fpr: 1, tpr: 1 }] },
      mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
      encoding: { x, y },
    },
    {
      data: { values: rows },
      mark: { type: 'line' },
      encoding: { x, y, order: { field: 'order', type: 'quantitative' }, color: { field: 'curve', type: 'nominal', title: null, sort: names } },
    },
  ]);
}

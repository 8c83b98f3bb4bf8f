/**
 * Log-log scatter with a fitted power law and a reference slope (e.g. the n^(-1/2) rate of a
 * parametric estimator), for scaling-law and convergence-rate plots.
 */
import { checkPositive, renderLayers, type PlotOptions } from './render.js';
import { fitLine } from './fit.js';

/** Options of `logLogFit`. */
export interface LogLogFitOptions extends PlotOptions {
  /** Slope of the reference line (default −0.5). It passes through the fit at the geometric-mean x. */
  referenceSlope?: number;
  /** Legend text of the reference line (default "reference slope <s>"). */
  referenceLabel?: string;
  /** Legend text of the points (default "data"). */
  pointsLabel?: string;
}

/**
 * SVG of points (x > 0, y > 0) on log-log axes with the least-squares fit of log10 y on log10 x
 * (legend shows the fitted slope) and a dashed reference-slope line.
 */
export async function logLogFit(x: ArrayLike<number>, y: ArrayLike<number>, opts: LogLogFitOptions = {}): Promise<string> {
  checkPositive(x, 'x', 'logLogFit');
  checkPositive(y, 'y', 'logLogFit');
  const fit = fitLine(x, y, { logX: true, logY: true });
  const ref = opts.referenceSlope ?? -0.5;
  const xs = Array.from(x);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const gx = 10 ** (xs.reduce((a, v) => a + Math.log10(v), 0) / xs.length);
  const gy = fit.predict(gx);
  const fitName = `fit: slope ${fit.slope.toFixed(3)} (R² ${fit.r2.toFixed(3)})`;
  const refName = opts.referenceLabel ?? `reference slope ${ref}`;
  const pointsName = opts.pointsLabel ?? 'data';
  const rows: { x: number; y: number; series: string }[] = xs.map((v, i) => ({ x: v, y: y[i]!, series: pointsName }));
  for (const xe of [lo, hi]) {
    rows.push({ x: xe, y: fit.predict(xe), series: fitName });
    rows.push({ x: xe, y: gy * (xe / gx) ** ref, series: refName });
  }
  const enc = {
    x: { field: 'x', type: 'quantitative', title: opts.xLabel ?? 'x', scale: { type: 'log' } },
    y: { field: 'y', type: 'quantitative', title: opts.yLabel ?? 'y', scale: { type: 'log' } },
    color: { field: 'series', type: 'nominal', title: null, sort: [pointsName, fitName, refName] },
  };
  return renderLayers(opts, { width: 400, height: 300 }, rows, [
    { transform: [{ filter: { field: 'series', equal: pointsName } }], mark: { type: 'point', filled: true, size: 50 }, encoding: enc },
    { transform: [{ filter: { field: 'series', equal: fitName } }], mark: { type: 'line' }, encoding: enc },
    { transform: [{ filter: { field: 'series', equal: refName } }], mark: { type: 'line', strokeDash: [6, 4] }, encoding: enc },
  ]);
}

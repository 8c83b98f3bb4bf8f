/** Line / scatter chart of one or more series, optional log axes and a fitted line per series. */
import type { TopLevelSpec } from 'vega-lite';
import { FlexiModalError } from '../../errors.js';
import { checkPositive, finiteOrNull, renderLayers, type PlotOptions } from './render.js';
import { fitLine } from './fit.js';

/** One named series of (x, y) points; a NaN y leaves a gap. */
export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/** Options of `lineChart`. */
export interface LineChartOptions extends PlotOptions {
  /** "line" (default), "point" (scatter) or "both". */
  mark?: 'line' | 'point' | 'both';
  logX?: boolean;
  logY?: boolean;
  /** Add a dashed least-squares line per series (fitted in log space on log axes); legend shows the slope. */
  fit?: boolean;
}

/** SVG of a line/scatter chart (resolves to a string starting with "<svg"). */
export async function lineChart(series: readonly Series[], opts: LineChartOptions = {}): Promise<string> {
  const where = 'lineChart';
  const rows: { x: number | null; y: number | null; series: string; kind: string }[] = [];
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new FlexiModalError(`series "${s.name}" has ${s.x.length} x and ${s.y.length} y values`, {
        where,
        hint: 'pass paired x/y arrays',
      });
    }
    const finiteY = Array.from(s.y).filter((v) => Number.isFinite(v));
    if (opts.logX) checkPositive(s.x, `${s.name}.x`, where);
    if (opts.logY) checkPositive(finiteY, `${s.name}.y`, where);
    for (let i = 0; i < s.x.length; i++) rows.push({ x: finiteOrNull(s.x[i]!), y: finiteOrNull(s.y[i]!), series: s.name, kind: 'data' });
    if (opts.fit) {
      const xs: number[] = [];
      const ys: number[] = [];
      for (let i = 0; i < s.x.length; i++) {
        if (Number.isFinite(s.y[i]!)) {
          xs.push(s.x[i]!);
          ys.push(s.y[i]!);
        }
      }
      const f = fitLine(xs, ys, { logX: opts.logX, logY: opts.logY });
      const name = `${s.name} fit (slope ${f.slope.toFixed(3)})`;
      const lo = Math.min(...xs);
      const hi = Math.max(...xs);
      const grid = opts.logX
        ? Array.from({ length: 21 }, (_, k) => lo * (hi / lo) ** (k / 20))
        : Array.from({ length: 21 }, (_, k) => lo + ((hi - lo) * k) / 20);
      for (const x of grid) rows.push({ x, y: f.predict(x), series: name, kind: 'fit' });
    }
  }
  const x = { field: 'x', type: 'quantitative' as const, title: opts.xLabel ?? 'x', scale: opts.logX ? { type: 'log' as const } : { zero: false } };
  const y = { field: 'y', type: 'quantitative' as const, title: opts.yLabel ?? 'y', scale: opts.logY ? { type: 'log' as const } : { zero: false } };
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: null };
  const mark = opts.mark ?? 'line';
  const dataLayers: TopLevelSpec[] = [];
  if (mark === 'line' || mark === 'both') dataLayers.push({ transform: [{ filter: "datum.kind === 'data'" }], mark: { type: 'line', point: mark === 'both' }, encoding: { x, y, color } } as TopLevelSpec);
  if (mark === 'point') dataLayers.push({ transform: [{ filter: "datum.kind === 'data'" }], mark: { type: 'point', filled: true }, encoding: { x, y, color } } as TopLevelSpec);
  if (opts.fit) dataLayers.push({ transform: [{ filter: "datum.kind === 'fit'" }], mark: { type: 'line', strokeDash: [6, 4] }, encoding: { x, y, color } } as TopLevelSpec);
  return renderLayers(opts, { width: 400, height: 300 }, rows, dataLayers);
}

/** Bar chart of means with ± std error bars, optionally grouped (e.g. metric per variant per group). */
import { FlexiModalError } from '../../errors.js';
import { renderLayers, type PlotOptions } from './render.js';

/** One bar: its category label, mean, std (error bar = mean ± std; none when absent) and optional group. */
export interface Bar {
  label: string;
  mean: number;
  std?: number;
  /** Bars sharing a label are placed side by side, coloured by group. */
  group?: string;
}

/** Options of `barChartWithErrors`. */
export interface BarChartOptions extends PlotOptions {
  /** y-axis domain (default: from 0, or the data range when negative). */
  yDomain?: [number, number];
}

/** SVG of bars with mean ± std error bars; bars with a non-finite mean are rejected. */
export async function barChartWithErrors(bars: readonly Bar[], opts: BarChartOptions = {}): Promise<string> {
  bars.forEach((b, i) => {
    if (!Number.isFinite(b.mean) || (b.std !== undefined && !(b.std >= 0))) {
      throw new FlexiModalError(`bar ${i} ("${b.label}") has mean ${b.mean}, std ${b.std}`, {
        where: 'barChartWithErrors',
        hint: 'leave out undefined (null) metrics before plotting; std must be ≥ 0',
      });
    }
  });
  const grouped = bars.some((b) => b.group !== undefined);
  const values = bars.map((b) => ({
    label: b.label,
    group: b.group ?? '',
    mean: b.mean,
    lo: b.mean - (b.std ?? 0),
    hi: b.mean + (b.std ?? 0),
    hasErr: b.std !== undefined,
  }));
  const labels = [...new Set(bars.map((b) => b.label))];
  const groups = [...new Set(bars.map((b) => b.group ?? ''))];
  const x = { field: 'label', type: 'nominal', title: opts.xLabel ?? null, sort: labels, axis: { labelAngle: -30 } };
  const yScale = opts.yDomain ? { domain: opts.yDomain } : {};
  const offset = grouped ? { xOffset: { field: 'group', type: 'nominal', sort: groups } } : {};
  const color = grouped ? { color: { field: 'group', type: 'nominal', title: null, sort: groups } } : {};
  return renderLayers(opts, { width: Math.max(200, 40 * bars.length), height: 300 }, values, [
    {
      mark: { type: 'bar' },
      encoding: { x, y: { field: 'mean', type: 'quantitative', title: opts.yLabel ?? 'mean', scale: yScale }, ...offset, ...color },
    },
    {
      transform: [{ filter: 'datum.hasErr' }],
      mark: { type: 'rule', color: 'black' },
      encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, ...offset },
    },
  ]);
}

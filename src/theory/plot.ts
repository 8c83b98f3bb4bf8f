/**
 * Small headless vega-lite → SVG helpers for the theory lab (log-log rate plots, EM traces).
 * Self-contained on purpose (src/eval/plots is developed separately).
 */
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

/** Render a vega-lite spec to an SVG string. */
export async function renderVegaLite(spec: vegaLite.TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Inputs of {@link rateSvg}. */
export interface RatePlotInput {
  title: string;
  sizes: number[];
  meanLoss: number[];
  slope: number;
  intercept: number;
  slopeStderr: number;
  lossLabel?: string;
  /** Reference slope drawn through the data centre (default −1/2). */
  referenceSlope?: number;
}

/**
 * Log-log rate plot: mean loss per size (points), the least-squares line, and a dashed reference
 * line of slope −1/2 through the centre of the data.
 */
export async function rateSvg(inp: RatePlotInput): Promise<string> {
  const ref = inp.referenceSlope ?? -0.5;
  const lx = inp.sizes.map((n) => Math.log(n));
  const cx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const cy = inp.intercept + inp.slope * cx;
  const lo = Math.min(...inp.sizes);
  const hi = Math.max(...inp.sizes);
  const fitName = `fit: ${Math.exp(inp.intercept).toPrecision(3)}·n^${inp.slope.toFixed(3)} (± ${inp.slopeStderr.toFixed(3)})`;
  const refName = `reference slope ${ref}`;
  const lines = [lo, hi].flatMap((n) => [
    { n, loss: Math.exp(inp.intercept + inp.slope * Math.log(n)), series: fitName },
    { n, loss: Math.exp(cy + ref * (Math.log(n) - cx)), series: refName },
  ]);
  const points = inp.sizes.map((n, i) => ({ n, loss: inp.meanLoss[i]!, series: `mean ${inp.lossLabel ?? 'D2'}` }));
  const spec: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: inp.title,
    width: 460,
    height: 320,
    layer: [
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 45 },
        encoding: {
          x: { field: 'n', type: 'quantitative', scale: { type: 'log' }, title: 'sample size n' },
          y: { field: 'loss', type: 'quantitative', scale: { type: 'log' }, title: `mean ${inp.lossLabel ?? 'D2'}` },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
      {
        data: { values: lines },
        mark: { type: 'line' },
        encoding: {
          x: { field: 'n', type: 'quantitative', scale: { type: 'log' } },
          y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } },
          color: { field: 'series', type: 'nominal', title: null },
          strokeDash: {
            field: 'series',
            type: 'nominal',
            scale: { domain: [fitName, refName], range: [[1, 0], [6, 4]] },
            legend: null,
          },
        },
      },
    ],
  };
  return renderVegaLite(spec);
}

/** Negative log-likelihood per EM iteration for several named series (Fig. 3 style). */
export async function traceSvg(title: string, series: { name: string; nll: number[] }[]): Promise<string> {
  const values = series.flatMap((s) => s.nll.map((v, i) => ({ iteration: i + 1, nll: v, series: s.name })));
  const spec: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 460,
    height: 320,
    data: { values },
    mark: { type: 'line' },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', scale: { type: 'log' }, title: 'EM iteration' },
      y: { field: 'nll', type: 'quantitative', scale: { zero: false }, title: 'negative log-likelihood (per sample)' },
      color: { field: 'series', type: 'nominal', title: 'gate' },
    },
  };
  return renderVegaLite(spec);
}

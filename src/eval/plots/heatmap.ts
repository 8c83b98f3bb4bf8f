/** Heat map of a rows × cols matrix (e.g. expert × modality routing usage) with a colour scale. */
import { FlexiModalError } from '../../errors.js';
import { finiteOrNull, renderLayers, type PlotOptions } from './render.js';

/** Options of `heatmap`. */
export interface HeatmapOptions extends PlotOptions {
  /** Row labels (y axis, top to bottom); default "0", "1", …. */
  rowLabels?: readonly string[];
  /** Column labels (x axis, left to right); default "0", "1", …. */
  colLabels?: readonly string[];
  /** Vega colour scheme (default "viridis"). */
  scheme?: string;
  /** Colour-scale domain [min, max] (default: the data range). */
  domain?: [number, number];
  /** Print each value in its cell (default: when there are ≤ 400 cells). */
  showValues?: boolean;
  /** d3-format of printed values (default ".2f"). */
  format?: string;
  /** Title of the colour legend (default "value"). */
  legendTitle?: string;
}

/** SVG of a heat map of `matrix` (rows × cols, row-major nested arrays); NaN cells are left blank. */
export async function heatmap(matrix: readonly (readonly number[])[], opts: HeatmapOptions = {}): Promise<string> {
  const rows = matrix.length;
  const cols = rows ? matrix[0]!.length : 0;
  const where = 'heatmap';
  matrix.forEach((r, i) => {
    if (r.length !== cols) {
      throw new FlexiModalError(`row ${i} has ${r.length} values, row 0 has ${cols}`, { where, hint: 'pass a rectangular matrix' });
    }
  });
  const rl = opts.rowLabels ?? Array.from({ length: rows }, (_, i) => String(i));
  const cl = opts.colLabels ?? Array.from({ length: cols }, (_, j) => String(j));
  if (rl.length !== rows || cl.length !== cols) {
    throw new FlexiModalError(`labels are ${rl.length} × ${cl.length} for a ${rows} × ${cols} matrix`, {
      where,
      hint: 'pass one label per row and per column',
    });
  }
  const values: { row: string; col: string; value: number | null }[] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) values.push({ row: rl[i]!, col: cl[j]!, value: finiteOrNull(matrix[i]![j]!) });
  const finite = values.map((v) => v.value).filter((v): v is number => v !== null);
  const domain = opts.domain ?? [finite.length ? Math.min(...finite) : 0, finite.length ? Math.max(...finite) : 1];
  const mid = (domain[0] + domain[1]) / 2;
  const showValues = opts.showValues ?? rows * cols <= 400;
  const x = { field: 'col', type: 'nominal', title: opts.xLabel ?? null, sort: [...cl], axis: { labelAngle: -40 } };
  const y = { field: 'row', type: 'nominal', title: opts.yLabel ?? null, sort: [...rl] };
  const layers: object[] = [
    {
      mark: { type: 'rect' },
      encoding: {
        x,
        y,
        color: {
          field: 'value',
          type: 'quantitative',
          title: opts.legendTitle ?? 'value',
          scale: { scheme: opts.scheme ?? 'viridis', domain },
        },
      },
    },
  ];
  if (showValues) {
    layers.push({
      transform: [{ filter: 'isValid(datum.value)' }],
      mark: { type: 'text', fontSize: 10 },
      encoding: {
        x,
        y,
        text: { field: 'value', type: 'quantitative', format: opts.format ?? '.2f' },
        color: { condition: { test: `datum.value < ${mid}`, value: 'white' }, value: 'black' },
      },
    });
  }
  return renderLayers(opts, { width: Math.max(120, 40 * cols), height: Math.max(80, 24 * rows) }, values, layers);
}

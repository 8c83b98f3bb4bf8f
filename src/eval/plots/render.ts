/**
 * Headless SVG rendering of a Vega-Lite spec (no canvas, no browser): compile to Vega, run a
 * View with renderer "none", serialise to SVG. Shared by every plot helper in this folder.
 */
// Types only: vega and vega-lite are optional dependencies, loaded when a plot is drawn.
import type { TopLevelSpec } from 'vega-lite';
import { FlexiModalError } from '../../errors.js';
import { optionalDependency } from '../../optionalDependency.js';

/**
 * Renders a Vega-Lite spec to an SVG string (starts with "<svg"). Legend labels are never truncated
 * (config legend.labelLimit 0 unless the spec sets its own).
 */
export async function renderSvg(vegaLiteSpec: object): Promise<string> {
  const spec = vegaLiteSpec as TopLevelSpec; // typed loosely in public, so consumers need no vega-lite types
  const vega = await optionalDependency('vega', 'to draw plots (SVG)', () => import('vega'));
  const { compile } = await optionalDependency('vega-lite', 'to draw plots (SVG)', () => import('vega-lite'));
  const withDefaults = { ...spec, config: { ...spec.config, legend: { labelLimit: 0, ...spec.config?.legend } } } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(withDefaults).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Common options of the plot helpers. */
export interface PlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Plot area size in pixels (default 400 × 300). */
  width?: number;
  height?: number;
}

/** Throws unless every value is finite and > 0 (needed on a log axis). */
export function checkPositive(values: ArrayLike<number>, what: string, where: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v > 0) || !Number.isFinite(v)) {
      throw new FlexiModalError(`${what}[${i}] is ${v}; a log axis needs finite values > 0`, {
        where,
        hint: 'drop or shift non-positive values, or use a linear axis',
      });
    }
  }
}

/** A finite number, or null (Vega-Lite leaves a gap / skips the point). */
export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * Renders layers over one data table (or per-layer data when `values` is null) inside the envelope
 * every plot shares: title, size (options override `size`), white background.
 */
export function renderLayers(
  opts: PlotOptions,
  size: { width: number; height: number; title?: string },
  values: readonly object[] | null,
  layers: readonly unknown[],
): Promise<string> {
  return renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? size.title,
    width: opts.width ?? size.width,
    height: opts.height ?? size.height,
    background: 'white',
    ...(values ? { data: { values } } : {}),
    layer: layers,
  } as TopLevelSpec);
}

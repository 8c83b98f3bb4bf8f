/** Plot helpers: each returns a Promise of an SVG string rendered headless with Vega-Lite. */
export { renderSvg, type PlotOptions } from './render.js';
export { fitLine, type LineFit } from './fit.js';
export { lineChart, type Series, type LineChartOptions } from './lineChart.js';
export { logLogFit, type LogLogFitOptions } from './logLogFit.js';
export { heatmap, type HeatmapOptions } from './heatmap.js';
export { barChartWithErrors, type Bar, type BarChartOptions } from './barChartWithErrors.js';
export { rocCurvePoints, rocCurvePlot, trapezoidArea, type RocCurve, type RocInput } from './rocCurve.js';

/**
 * Least-squares line fit, optionally in log space: with `logX`/`logY`, fits
 * log10(y) = intercept + slope · log10(x) (a power law y = 10^intercept · x^slope).
 */
import { FlexiModalError } from '../../errors.js';
import { checkPositive } from './render.js';

/** Result of `fitLine`: slope, intercept and R² in the (possibly log-transformed) space. */
export interface LineFit {
  slope: number;
  intercept: number;
  r2: number;
  /** The fitted y at `x` (back-transformed when logY). */
  predict: (x: number) => number;
}

/** Ordinary least squares of y on x (log10 of either when asked). Needs ≥ 2 distinct x. */
export function fitLine(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  opts: { logX?: boolean; logY?: boolean } = {},
): LineFit {
  const where = 'fitLine';
  if (xs.length !== ys.length) {
    throw new FlexiModalError(`x has ${xs.length} values, y has ${ys.length}`, { where, hint: 'pass paired points' });
  }
  if (opts.logX) checkPositive(xs, 'x', where);
  if (opts.logY) checkPositive(ys, 'y', where);
  const tx = Array.from(xs, (v) => (opts.logX ? Math.log10(v) : v));
  const ty = Array.from(ys, (v) => (opts.logY ? Math.log10(v) : v));
  const n = tx.length;
  const mx = tx.reduce((a, b) => a + b, 0) / n;
  const my = ty.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (tx[i]! - mx) ** 2;
    sxy += (tx[i]! - mx) * (ty[i]! - my);
    syy += (ty[i]! - my) ** 2;
  }
  if (n < 2 || sxx === 0 || !Number.isFinite(sxx + syy)) {
    throw new FlexiModalError(`cannot fit a line to ${n} point(s) with ${sxx === 0 ? 'no x spread' : 'non-finite values'}`, {
      where,
      hint: 'pass at least two points with distinct, finite x',
    });
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  const predict = (x: number) => {
    const t = intercept + slope * (opts.logX ? Math.log10(x) : x);
    return opts.logY ? 10 ** t : t;
  };
  return { slope, intercept, r2, predict };
}

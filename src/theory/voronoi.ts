/**
 * Voronoi loss D_r of seed 002 eq. (5) between a fitted mixing measure G = Σᵢ exp(β₀ᵢ) δ(β₁ᵢ, aᵢ, bᵢ)
 * and the true G* (k* atoms):
 *
 *   D_r(G, G*) = Σⱼ |Σ_{i∈Cⱼ} exp(β₀ᵢ) − exp(β₀ⱼ*)|
 *              + Σ_{j:|Cⱼ|>1} Σ_{i∈Cⱼ} exp(β₀ᵢ) (‖Δβ₁ᵢⱼ‖^r + Σ_ℓ |Δa_{ijℓ}|^r + ‖Δb_{ijℓ}‖^r)
 *              + Σ_{j:|Cⱼ|=1} Σ_{i∈Cⱼ} exp(β₀ᵢ) (‖Δβ₁ᵢⱼ‖ + Σ_ℓ |Δa_{ijℓ}| + ‖Δb_{ijℓ}‖),
 *
 * ℓ over the free classes 1..K−1, Cⱼ the Voronoi cell of true atom j in θ = (β₁, a, b).
 *
 * Gauge: a softmax gate is invariant to adding (t₀, t₁) to every (β₀ᵢ, β₁ᵢ), so a fitted G is only
 * defined up to that translation. With `gauge: 'reference-cell'` (default) the fit is translated so
 * that the cell of the reference true atom (the last one, pinned to β = 0 by the identifiability
 * constraint) has total mass exp(β₀*) and mass-weighted mean β₁ equal to β₁* — the cell-level form
 * of the constraint β₀ₖ = 0, β₁ₖ = 0. Cells are recomputed after the shift until they stop changing.
 * With `gauge: 'none'` eq. (5) is applied to the parameters as given.
 */
import { FlexiModalError } from '../errors.js';
import type { MlogitMoeParams } from './mlogitMoe.js';

/** Options of {@link voronoiLoss}. */
export interface VoronoiOptions {
  gauge?: 'reference-cell' | 'none';
}

/** Detailed result: the loss, the cells (fitted atom indices per true atom) and the gauge shift used. */
export interface VoronoiResult {
  loss: number;
  /** The three sums of eq. (5): cell masses, over-specified cells (order r), exact-specified cells (order 1). */
  parts: { mass: number; over: number; exact: number };
  cells: number[][];
  shift: { t0: number; t1: number[] };
}

/** D_r(G, G*) (eq. 5) for r ≥ 1. */
export function voronoiLoss(fit: MlogitMoeParams, truth: MlogitMoeParams, r = 2, opts: VoronoiOptions = {}): number {
  return voronoiLossDetailed(fit, truth, r, opts).loss;
}

/** θ = (β₁, a_{·,0..K−2}, b_{·,0..K−2}) of atom i as a flat vector. */
function theta(p: MlogitMoeParams, i: number, t1: number[]): number[] {
  const { K, d } = p;
  const v: number[] = [];
  for (let c = 0; c < d; c++) v.push(p.beta1[i * d + c]! + t1[c]!);
  for (let s = 0; s < K - 1; s++) v.push(p.a[i * K + s]!);
  for (let s = 0; s < K - 1; s++) for (let c = 0; c < d; c++) v.push(p.b[(i * K + s) * d + c]!);
  return v;
}

function dist2(u: number[], v: number[]): number {
  let s = 0;
  for (let j = 0; j < u.length; j++) s += (u[j]! - v[j]!) ** 2;
  return s;
}

/**
 * Voronoi cells: fitted atom i joins the true atom nearest in squared Euclidean distance (ties go to
 * the lower true index). Returns the fitted atom indices per true atom.
 */
export function nearestAtomCells(fitted: number[][], truth: number[][]): number[][] {
  const cells: number[][] = truth.map(() => []);
  fitted.forEach((th, i) => {
    let best = 0;
    let bd = Infinity;
    truth.forEach((tj, j) => {
      const dd = dist2(th, tj);
      if (dd < bd) {
        bd = dd;
        best = j;
      }
    });
    cells[best]!.push(i);
  });
  return cells;
}

/** Voronoi cells of the fitted atoms w.r.t. the true atoms, fitted slopes shifted by t1. */
export function voronoiCells(fit: MlogitMoeParams, truth: MlogitMoeParams, t1?: number[]): number[][] {
  const shift = t1 ?? new Array<number>(fit.d).fill(0);
  const zero = new Array<number>(fit.d).fill(0);
  return nearestAtomCells(
    Array.from({ length: fit.k }, (_, i) => theta(fit, i, shift)),
    Array.from({ length: truth.k }, (_, j) => theta(truth, j, zero)),
  );
}

/** What `alignReferenceCell` needs to know about a fitted mixing measure and the true reference atom. */
export interface ReferenceCellInput {
  /** Gate-slope dimension. */
  d: number;
  /** Index of the reference true atom (the one pinned to zero by the identifiability constraint). */
  ref: number;
  /** Gate intercept β₀ᵢ and slope β₁ᵢ[c] of fitted atom i (unshifted). */
  intercept: (i: number) => number;
  slope: (i: number, c: number) => number;
  /** The reference true atom's intercept and slope. */
  refIntercept: number;
  refSlope: (c: number) => number;
  /** Whether the gate is invariant to a common slope shift (softmax) or only to an intercept shift. */
  shiftSlope: boolean;
  /** Voronoi cells (fitted atom indices per true atom) for the slope shift t₁. */
  cellsFor: (t1: number[]) => number[][];
}

/**
 * Gauge alignment on the reference cell: a softmax gate is unchanged by adding one (t₀, t₁) to
 * every atom, so shift the fit such that the reference cell gets the true atom's mass
 * (t₀ = β₀ʳᵉᶠ − log Σᵢ e^{β₀ᵢ}) and mass-weighted mean slope (t₁), recompute the cells, and repeat
 * until they stop changing (at most 20 rounds).
 */
export function alignReferenceCell(inp: ReferenceCellInput): { t0: number; t1: number[]; cells: number[][] } {
  const { d } = inp;
  let t0 = 0;
  let t1 = new Array<number>(d).fill(0);
  let cells = inp.cellsFor(t1);
  for (let iter = 0; iter < 20; iter++) {
    const cell = cells[inp.ref]!;
    if (cell.length === 0) break;
    // mass and mass-weighted mean slope of the reference cell in the unshifted fit
    let mass = 0;
    const mean = new Array<number>(d).fill(0);
    for (const i of cell) {
      const w = Math.exp(inp.intercept(i));
      mass += w;
      for (let c = 0; c < d; c++) mean[c] = mean[c]! + w * inp.slope(i, c);
    }
    t0 = inp.refIntercept - Math.log(mass);
    if (inp.shiftSlope) t1 = mean.map((m, c) => inp.refSlope(c) - m / mass);
    const next = inp.cellsFor(t1);
    const same = next.every((c, j) => c.length === cells[j]!.length && c.every((v, q) => v === cells[j]![q]));
    cells = next;
    if (same) break;
  }
  return { t0, t1, cells };
}

/** D_r with its cells and gauge shift. */
export function voronoiLossDetailed(fit: MlogitMoeParams, truth: MlogitMoeParams, r = 2, opts: VoronoiOptions = {}): VoronoiResult {
  if (!(r >= 1)) throw new FlexiModalError(`Voronoi order r = ${r} must be ≥ 1`, { where: 'voronoiLoss r', hint: 'use r = 1 or 2' });
  if (fit.K !== truth.K || fit.d !== truth.d) {
    throw new FlexiModalError('fitted and true measures have different K or d', { where: 'voronoiLoss', hint: 'compare models of the same shape' });
  }
  const { K, d } = fit;
  const gauge = opts.gauge ?? 'reference-cell';
  const { t0, t1, cells } =
    gauge === 'reference-cell'
      ? alignReferenceCell({
          d,
          ref: truth.k - 1,
          intercept: (i) => fit.beta0[i]!,
          slope: (i, c) => fit.beta1[i * d + c]!,
          refIntercept: truth.beta0[truth.k - 1]!,
          refSlope: (c) => truth.beta1[(truth.k - 1) * d + c]!,
          shiftSlope: true,
          cellsFor: (shift) => voronoiCells(fit, truth, shift),
        })
      : { t0: 0, t1: new Array<number>(d).fill(0), cells: voronoiCells(fit, truth, new Array<number>(d).fill(0)) };
  let loss = 0;
  const parts = { mass: 0, over: 0, exact: 0 };
  for (let j = 0; j < truth.k; j++) {
    const cell = cells[j]!;
    let mass = 0;
    for (const i of cell) mass += Math.exp(fit.beta0[i]! + t0);
    const mt = Math.abs(mass - Math.exp(truth.beta0[j]!));
    loss += mt;
    parts.mass += mt;
    const power = cell.length > 1 ? r : 1;
    for (const i of cell) {
      const w = Math.exp(fit.beta0[i]! + t0);
      let db = 0;
      for (let c = 0; c < d; c++) db += (fit.beta1[i * d + c]! + t1[c]! - truth.beta1[j * d + c]!) ** 2;
      let term = Math.sqrt(db) ** power;
      for (let s = 0; s < K - 1; s++) {
        term += Math.abs(fit.a[i * K + s]! - truth.a[j * K + s]!) ** power;
        let dbs = 0;
        for (let c = 0; c < d; c++) dbs += (fit.b[(i * K + s) * d + c]! - truth.b[(j * K + s) * d + c]!) ** 2;
        term += Math.sqrt(dbs) ** power;
      }
      loss += w * term;
      if (cell.length > 1) parts.over += w * term;
      else parts.exact += w * term;
    }
  }
  return { loss, parts, cells, shift: { t0, t1 } };
}

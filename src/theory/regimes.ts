/**
 * True parameters of seed 002 App. D: k* = 2 experts, K = 2 classes, d = 1, X ~ U[0, 1].
 * Table 2 (Regime 1): every expert has a non-zero slope. Table 3 (Regime 2): b₂₁ = 0, so the
 * second expert does not depend on X and the standard gate interacts with it (PDE (3)).
 */
import { FlexiModalError } from '../errors.js';
import type { GateTransform } from './gateTransform.js';
import { canonicalizeMlogit, mlogitAtoms, mlogitParamsFromAtoms, type MlogitMoeParams } from './mlogitMoe.js';

/** The true mixing measure of Regime 1 or 2 with the given gate transform (eq. 43 / eq. 44). */
export function regimeTruth(regime: 1 | 2, gate: GateTransform): MlogitMoeParams {
  if (regime !== 1 && regime !== 2) {
    throw new FlexiModalError(`unknown regime ${String(regime)}`, { where: '--regime', hint: 'use 1 (Table 2) or 2 (Table 3)' });
  }
  return mlogitParamsFromAtoms(
    [
      // i = 1: (β₀₁, β₁₁) = (1, 3); class 1: (a₁₁, b₁₁) = (−1, 2); class 2 = reference (0, 0)
      { beta0: 1, beta1: [3], a: [-1, 0], b: [[2], [0]] },
      // i = 2: (β₀₂, β₁₂) = (0, 0); class 1: (a₂₁, b₂₁) = (1, −1) in Regime 1, (1, 0) in Regime 2
      { beta0: 0, beta1: [0], a: [1, 0], b: [[regime === 1 ? -1 : 0], [0]] },
    ],
    gate,
  );
}

/**
 * The truth written with k ≥ k* atoms: true atom `atom` (0-based) is split into k − k* + 1 copies
 * with equal gate mass (β₀ − log m each), the other atoms unchanged, and the result moved to the
 * gauge. Same conditional law; at such a point the Fisher information is singular (the copies
 * can trade mass and move apart without changing the law to first order).
 */
export function overSpecifiedTruth(truth: MlogitMoeParams, k: number, atom = 0): MlogitMoeParams {
  const atoms = mlogitAtoms(truth);
  if (!(Number.isInteger(k) && k >= atoms.length) || !(atom >= 0 && atom < atoms.length)) {
    throw new FlexiModalError(`cannot write a ${atoms.length}-atom truth with k = ${k} (split atom ${atom + 1})`, { where: '--k', hint: `use --k ≥ ${atoms.length}` });
  }
  const m = k - atoms.length + 1;
  const src = atoms[atom]!;
  const copies = Array.from({ length: m }, () => ({ ...src, beta0: src.beta0 - Math.log(m) }));
  return canonicalizeMlogit(mlogitParamsFromAtoms([...atoms.slice(0, atom), ...copies, ...atoms.slice(atom + 1)], truth.gate));
}

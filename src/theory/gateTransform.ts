/**
 * The covariate transforms M of the modified softmax gate softmax(β₁ᵀM(X) + β₀) (seed 002 §4,
 * Definition 4.1). `identity` is the standard softmax gate of eq. 1.
 */
import { FlexiModalError } from '../errors.js';

/** A gate transform: a named M, with the exponent m for `pow`. */
export type GateTransform =
  | { kind: 'identity' }
  | { kind: 'sigmoid' }
  | { kind: 'tanh' }
  | { kind: 'cos' }
  | { kind: 'sin' }
  | { kind: 'logabs' }
  | { kind: 'l2normalize' }
  | { kind: 'pow'; m: number };

/** The names accepted by {@link parseGateTransform} (CLI `--gate`). */
export const GATE_NAMES = ['standard', 'identity', 'sigmoid', 'tanh', 'cos', 'sin', 'log-abs', 'l2-normalize', 'pow<m>'] as const;

/** Parse a gate name: standard|identity|sigmoid|tanh|cos|sin|log-abs|l2-normalize|pow<m> (e.g. pow3). */
export function parseGateTransform(name: string, where = '--gate'): GateTransform {
  const s = name.trim().toLowerCase();
  switch (s) {
    case 'standard':
    case 'identity':
    case 'x':
      return { kind: 'identity' };
    case 'sigmoid':
      return { kind: 'sigmoid' };
    case 'tanh':
      return { kind: 'tanh' };
    case 'cos':
      return { kind: 'cos' };
    case 'sin':
      return { kind: 'sin' };
    case 'log-abs':
    case 'logabs':
    case 'log|x|':
      return { kind: 'logabs' };
    case 'l2-normalize':
    case 'l2normalize':
    case 'l2norm':
      return { kind: 'l2normalize' };
  }
  const m = /^(?:pow|x\^)(\d+)$/.exec(s);
  if (m) return { kind: 'pow', m: Number(m[1]) };
  throw new FlexiModalError(`unknown gate "${name}"`, {
    where,
    hint: `use one of ${GATE_NAMES.join(', ')}`,
  });
}

/** Human-readable name of a transform ("standard", "sigmoid", "pow3", …). */
export function gateTransformName(t: GateTransform): string {
  switch (t.kind) {
    case 'identity':
      return 'standard';
    case 'logabs':
      return 'log-abs';
    case 'l2normalize':
      return 'l2-normalize';
    case 'pow':
      return `pow${t.m}`;
    default:
      return t.kind;
  }
}

/** Write M(x) (x of length d starting at xOff) into out[outOff .. outOff+d). */
export function applyGateTransform(
  t: GateTransform,
  x: ArrayLike<number>,
  xOff: number,
  d: number,
  out: Float64Array,
  outOff: number,
): void {
  if (t.kind === 'l2normalize') {
    let s = 0;
    for (let c = 0; c < d; c++) s += x[xOff + c]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < d; c++) out[outOff + c] = x[xOff + c]! * inv;
    return;
  }
  for (let c = 0; c < d; c++) {
    const v = x[xOff + c]!;
    let y: number;
    switch (t.kind) {
      case 'identity':
        y = v;
        break;
      case 'sigmoid':
        y = 1 / (1 + Math.exp(-v));
        break;
      case 'tanh':
        y = Math.tanh(v);
        break;
      case 'cos':
        y = Math.cos(v);
        break;
      case 'sin':
        y = Math.sin(v);
        break;
      case 'logabs':
        y = Math.log(Math.max(Math.abs(v), 1e-12));
        break;
      case 'pow':
        y = v ** t.m;
        break;
    }
    out[outOff + c] = y;
  }
}

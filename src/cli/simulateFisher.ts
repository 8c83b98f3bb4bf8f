/**
 * `fleximodal simulate fisher`: identifiability diagnostics of the multinomial logistic MoE at a
 * parameter — the seed-002 truth (Table 2 / 3, written with k atoms) or fitted atoms from a JSON
 * file. Prints and writes (under --out) the per-sample Fisher information, its eigenvalues, the
 * asymptotic standard error of every free parameter and the n at which it falls below --se-tol.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { OwnedOutputDir } from '../io/ownedOutput.js';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import { mlogitFisherDiagnostics, type FisherDiagnostics } from '../theory/fisher.js';
import { gateTransformName, parseGateTransform } from '../theory/gateTransform.js';
import { mlogitAtoms, mlogitParamsFromAtoms, sampleCovariates, type MlogitAtom, type MlogitMoeParams } from '../theory/mlogitMoe.js';
import { monteCarloRule, uniformTensorRule, type CovariateRule } from '../theory/quadrature.js';
import { overSpecifiedTruth, regimeTruth } from '../theory/regimes.js';
import { int, num, parseWith } from './simulateOptions.js';

const fisherSchema = z.object({
  regime: z.coerce.number().pipe(z.union([z.literal(1), z.literal(2)])).default(1),
  k: int(2).default(2),
  gate: z.string().default('standard'),
  splitAtom: int(1).default(1),
  params: z.string().min(1).optional(),
  quadrature: z.enum(['gauss-legendre', 'monte-carlo']).default('gauss-legendre'),
  nodes: int(2).default(64),
  mcN: int(100).default(1e6),
  seed: int(0).default(1),
  seTol: num.pipe(z.number().positive()).default(0.1),
  out: z.string().min(1).optional(),
});

/** Parsed options of `simulate fisher`. */
export type FisherSimOptions = z.infer<typeof fisherSchema>;

/** What `simulate fisher` returns and writes to result.json. */
export interface FisherSimResult {
  config: FisherSimOptions & { gate: string };
  /** The parameter the information is evaluated at, as atoms (gauge-fixed). */
  atoms: MlogitAtom[];
  diagnostics: FisherDiagnostics;
}

/** Validate the raw options of `simulate fisher` (errors name the flag). */
export function parseFisherOptions(raw: Record<string, unknown>): FisherSimOptions {
  const o = parseWith(fisherSchema, raw, 'fisher');
  parseGateTransform(o.gate, '--gate');
  if (o.splitAtom > 2) throw new FlexiModalError(`--split-atom ${o.splitAtom}: the truth has 2 atoms`, { where: 'simulate fisher --split-atom', hint: 'use 1 or 2' });
  return o;
}

/** Read atoms from JSON: an array of atoms, `{ atoms: [...] }`, or a study unit `{ fit: [...] }`. */
export function readAtomsFile(path: string): MlogitAtom[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FlexiModalError(`cannot read parameters from ${path}: ${(e as Error).message}`, { where: 'simulate fisher --params', hint: 'give a JSON file with an array of atoms { beta0, beta1, a, b }' });
  }
  const obj = raw as { atoms?: unknown; fit?: unknown };
  const atoms = Array.isArray(raw) ? raw : Array.isArray(obj.atoms) ? obj.atoms : Array.isArray(obj.fit) ? obj.fit : null;
  const atom = z.object({ beta0: z.number(), beta1: z.array(z.number()), a: z.array(z.number()), b: z.array(z.array(z.number())) });
  const parsed = z.array(atom).min(1).safeParse(atoms);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FlexiModalError(`${path}: ${issue.message} at atoms[${issue.path.join('].')}`, { where: 'simulate fisher --params', hint: 'each atom needs beta0 (number), beta1 [d], a [K], b [K][d]' });
  }
  return parsed.data;
}

/** The covariate rule of the options: Gauss–Legendre on U[0, 1]ᵈ or a Monte-Carlo draw from U[0, 1]ᵈ. */
function covariateRule(o: FisherSimOptions, d: number): CovariateRule {
  if (o.quadrature === 'gauss-legendre') return uniformTensorRule(d, o.nodes);
  const X = sampleCovariates(o.mcN, d, { kind: 'uniform', lo: 0, hi: 1 }, new Rng(o.seed));
  return monteCarloRule(X, d, `Monte Carlo, ${o.mcN} draws of X ~ U[0, 1]^${d} (seed ${o.seed})`);
}

/** A plain-text report of Fisher diagnostics. */
export function formatFisherTable(diag: FisherDiagnostics, title: string): string {
  const lines = [title, `E_X by ${diag.rule}`, `eigenvalues of the per-sample Fisher information: ${diag.eigenvalues.map((v) => v.toExponential(3)).join('  ')}`];
  lines.push(`rank ${diag.rank} of ${diag.names.length}; condition number ${diag.condition.toExponential(3)}`);
  lines.push(`${'parameter'.padEnd(12)}  ${'value'.padStart(10)}  ${'se·√n'.padStart(11)}  ${'se at 1e4'.padStart(11)}  ${'se at 1e5'.padStart(11)}  ${`n for se<${diag.seTol}`.padStart(14)}`);
  diag.names.forEach((name, j) => {
    const s = diag.seSqrtN[j]!;
    lines.push(
      `${name.padEnd(12)}  ${diag.theta[j]!.toPrecision(5).padStart(10)}  ${s.toExponential(3).padStart(11)}  ${(s / 100).toExponential(3).padStart(11)}  ${(s / Math.sqrt(1e5)).toExponential(3).padStart(11)}  ${diag.nForSe[j]!.toExponential(3).padStart(14)}`,
    );
  });
  return lines.join('\n');
}

/** Run `simulate fisher` with validated options. */
export function runFisherSimulation(o: FisherSimOptions, log: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): FisherSimResult {
  const gate = parseGateTransform(o.gate);
  let params: MlogitMoeParams;
  let title: string;
  if (o.params) {
    params = mlogitParamsFromAtoms(readAtomsFile(o.params), gate);
    title = `Fisher information at the parameters of ${o.params} (k = ${params.k}, gate ${gateTransformName(gate)})`;
  } else {
    const truth = regimeTruth(o.regime as 1 | 2, gate);
    params = o.k === truth.k ? truth : overSpecifiedTruth(truth, o.k, o.splitAtom - 1);
    title = `Fisher information at the Regime ${o.regime} truth written with k = ${o.k} atoms${o.k > truth.k ? ` (true atom ${o.splitAtom} split)` : ''}, gate ${gateTransformName(gate)}`;
  }
  const diagnostics = mlogitFisherDiagnostics(params, { rule: covariateRule(o, params.d), seTol: o.seTol });
  const table = formatFisherTable(diagnostics, title);
  log(table);
  const res: FisherSimResult = { config: { ...o, gate: gateTransformName(gate) }, atoms: mlogitAtoms(params), diagnostics };
  if (o.out) {
    const owned = OwnedOutputDir.openReusable(o.out, 'simulate');
    try {
      // Infinity (a non-identified parameter) is written as null by JSON
      writeFileAtomic(join(o.out, 'result.json'), `${JSON.stringify(res, null, 2)}\n`);
      writeFileAtomic(join(o.out, 'table.txt'), `${table}\n`);
    } finally {
      owned.close();
    }
  }
  return res;
}

/** Add `fisher` to the `simulate` command. */
export function registerFisherCommand(sim: Command): void {
  sim
    .command('fisher')
    .description('identifiability diagnostics: per-sample Fisher information, its eigenvalues and the asymptotic standard errors at the seed-002 truth or at given atoms')
    .option('--regime <1|2>', '1: Table 2 truth; 2: Table 3 truth', '1')
    .option('--k <count>', 'number of atoms the truth is written with (k > 2: a true atom split into equal-mass copies)', '2')
    .option('--gate <name>', 'standard | sigmoid | tanh | cos | sin | log-abs | l2-normalize | pow<m>', 'standard')
    .option('--split-atom <1|2>', 'which true atom is split when --k > 2', '1')
    .option('--params <file>', 'evaluate at these atoms instead (JSON: array of { beta0, beta1, a, b }, { atoms }, or a study unit with { fit })')
    .option('--quadrature <kind>', 'gauss-legendre (X ~ U[0,1]^d, tensor rule) | monte-carlo', 'gauss-legendre')
    .option('--nodes <m>', 'Gauss–Legendre nodes per axis', '64')
    .option('--mc-n <count>', 'Monte-Carlo draws of X', '1e6')
    .option('--seed <int>', 'seed of the Monte-Carlo draws', '1')
    .option('--se-tol <tau>', 'report the n at which each standard error falls below this', '0.1')
    .option('--out <dir>', 'write result.json and table.txt here')
    .action((opts: Record<string, unknown>) => {
      runFisherSimulation(parseFisherOptions(opts));
    });
}

/**
 * The identifiability view of fitted small MoEs: Fisher diagnostics (fisher.ts) at every fit stored
 * in a study's per-size cache. Per n it prints the median over fits of the number of eigen-directions
 * of the per-sample Fisher information that are resolved at that n (λ > 100/n, i.e. a standard error
 * below 0.1 along the direction) and the medians of the four largest eigenvalues. The smallest
 * eigenvalues of these 10×10 matrices fall below 1e-14·λ_max, where double precision cannot resolve
 * them, so λ_min itself is not printed.
 * Usage: node dist/bench/theory/fitFisher.js <study dir> [<study dir> …]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mlogitFisherDiagnostics } from '../../src/theory/fisher.js';
import { parseGateTransform } from '../../src/theory/gateTransform.js';
import { mlogitParamsFromAtoms } from '../../src/theory/mlogitMoe.js';
import { median } from '../../src/theory/rateStudy.js';
import type { StudyResult } from '../../src/theory/rateStudy.js';
import type { UnitResult } from '../../src/theory/rateUnit.js';

for (const dir of process.argv.slice(2)) {
  const res = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as StudyResult;
  const gate = parseGateTransform((res.config as { gate: string }).gate);
  const cacheDir = join(dir, 'cache');
  if (!existsSync(cacheDir)) {
    process.stdout.write(`${dir}: no cache (rerun the study)\n`);
    continue;
  }
  process.stdout.write(`${dir} (gate ${(res.config as { gate: string }).gate})\n${'n'.padStart(8)}  ${'fits'.padStart(4)}  ${'resolved (λ > 100/n)'.padStart(21)}  median λ₁ … λ₄ (largest first)\n`);
  const files = readdirSync(cacheDir).filter((f) => f.endsWith('.json')).sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]));
  for (const f of files) {
    const { n, units } = JSON.parse(readFileSync(join(cacheDir, f), 'utf8')) as { n: number; units: UnitResult[] };
    const diags = units.filter((u) => u.fit).map((u) => mlogitFisherDiagnostics(mlogitParamsFromAtoms(u.fit!, gate)));
    if (diags.length === 0) continue;
    const p = diags[0]!.eigenvalues.length;
    const resolved = median(diags.map((d) => d.eigenvalues.filter((l) => l > 100 / n).length));
    const top = [1, 2, 3, 4].map((m) => median(diags.map((d) => d.eigenvalues[p - m]!)).toExponential(2));
    process.stdout.write(`${String(n).padStart(8)}  ${String(diags.length).padStart(4)}  ${`${resolved} of ${p}`.padStart(21)}  ${top.join('  ')}\n`);
  }
}

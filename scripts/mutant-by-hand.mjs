#!/usr/bin/env node
/**
 * Re-check mutants of a Stryker report by hand: each mutant with the given status is applied by
 * text to the compiled file (dist), the given test files run (node --test, 60 s limit), and the
 * compiled file is restored. For mutants a run left undecided (errors, timeouts) or to check that
 * tests written after a run kill its survivors. Build first (`npm run build`).
 *
 *   node scripts/mutant-by-hand.mjs reports/mutation/<report>.json src/theory/x.ts dist/src/theory/x.js Survived dist/test/theory/a.test.js …
 *
 * The mutated span is found in the compiled line holding the same statement (TypeScript's `!` and
 * whitespace ignored); a mutant whose statement or span is not unique there is reported as
 * "ambiguous" and not run. Prints one line per mutant: killed / timeout (60 s) / SURVIVED / ambiguous.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const [report, srcFile, distFile, status, ...tests] = process.argv.slice(2);
if (!report || !srcFile || !distFile || !status || !tests.length) {
  console.error('usage: node scripts/mutant-by-hand.mjs <report.json> <src file> <dist file> <status> <test file> …');
  process.exit(2);
}
const r = JSON.parse(readFileSync(report, 'utf8'));
const f = r.files[srcFile];
if (!f) throw new Error(`${report} has no file ${srcFile} (it has ${Object.keys(r.files).join(', ')})`);
const src = f.source.split('\n');
const compiled = readFileSync(distFile, 'utf8');
/** A statement without non-null assertions and with single spaces (how tsc prints it). */
const normal = (s) => s.replace(/!(?=[\s.)\],;*+\-/<>=?:]|$)/g, '').replace(/\s+/g, ' ').trim();

try {
  for (const m of f.mutants.filter((x) => x.status === status)) {
    const { start, end } = m.location;
    const where = `${start.line}:${start.column} ${m.mutatorName} → ${JSON.stringify(m.replacement ?? '').slice(0, 60)}`;
    if (start.line !== end.line) {
      console.log(`${where}: ambiguous (spans lines)`);
      continue;
    }
    const line = src[start.line - 1];
    const original = normal(line.slice(start.column - 1, end.column - 1));
    const statement = normal(line);
    const jsLines = compiled.split('\n');
    const hits = jsLines.map((l, i) => [i, normal(l)]).filter(([, l]) => l.includes(original) && (statement.includes(l) || l.includes(statement)));
    if (hits.length !== 1 || hits[0][1].split(original).length !== 2) {
      console.log(`${where}: ambiguous (${hits.length} compiled lines)`);
      continue;
    }
    const [i, l] = hits[0];
    jsLines[i] = l.replace(original, normal(m.replacement ?? ''));
    writeFileSync(distFile, jsLines.join('\n'));
    const run = spawnSync(process.execPath, ['--test', ...tests], { encoding: 'utf8', timeout: 60_000 });
    writeFileSync(distFile, compiled);
    const failing = /# fail (\d+)/.exec(run.stdout ?? '')?.[1];
    console.log(`${where}: ${run.error ? 'timeout (60 s)' : failing && failing !== '0' ? `killed (${failing} failing)` : 'SURVIVED'}`);
  }
} finally {
  writeFileSync(distFile, compiled);
}

/**
 * Markdown table of the issue-12 protocol studies: for each `<outRoot>/p-<setting>-<protocol>/result.json`
 * the slope of the mean and of the median D₂, the slope of the mean E_X TV, the D₂ at the ends of the
 * grid and (bounded MLE) the fits ending on the bound. Usage: node dist/bench/theory/protocolTable.js [outRoot]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StudyResult } from '../../src/theory/rateStudy.js';

const root = process.argv[2] ?? 'bench/theory/out';
const fmt = (f: { slope: number; slopeStderr: number }): string => `${f.slope.toFixed(2)} ± ${f.slopeStderr.toFixed(2)}`;
const sig = (v: number): string => (v >= 100 ? v.toExponential(1) : v.toPrecision(2));
const rows = ['| study | sizes × reps (n) | slope of mean D₂ | slope of median D₂ | slope of mean TV | mean / median D₂ at smallest n | at largest n | on bound | wall |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
for (const dir of readdirSync(root).filter((d) => d.startsWith('p-')).sort()) {
  const file = join(root, dir, 'result.json');
  if (!existsSync(file)) continue;
  const r = JSON.parse(readFileSync(file, 'utf8')) as StudyResult;
  const first = r.perSize[0]!;
  const last = r.perSize[r.perSize.length - 1]!;
  const bound = r.perSize.every((s) => s.onBoundCount !== undefined) ? r.perSize.map((s) => s.onBoundCount).join('/') + ` of ${r.config.reps}` : '—';
  rows.push(
    `| ${dir.slice(2)} | ${r.sizes.length} × ${r.config.reps} (${first.n}…${last.n}) | ${fmt(r.slopes.mean)} | ${fmt(r.slopes.median)} | ${fmt(r.slopes.tvMean)} | ${sig(first.meanLoss)} / ${sig(first.medianLoss)} | ${sig(last.meanLoss)} / ${sig(last.medianLoss)} | ${bound} | ${r.wallSeconds.toFixed(0)} s |`,
  );
}
process.stdout.write(`${rows.join('\n')}\n`);

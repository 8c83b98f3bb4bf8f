#!/usr/bin/env node
/**
 * Score per mutation target, and per file, from reports/mutation/<target>.json (Stryker's
 * mutation-testing-report schema). An argument may also name a partial run's report
 * (<target>--<files>, see stryker.config.mjs).
 */
import { readFileSync, existsSync } from 'node:fs';

const rows = [];
for (const t of process.argv.slice(2)) {
  const path = `reports/mutation/${t}.json`;
  if (!existsSync(path)) {
    rows.push(`| ${t} | not run | | | | |`);
    continue;
  }
  const report = JSON.parse(readFileSync(path, 'utf8'));
  const total = {};
  const files = Object.entries(report.files);
  for (const [name, file] of files) {
    const count = {};
    for (const m of file.mutants) {
      count[m.status] = (count[m.status] ?? 0) + 1;
      total[m.status] = (total[m.status] ?? 0) + 1;
    }
    if (files.length > 1) rows.push(row(`${t}: ${name}`, count));
  }
  rows.push(row(files.length > 1 ? `**${t}** (all files)` : t, total));
}

function row(label, count) {
  const killed = (count.Killed ?? 0) + (count.Timeout ?? 0);
  const survived = count.Survived ?? 0;
  const noCov = count.NoCoverage ?? 0;
  const valid = killed + survived + noCov;
  return `| ${label} | ${valid ? ((100 * killed) / valid).toFixed(1) : '–'} % | ${killed} | ${survived} | ${noCov} | ${(count.CompileError ?? 0) + (count.RuntimeError ?? 0)} |`;
}
console.log('| target | mutation score | killed (incl. timeouts) | survived | no coverage | compile/runtime errors |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);

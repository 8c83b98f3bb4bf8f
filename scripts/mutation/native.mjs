#!/usr/bin/env node
/**
 * Mutation testing at native speed, for files whose tests Stryker's instrumentation slows too much
 * (docs/CONTRIBUTING.md "Mutation testing"). Stryker compiles every mutant into one program and
 * switches between them at run time; in the theory lab's inner loops (EM over thousands of samples)
 * those switches and coverage counters make the tests 40× slower and more, so a run of one file takes
 * hours. This script takes the same mutants from Stryker's own instrumenter, and for each one:
 * applies it to the TypeScript source, transpiles that one file (TypeScript's transpileModule, no
 * type check: as Stryker runs them), and runs the given compiled test files in order, each in its
 * own `node` process whose module hooks (hooks.mjs) serve the mutated file in place of dist's copy.
 * The first failing test kills the mutant (its process is ended there, like Stryker's forceBail);
 * a file that runs past its limit (factor × its unmutated time + slack) is ended with its process
 * group and the mutant counted as a timeout; a mutant all files pass survives. No coverage analysis: a mutant no test executes is reported as surviving.
 *
 *   npm run build
 *   node scripts/mutation/native.mjs --target mlogitEm    (a file and its tests from nativeTargets in stryker.config.mjs)
 *   node scripts/mutation/native.mjs --file src/theory/mlogitEm.ts \
 *     --tests dist/test/theory/mlogitEmInternals.test.js,dist/test/theory/sampler.test.js,dist/test/theory/em.test.js
 *   options: --lines 86-221 (mutants starting on those lines)  --concurrency 2  --factor 3
 *            --slack-ms 10000  --out reports/mutation/<name>.json (default native--<file>[@lines].json)
 *            --recheck <Stryker report.json> --status RuntimeError  (re-run a report's mutants of
 *            that status, or of a comma-separated list of statuses, instead of generating them:
 *            errors from a watchdog, or survivors after new tests)
 *
 * Each finished mutant is appended to <out>.progress.jsonl, so a run that is stopped continues
 * where it was (the progress is discarded when the source file or a test file changed). The report follows
 * Stryker's mutation-testing-report schema: scripts/mutation/table.mjs reads it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import ts from 'typescript';
import { Instrumenter } from '@stryker-mutator/instrumenter';

const { values: opt } = parseArgs({
  options: {
    target: { type: 'string' },
    file: { type: 'string' },
    tests: { type: 'string' },
    lines: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    factor: { type: 'string', default: '3' },
    'slack-ms': { type: 'string', default: '10000' },
    out: { type: 'string' },
    recheck: { type: 'string' },
    status: { type: 'string' },
  },
});
const fail = (msg) => {
  console.error(`mutation/native: ${msg}`);
  process.exit(2);
};
if (opt.target) {
  const { nativeTargets } = await import(pathToFileURL(resolve('stryker.config.mjs')).href);
  const t = nativeTargets[opt.target];
  if (!t) fail(`--target must be one of ${Object.keys(nativeTargets).join(', ')} (nativeTargets in stryker.config.mjs), got ${opt.target}`);
  opt.file ??= t.file;
  opt.tests ??= t.tests.join(',');
}
if (!opt.file || !opt.tests) fail('--file <src/….ts> and --tests <dist/test/….test.js,…> are required (see the header of this script)');
if (opt.recheck && !opt.status) fail('--recheck needs --status (the status of the report\'s mutants to re-run, e.g. RuntimeError)');
const srcFile = opt.file;
const tests = opt.tests.split(',').map((t) => t.trim()).filter(Boolean);
const concurrency = Number(opt.concurrency);
const factor = Number(opt.factor);
const slackMs = Number(opt['slack-ms']);
if (!Number.isInteger(concurrency) || concurrency < 1) fail(`--concurrency must be a whole number ≥ 1, got ${opt.concurrency}`);
if (!(factor > 0) || !(slackMs >= 0)) fail(`--factor must be > 0 and --slack-ms ≥ 0, got ${opt.factor} and ${opt['slack-ms']}`);
const lines = opt.lines ? opt.lines.split('-').map(Number) : undefined;
if (lines && (lines.length !== 2 || !lines.every(Number.isInteger) || lines[0] > lines[1])) fail(`--lines must be a-b with a ≤ b, got ${opt.lines}`);
const distFile = join('dist', srcFile.replace(/\.ts$/, '.js'));
for (const f of [srcFile, distFile, ...tests]) if (!existsSync(f)) fail(`${f} does not exist${f.startsWith('dist') ? ' (run npm run build first)' : ''}`);
if (statSync(distFile).mtimeMs < statSync(srcFile).mtimeMs) fail(`${distFile} is older than ${srcFile}: run npm run build first`);

const source = readFileSync(srcFile, 'utf8');
// progress is kept per source file and test files: a change to either starts the run afresh
const sourceHash = createHash('sha256').update([source, ...tests.map((t) => readFileSync(t, 'utf8'))].join('\0')).digest('hex');
const name = basename(srcFile, '.ts') + (lines ? `@${lines[0]}-${lines[1]}` : '') + (opt.recheck ? `.recheck-${opt.status.replaceAll(',', '+')}` : '');
const out = opt.out ?? `reports/mutation/native--${name}.json`;
const progressFile = `${out}.progress.jsonl`;
mkdirSync(dirname(out), { recursive: true });

/** Mutants as { id, mutatorName, replacement, start, end } with 1-based lines and columns (the report's convention). */
async function mutantsToRun() {
  if (opt.recheck) {
    const report = JSON.parse(readFileSync(opt.recheck, 'utf8'));
    const f = report.files[srcFile];
    if (!f) fail(`${opt.recheck} has no file ${srcFile}`);
    if (f.source !== source) fail(`${srcFile} changed since ${opt.recheck} was written: its mutant locations no longer apply`);
    const statuses = opt.status.split(',');
    return f.mutants.filter((m) => statuses.includes(m.status)).map((m) => ({ id: m.id, mutatorName: m.mutatorName, replacement: m.replacement, start: m.location.start, end: m.location.end }));
  }
  const quiet = () => false;
  const logger = { isTraceEnabled: quiet, isDebugEnabled: quiet, isInfoEnabled: quiet, isWarnEnabled: () => true, isErrorEnabled: () => true, isFatalEnabled: () => true, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, fatal: console.error };
  const result = await new Instrumenter(logger).instrument([{ name: srcFile, content: source, mutate: true }], { plugins: null, excludedMutations: [], ignorers: [] });
  // the instrumenter's locations are 0-based
  const one = (p) => ({ line: p.line + 1, column: p.column + 1 });
  return result.mutants.map((m) => ({ id: m.id, mutatorName: m.mutatorName, replacement: m.replacement, start: one(m.location.start), end: one(m.location.end) }));
}

/** Offset in `text` of a 1-based line and column. */
function offsetOf(lineStarts, p) {
  return lineStarts[p.line - 1] + p.column - 1;
}
const lineStarts = [0];
for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1);

/** The mutated file transpiled to JavaScript, or an error message when it does not parse. */
function transpile(text) {
  const r = ts.transpileModule(text, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, esModuleInterop: true, sourceMap: false },
    fileName: srcFile,
    reportDiagnostics: true,
  });
  const errors = (r.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  return errors.length ? { error: ts.flattenDiagnosticMessageText(errors[0].messageText, ' ') } : { js: r.outputText };
}

const registerHooks = pathToFileURL(resolve(dirname(new URL(import.meta.url).pathname), 'register-hooks.mjs')).href;
const targetUrl = pathToFileURL(resolve(distFile)).href;

/** Runs one test file against a mutated module: { outcome: 'pass' | 'fail' | 'timeout', ms, detail }. */
function runTestFile(testFile, mutatedPath, limitMs) {
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', registerHooks, testFile], {
      env: { ...process.env, MUTANT_TARGET_URL: targetUrl, MUTANT_SOURCE_FILE: mutatedPath },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so a timeout ends everything it started
    });
    const end = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    // node:test prints TAP when its output is not a terminal; the first failing test (at any
    // nesting depth, a TODO aside) decides the file, so the process is ended there (Stryker's
    // forceBail) instead of running the file's slower tests on a broken module
    let output = ''; // the first 200 000 characters, for the message of a file that fails without a `not ok`
    let partial = ''; // stdout's last line while it is incomplete
    let failing;
    child.stdout.on('data', (chunk) => {
      if (output.length < 200_000) output += chunk;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      failing ??= lines.map((l) => /^\s*not ok \d+ - (.*)$/.exec(l)).find((m) => m && !m[0].includes('# TODO'))?.[1];
      if (failing !== undefined) end();
    });
    child.stderr.on('data', (chunk) => {
      if (output.length < 200_000) output += chunk;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      end();
    }, limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      if (failing !== undefined) return done({ outcome: 'fail', ms, detail: `${basename(testFile)}: ${failing}` });
      if (timedOut) return done({ outcome: 'timeout', ms, detail: `${basename(testFile)} ran past ${limitMs} ms` });
      if (code === 0) return done({ outcome: 'pass', ms });
      done({ outcome: 'fail', ms, detail: `${basename(testFile)}: exit ${code}: ${output.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` });
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'fleximodal-mutation-'));
const cleanUp = () => rmSync(work, { recursive: true, force: true });
process.on('exit', cleanUp);
process.on('SIGINT', () => process.exit(130));

try {
  // 1. the unmutated file through the same path (transpile + hooks): every test file must pass,
  //    and its time sets that file's limit
  const plain = transpile(source);
  if (plain.error) fail(`${srcFile} does not transpile: ${plain.error}`);
  const plainPath = join(work, 'unmutated.js');
  writeFileSync(plainPath, plain.js);
  const limits = [];
  for (const t of tests) {
    const r = await runTestFile(t, plainPath, 600_000);
    if (r.outcome !== 'pass') fail(`the unmutated ${srcFile} fails ${t}: ${r.detail}`);
    limits.push(Math.round(factor * r.ms + slackMs));
    console.log(`unmutated: ${t} passes in ${r.ms} ms → limit ${limits.at(-1)} ms`);
  }

  // 2. the mutants, skipping those a stopped run of the same source already finished
  let mutants = await mutantsToRun();
  if (lines) mutants = mutants.filter((m) => m.start.line >= lines[0] && m.start.line <= lines[1]);
  const keyOf = (m) => `${m.mutatorName}|${m.start.line}:${m.start.column}-${m.end.line}:${m.end.column}|${m.replacement}`;
  const done = new Map();
  if (existsSync(progressFile)) {
    for (const l of readFileSync(progressFile, 'utf8').split('\n').filter(Boolean)) {
      const r = JSON.parse(l);
      if (r.sourceHash === sourceHash) done.set(r.key, r);
    }
  }
  const todo = mutants.filter((m) => !done.has(keyOf(m)));
  console.log(`${mutants.length} mutants of ${srcFile}${lines ? ` (lines ${lines[0]}–${lines[1]})` : ''}: ${done.size ? `${mutants.length - todo.length} done by an earlier run, ` : ''}${todo.length} to run, ${concurrency} at a time`);

  const startedAt = Date.now();
  let finished = 0;
  let next = 0;
  async function worker(w) {
    while (next < todo.length) {
      const m = todo[next++];
      const text = source.slice(0, offsetOf(lineStarts, m.start)) + m.replacement + source.slice(offsetOf(lineStarts, m.end));
      const compiled = transpile(text);
      let status;
      let statusReason;
      let ms = 0;
      if (compiled.error) {
        status = 'CompileError';
        statusReason = compiled.error;
      } else {
        const path = join(work, `mutant-${w}.js`);
        writeFileSync(path, compiled.js);
        status = 'Survived';
        for (let i = 0; i < tests.length; i++) {
          const r = await runTestFile(tests[i], path, limits[i]);
          ms += r.ms;
          if (r.outcome === 'fail') [status, statusReason] = ['Killed', r.detail];
          if (r.outcome === 'timeout') [status, statusReason] = ['Timeout', r.detail];
          if (r.outcome !== 'pass') break;
        }
      }
      const record = { key: keyOf(m), sourceHash, id: m.id, status, statusReason, ms };
      done.set(record.key, record);
      appendFileSync(progressFile, `${JSON.stringify(record)}\n`);
      finished += 1;
      const eta = ((Date.now() - startedAt) / finished) * (todo.length - finished);
      const what = `${m.start.line}:${m.start.column} ${m.mutatorName} → ${JSON.stringify(m.replacement).slice(0, 50)}`;
      console.log(`[${finished}/${todo.length}, ~${Math.round(eta / 60000)} min left] ${what}: ${status}${status === 'Killed' ? '' : statusReason ? ` (${statusReason})` : ''}`);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));

  // 3. the report (Stryker's schema) and the counts
  const require = createRequire(import.meta.url);
  const report = {
    schemaVersion: '1.0',
    thresholds: { high: 80, low: 60, break: null },
    framework: {
      name: 'scripts/mutation/native.mjs',
      dependencies: { '@stryker-mutator/instrumenter': require('@stryker-mutator/instrumenter/package.json').version, typescript: ts.version },
    },
    config: { file: srcFile, tests, lines: opt.lines ?? null, concurrency, factor, slackMs, limitsMs: limits, recheck: opt.recheck ?? null, status: opt.status ?? null },
    files: {
      [srcFile]: {
        language: 'typescript',
        source,
        mutants: mutants.map((m) => {
          const r = done.get(keyOf(m));
          return { id: m.id, mutatorName: m.mutatorName, replacement: m.replacement, location: { start: m.start, end: m.end }, status: r.status, statusReason: r.statusReason };
        }),
      },
    },
  };
  writeFileSync(out, JSON.stringify(report));
  const count = {};
  for (const m of report.files[srcFile].mutants) count[m.status] = (count[m.status] ?? 0) + 1;
  const detected = (count.Killed ?? 0) + (count.Timeout ?? 0);
  const valid = detected + (count.Survived ?? 0);
  console.log(`\n${JSON.stringify(count)}: score ${valid ? ((100 * detected) / valid).toFixed(1) : '–'} % (${detected} / ${valid}) in ${Math.round((Date.now() - startedAt) / 1000)} s → ${out}`);
  for (const m of report.files[srcFile].mutants.filter((x) => x.status === 'Survived')) {
    console.log(`  survived ${m.location.start.line}:${m.location.start.column} ${m.mutatorName} → ${JSON.stringify(m.replacement).slice(0, 70)}`);
  }
} finally {
  cleanUp();
}

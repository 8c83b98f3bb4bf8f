#!/usr/bin/env node
/**
 * The closing lines of .ci/run: which optional parts were tested and which skipped (and why),
 * then the test counts as one plain `N passed, N failed, N skipped` line, read from the TAP
 * output of `npm test` (the node test runner's own `# pass` / `# fail` / `# skipped` totals).
 *
 *   node scripts/ci-summary.mjs test-output.log
 *
 * A part counts as tested only when it is present on this machine AND no skipped test names it.
 */
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const log = readFileSync(process.argv[2] ?? '/dev/stdin', 'utf8');
const require = createRequire(import.meta.url);

const ldconfig = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '';
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
const addonBuilt = () => existsSync('native/blas/build/Release') && readdirSync('native/blas/build/Release').some((f) => f.endsWith('.node'));
const resolves = (pkg) => {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

/** name, skip-reason pattern, presence probe (→ reason it is absent, or null). */
const parts = [
  ['BLAS addon', /blas|openblas|addon/i, () => (!addonBuilt() ? 'addon not built' : /openblas|libblis|libmkl/.test(ldconfig) ? null : 'no system BLAS')],
  ['chromium', /chromium|browser/i, () => (existsSync('/usr/bin/chromium') || onPath('chromium') ? null : 'chromium not installed')],
  ['Redis', /redis/i, () => (onPath('redis-server') ? null : 'redis-server not installed')],
  ['XGBoost', /xgboost/i, () => (/libxgboost/.test(ldconfig) ? null : 'libxgboost0 not installed')],
  ['onnxruntime', /onnx/i, () => (resolves('onnxruntime-node') ? null : 'onnxruntime-node not installed')],
  ['real data', /shared data|shared\/data|physionet|mfeat/i, () => (existsSync('../shared/data') ? null : '../shared/data absent')],
];

const skipLines = log.split('\n').filter((l) => /^\s*ok \d+ .*# SKIP/.test(l));
const tested = [];
const skipped = [];
for (const [name, pattern, probe] of parts) {
  const absent = probe();
  const hits = skipLines.filter((l) => pattern.test(l));
  if (absent) skipped.push(`${name} (${absent})`);
  else if (hits.length) skipped.push(`${name} (${hits.length} test${hits.length === 1 ? '' : 's'} skipped: ${hits[0].replace(/^.*# SKIP\s*/, '').slice(0, 80)})`);
  else tested.push(name);
}
console.log(`optional parts: tested ${tested.join(', ') || 'none'}; skipped ${skipped.join('; ') || 'none'}`);

const last = (key) => {
  const all = [...log.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
  return all.length ? Number(all[all.length - 1][1]) : null;
};
const pass = last('pass');
const fail = last('fail');
const skip = last('skipped');
if (pass === null || fail === null) {
  console.log('0 passed, 1 failed (no test summary found in the output)');
  process.exit(1);
}
console.log(`${pass} passed, ${fail} failed, ${skip ?? 0} skipped`);

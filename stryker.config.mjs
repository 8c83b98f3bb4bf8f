// Mutation testing of the math (docs/CONTRIBUTING.md "Mutation testing"): not part of CI.
//   bash scripts/mutation.sh [target ...]      (targets: moe theory metrics groupWeighting losses, and mlogitEm below)
// One target per run: STRYKER_TARGET picks the files to mutate and the test files that cover them.
// Stryker instruments the TypeScript once (mutant schemata), builds once, then runs the covering
// test files once per mutant with that mutant switched on.
const targets = {
  moe: { mutate: ['src/moe/**/*.ts', '!src/moe/index.ts'], tests: ['dist/test/moe/', 'dist/test/models/fusemoe.test.js', 'dist/test/models/moeRetriever.test.js'] },
  theory: {
    mutate: ['src/theory/gateTransform.ts', 'src/theory/mlogitMoe.ts', 'src/theory/gaussianMoe.ts', 'src/theory/voronoi.ts', 'src/theory/linalg.ts'],
    tests: ['dist/test/theory/handValues.test.js', 'dist/test/theory/paramsAndGauge.test.js', 'dist/test/theory/voronoi.test.js', 'dist/test/theory/voronoiCells.test.js', 'dist/test/theory/mlogitChecks.test.js', 'dist/test/theory/linalg.test.js', 'dist/test/theory/gaussianMoeChecks.test.js', 'dist/test/theory/gaussianEmInternals.test.js', 'dist/test/theory/gaussianEmFit.test.js', 'dist/test/theory/mlogitEmSteps.test.js', 'dist/test/theory/mlogitEmSquarem.test.js', 'dist/test/theory/mlogitEmInternals.test.js', 'dist/test/theory/sampler.test.js', 'dist/test/theory/gaussianMoe.test.js', 'dist/test/theory/em.test.js'],
  },
  metrics: { mutate: ['src/eval/metrics/**/*.ts'], tests: ['dist/test/eval/metrics.test.js', 'dist/test/eval/metricsChecks.test.js'] },
  groupWeighting: { mutate: ['src/train/groupWeighting.ts'], tests: ['dist/test/train/groupWeighting.test.js'] },
  losses: { mutate: ['src/moe/losses.ts', 'src/train/taskLoss.ts'], tests: ['dist/test/moe/losses.test.js', 'dist/test/train/taskLoss.test.js'] },
};
// Files measured without Stryker's instrumentation by scripts/mutation/native.mjs (same mutants):
// under instrumentation EM's inner loops make these tests 40× slower and more (docs/CONTRIBUTING.md).
//   node scripts/mutation/native.mjs --target mlogitEm   (or bash scripts/mutation.sh mlogitEm)
export const nativeTargets = {
  mlogitEm: { file: 'src/theory/mlogitEm.ts', tests: ['dist/test/theory/mlogitEmSteps.test.js', 'dist/test/theory/mlogitEmSquarem.test.js', 'dist/test/theory/mlogitEmInternals.test.js', 'dist/test/theory/sampler.test.js', 'dist/test/theory/em.test.js'] },
};

const name = process.env.STRYKER_TARGET ?? 'metrics';
const target = targets[name];
if (!target) throw new Error(`STRYKER_TARGET must be one of ${Object.keys(targets).join(', ')}, got ${name}`);
// STRYKER_FILES (comma-separated, each one of the target's files) mutates only those: a partial
// run of a large target, reported as reports/mutation/<target>--<file names>.json. Every run keeps
// an incremental file, so an interrupted run of the same files continues where it stopped.
const only = process.env.STRYKER_FILES?.split(',').map((f) => f.trim()).filter(Boolean);
const report = only?.length ? `${name}--${only.map((f) => f.replace(/^.*\//, '').replace(/\.ts(:|$)/, '$1').replace(':', '@')).join('+')}` : name;

export default {
  mutate: only?.length ? only : target.mutate,
  incremental: true,
  incrementalFile: `reports/mutation/${report}.incremental.json`,
  // the tap runner runs each compiled test file as its own node process (node:test prints TAP) and,
  // with perTest coverage, runs for each mutant only the test files that execute it, stopping at the
  // first failure (forceBail)
  testRunner: 'tap',
  tap: { testFiles: target.tests.map((t) => (t.endsWith('/') ? `${t}**/*.test.js` : t)), forceBail: true },
  plugins: ['@stryker-mutator/tap-runner'],
  buildCommand: 'npm run build --silent',
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  timeoutMS: Number(process.env.STRYKER_TIMEOUT_MS ?? 60000),
  timeoutFactor: Number(process.env.STRYKER_TIMEOUT_FACTOR ?? 2),
  // the first (coverage) run of the theory target takes minutes on a busy 2-core machine
  dryRunTimeoutMinutes: Number(process.env.STRYKER_DRY_RUN_MINUTES ?? 15),
  reporters: ['clear-text', 'json', 'progress'],
  jsonReporter: { fileName: `reports/mutation/${report}.json` },
  tempDirName: `.stryker-tmp-${report}`,
  ignorePatterns: ['runs', 'scratch', 'reports', 'bench/theory/out', '.stryker-tmp-*'],
  cleanTempDir: true,
};

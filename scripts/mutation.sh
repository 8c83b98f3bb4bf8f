#!/usr/bin/env bash
# Mutation testing of the math with StrykerJS, one target after another (default: all), then the
# score per target as a table (from reports/mutation/<target>.json). Slow on 2 cores: not in CI.
#   bash scripts/mutation.sh                  # every target
#   bash scripts/mutation.sh metrics theory   # some
#   STRYKER_FILES=src/theory/voronoi.ts bash scripts/mutation.sh theory   # part of a large target
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(metrics losses groupWeighting theory mlogitEm moe)
for t in "${targets[@]}"; do
  echo "== mutation target: $t"
  if [ "$t" = mlogitEm ]; then
    # measured without Stryker's instrumentation (nativeTargets in stryker.config.mjs)
    npm run build --silent && node scripts/mutation/native.mjs --target "$t" || echo "native mutation run exited with $? for $t"
  else
    STRYKER_TARGET="$t" npx stryker run stryker.config.mjs || echo "stryker exited with $? for $t"
  fi
done
# every report there is (whole targets, partial runs and native runs)
node scripts/mutation/table.mjs $(ls reports/mutation/*.json | grep -v '\.incremental\.json$' | xargs -n1 basename | sed 's/\.json$//')

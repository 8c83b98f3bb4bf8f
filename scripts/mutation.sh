#!/usr/bin/env bash
# Mutation testing of the math with StrykerJS, one target after another (default: all), then the
# score per target as a table (from reports/mutation/<target>.json). Slow on 2 cores: not in CI.
#   bash scripts/mutation.sh                  # every target
#   bash scripts/mutation.sh metrics theory   # some
#   STRYKER_FILES=src/theory/voronoi.ts bash scripts/mutation.sh theory   # part of a large target
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(metrics losses groupWeighting theory moe)
for t in "${targets[@]}"; do
  echo "== mutation target: $t"
  STRYKER_TARGET="$t" npx stryker run stryker.config.mjs || echo "stryker exited with $? for $t"
done
# every report there is (whole targets and partial runs)
node scripts/mutation-table.mjs $(ls reports/mutation/*.json | grep -v '\.incremental\.json$' | xargs -n1 basename | sed 's/\.json$//')

#!/usr/bin/env bash
# Mutation testing of the math with StrykerJS, one target after another (default: all), then the
# score per target as a table (from reports/mutation/<target>.json). Slow on 2 cores: not in CI.
#   bash scripts/mutation.sh                  # every target
#   bash scripts/mutation.sh metrics theory   # some
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(metrics losses groupWeighting theory moe)
for t in "${targets[@]}"; do
  echo "== mutation target: $t"
  STRYKER_TARGET="$t" npx stryker run stryker.config.mjs || echo "stryker exited with $? for $t"
done
node scripts/mutation-table.mjs "${targets[@]}"

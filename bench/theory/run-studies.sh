#!/usr/bin/env bash
# Full seed-002 App. D studies + FuseMoE §4 analogue, sequentially, each with 2 workers.
# Usage: bash bench/theory/run-studies.sh <outRoot>   (resumable: rerun to continue)
set -u
OUT=${1:-bench/theory/out}
CLI="node dist/bench/theory/cli.js simulate"
mkdir -p "$OUT"
run() { local name=$1; shift; echo "== $name: $*" >> "$OUT/log.txt"; /usr/bin/time -f "$name wall %e s" -a -o "$OUT/times.txt" $CLI "$@" --out "$OUT/$name" --quiet >> "$OUT/log.txt" 2>&1; }
run r1-k3-standard mlogit-moe --regime 1 --k 3 --gate standard --n-min 1e4 --n-max 1e5 --sizes 20 --reps 40 --seed 1
run r2-k3-standard mlogit-moe --regime 2 --k 3 --gate standard --n-min 1e4 --n-max 1e5 --sizes 20 --reps 40 --seed 1
run r2-k3-sigmoid mlogit-moe --regime 2 --k 3 --gate sigmoid --n-min 1e4 --n-max 1e5 --sizes 20 --reps 40 --seed 1
run em-trace em-trace --regime 2 --k 3 --n 1e4 --iterations 200 --seed 1

#!/usr/bin/env bash
# Regime 2 with accelerated, tighter EM (reduced): standard vs sigmoid gate. Resumable.
set -u
OUT=${1:-bench/theory/out}
CLI="node dist/bench/theory/cli.js simulate"
mkdir -p "$OUT"
run() { local name=$1; shift; echo "== $name: $*" >> "$OUT/log.txt"; /usr/bin/time -f "$name wall %e s" -a -o "$OUT/times.txt" $CLI "$@" --out "$OUT/$name" --quiet >> "$OUT/log.txt" 2>&1; }
run r2-k3-standard-squarem mlogit-moe --regime 2 --k 3 --gate standard --sizes 3 --reps 6 --seed 1 --tol 1e-8 --accelerate squarem
run r2-k3-sigmoid-squarem mlogit-moe --regime 2 --k 3 --gate sigmoid --sizes 3 --reps 6 --seed 1 --tol 1e-8 --accelerate squarem

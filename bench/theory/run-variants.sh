#!/usr/bin/env bash
# Sensitivity of the Regime-1 slope to the EM stopping rule (reduced studies). Resumable.
set -u
OUT=${1:-bench/theory/out}
CLI="node dist/bench/theory/cli.js simulate"
mkdir -p "$OUT"
run() { local name=$1; shift; echo "== $name: $*" >> "$OUT/log.txt"; /usr/bin/time -f "$name wall %e s" -a -o "$OUT/times.txt" $CLI "$@" --out "$OUT/$name" --quiet >> "$OUT/log.txt" 2>&1; }
run r1-k3-standard-tol1e-7 mlogit-moe --regime 1 --k 3 --gate standard --sizes 10 --reps 20 --seed 1 --tol 1e-7
run r1-k3-standard-squarem mlogit-moe --regime 1 --k 3 --gate standard --sizes 6 --reps 10 --seed 1 --tol 1e-8 --accelerate squarem

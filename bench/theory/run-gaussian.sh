#!/usr/bin/env bash
# FuseMoE §4 analogue: softmax vs Laplace gating in a Gaussian MoE (reduced: 10 sizes × 20 reps).
# Usage: bash bench/theory/run-gaussian.sh <outRoot>   (resumable)
set -u
OUT=${1:-bench/theory/out}
CLI="node dist/bench/theory/cli.js simulate"
mkdir -p "$OUT"
run() { local name=$1; shift; echo "== $name: $*" >> "$OUT/log.txt"; /usr/bin/time -f "$name wall %e s" -a -o "$OUT/times.txt" $CLI "$@" --out "$OUT/$name" --quiet >> "$OUT/log.txt" 2>&1; }
run gauss-k3-softmax gaussian-moe --gate softmax --k 3 --n-min 1e4 --n-max 1e5 --sizes 10 --reps 20 --seed 1
run gauss-k3-laplace gaussian-moe --gate laplace --k 3 --n-min 1e4 --n-max 1e5 --sizes 10 --reps 20 --seed 1
if [ "${FULL:-0}" = "1" ]; then
  run gauss-k3-softmax-full gaussian-moe --gate softmax --k 3 --n-min 1e4 --n-max 1e5 --sizes 20 --reps 40 --seed 1
  run gauss-k3-laplace-full gaussian-moe --gate laplace --k 3 --n-min 1e4 --n-max 1e5 --sizes 20 --reps 40 --seed 1
fi

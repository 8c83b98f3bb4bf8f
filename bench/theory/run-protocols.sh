#!/usr/bin/env bash
# Issue 12: what the seed-002 slopes measure. Fisher spectra at the truths, then the rate study under
# explicit protocols (EM budget, the paper's relative rule, an absolute rule, bounded MLE), one study
# at a time on one core. Every table reports mean and median D2, E_X TV and the slope of each.
# Usage: bash bench/theory/run-protocols.sh <outRoot>   (resumable: rerun to continue)
set -u
OUT=${1:-bench/theory/out}
CLI="nice -n 10 node dist/bench/theory/cli.js simulate"
mkdir -p "$OUT"
run() { local name=$1; shift; echo "== $name: $*" >> "$OUT/log.txt"; /usr/bin/time -f "$name wall %e s" -a -o "$OUT/times.txt" $CLI "$@" --out "$OUT/$name" >> "$OUT/log.txt" 2>&1; }
GRID="--n-min 1e3 --n-max 1e5 --sizes 5 --seed 1 --workers 1 --quiet"
MLE="--bound 10 --max-iter 150 --n-min 1e3 --n-max 3.2e4 --sizes 4 --reps 10 --seed 1 --workers 1 --quiet"
run fisher-r1-k2-standard fisher --regime 1 --k 2 --gate standard
run fisher-r1-k3-standard fisher --regime 1 --k 3 --gate standard
run fisher-r2-k2-standard fisher --regime 2 --k 2 --gate standard
run fisher-r2-k2-sigmoid fisher --regime 2 --k 2 --gate sigmoid
run fisher-r2-k3-standard fisher --regime 2 --k 3 --gate standard
run fisher-r2-k3-sigmoid fisher --regime 2 --k 3 --gate sigmoid
for S in "r1-k3-standard:--regime 1 --k 3 --gate standard" "r2-k3-standard:--regime 2 --k 3 --gate standard" \
         "r2-k3-sigmoid:--regime 2 --k 3 --gate sigmoid" "r1-k4-standard:--regime 1 --k 4 --gate standard"; do
  name=${S%%:*}; args=${S#*:}
  run "p-$name-budget1" mlogit-moe $args --em-budget 1 --reps 20 $GRID
  run "p-$name-paper" mlogit-moe $args --reps 20 $GRID
  [ "$name" = r1-k3-standard ] && run "p-$name-budget10" mlogit-moe $args --em-budget 10 --reps 12 $GRID
  run "p-$name-abs1e-2" mlogit-moe $args --stop absolute --tol 1e-2 --reps 10 $GRID
  run "p-$name-bound10" mlogit-moe $args $MLE
done

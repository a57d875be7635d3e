#!/usr/bin/env bash
# Bench: a 100-point sweep (10 ADSL upload rates x 10 flash-crowd sizes of scenarios/tiny.ini,
# one replication each) through `swarmlab sweep`; prints its wall time and peak memory.
# Usage: SWARMLAB=/path/to/swarmlab [JOBS=1] bash tests/bench/sweep100.sh [OUTDIR]
set -eu
: "${SWARMLAB:?set SWARMLAB to the swarmlab binary}"
out=${1:-results/bench-sweep100}
jobs=${JOBS:-1}
ups=$(printf '%dMbit,' 1 2 3 4 5 6 7 8 9 10); ups=${ups%,}
counts=$(printf '%d,' 4 8 12 16 20 24 28 32 36 40); counts=${counts%,}
t0=$(date +%s.%N)
"$SWARMLAB" sweep scenarios/tiny.ini --vary "class.adsl.up=$ups" --vary "arrivals.count=$counts" \
    -j "$jobs" -o "$out" --quiet
t1=$(date +%s.%N)
rows=$(($(wc -l < "$out/sweep.tsv") - 1))
awk -v a="$t0" -v b="$t1" -v r="$rows" -v j="$jobs" 'BEGIN {
    printf "sweep100: 100 points (-j %d), %d rows, %.2f s wall, %.1f ms/point\n", j, r, b - a,
           (b - a) * 10 }'

#!/usr/bin/env bash
# Parameter sweeps: a 2x2 sweep of tiny.ini with 2 replications gives one row per point and
# class with the documented columns, identical files serial and with -j 2, refuses a bad
# --vary value naming it, and plots into non-empty PNG and SVG figures.
# Usage: SWARMLAB=/path/to/swarmlab bash tests/sim/sweep.sh
set -eu
: "${SWARMLAB:?set SWARMLAB to the swarmlab binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
args=(scenarios/tiny.ini --set swarm.file_size=1MiB --set swarm.piece_size=64KiB
      --set arrivals.count=6 --vary 'class.adsl.up=1Mbit,uniform(1Mbit,4Mbit)'
      --vary class.cable.up=5Mbit,10Mbit --replications 2 --seed 5 -q)
"$SWARMLAB" sweep "${args[@]}" -o "$tmp/s1" > "$tmp/s1.log"
"$SWARMLAB" sweep "${args[@]}" -o "$tmp/s2" -j 2 > "$tmp/s2.log"
tsv=$tmp/s1/sweep.tsv
# 4 points x 3 classes (seed, adsl, cable) + the header
rows=$(($(wc -l < "$tsv") - 1))
[ "$rows" = 12 ] && ok "12 rows (4 points x 3 classes)" || bad "$rows rows, expected 12"
want="point class.adsl.up class.cable.up class n"
for m in download_time_s download_time_median_s completed_fraction share_ratio \
         upload_utilisation bytes_up bytes_down; do want="$want ${m}_mean ${m}_ci95"; done
got=$(head -1 "$tsv" | tr '\t' ' ')
[ "$got" = "$want" ] && ok "columns: $got" || bad "columns: '$got', expected '$want'"
awk -F'\t' 'NR > 1 && NF != 19 {bad=1} END {exit bad}' "$tsv" && ok "19 fields on every row" \
    || bad "a row without 19 fields"
grep -q $'^1\t1Mbit\t10Mbit\tadsl\t2\t[0-9]' "$tsv" && ok "point 1: adsl 1Mbit, cable 10Mbit, n=2" \
    || bad "no row for point 1 / adsl"
grep -q $'^3\tuniform(1Mbit,4Mbit)\t10Mbit\tcable\t2\t' "$tsv" \
    && ok "a distribution value with commas kept whole" || bad "no row for point 3 / cable"
for p in 0 1 2 3; do
    for s in 5 6; do
        [ -s "$tmp/s1/points/$p/rep-$s/summary.json" ] || bad "points/$p/rep-$s/summary.json missing"
    done
    [ -s "$tmp/s1/points/$p/scenario.ini" ] || bad "points/$p/scenario.ini missing"
    [ -s "$tmp/s1/points/$p/replications.tsv" ] || bad "points/$p/replications.tsv missing"
done
grep -q 'uniform(1Mbit,4Mbit)' "$tmp/s1/points/2/scenario.ini" \
    && ok "resolved scenario of point 2 has the varied value" || bad "points/2/scenario.ini"
if diff -r -x run.json "$tmp/s1" "$tmp/s2" > "$tmp/diff" && cmp -s "$tsv" "$tmp/s2/sweep.tsv"; then
    ok "-j 2 gives byte-identical files (run.json aside)"
else bad "-j 2 differs from -j 1:"; head -20 "$tmp/diff"; fi
# a bad value is refused before anything runs, naming the --vary and the value
if "$SWARMLAB" sweep scenarios/tiny.ini --vary 'class.adsl.up=1Mbit,3 apples' -q \
        -o "$tmp/bad" > /dev/null 2> "$tmp/bad.log"; then
    bad "a bad --vary value was accepted"
elif grep -q "class.adsl.up.*'3 apples'" "$tmp/bad.log" && [ ! -e "$tmp/bad" ]; then
    ok "bad value refused: $(cat "$tmp/bad.log")"
else bad "bad value message: $(cat "$tmp/bad.log")"; fi
if "$SWARMLAB" sweep scenarios/tiny.ini --vary 'class.adsl.up=uniform(1Mbit,4Mbit' -q \
        -o "$tmp/bad" > /dev/null 2>&1; then bad "unbalanced parentheses accepted"
else ok "unbalanced parentheses refused"; fi
# figures: one per value of the second key
"$SWARMLAB" plot "$tmp/s1" > "$tmp/plot.log"
for f in sweep-0.png sweep-0.svg sweep-1.png sweep-1.svg index.html; do
    [ -s "$tmp/s1/$f" ] && ok "plot: $f" || bad "plot: $f missing or empty"
done
grep -q 'sweep-1.svg' "$tmp/s1/index.html" || bad "index.html does not show sweep-1.svg"
[ $fail -eq 0 ] && echo "sweep.sh: all checks passed"
exit $fail

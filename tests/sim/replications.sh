#!/usr/bin/env bash
# Replications: N seeds of one scenario, serial and with -j 2, give identical per-run files and
# an identical replications.tsv with a 95% CI for every class and metric.
# Usage: SWARMLAB=/path/to/swarmlab bash tests/sim/replications.sh
set -eu
: "${SWARMLAB:?set SWARMLAB to the swarmlab binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
args=(scenarios/tiny.ini --set swarm.file_size=1MiB --set swarm.piece_size=64KiB --replications 3 --seed 11 -q)
"$SWARMLAB" sim "${args[@]}" -o "$tmp/serial" > "$tmp/serial.log"
"$SWARMLAB" sim "${args[@]}" -o "$tmp/par" -j 2 > "$tmp/par.log"
for s in 11 12 13; do
    for f in peers.tsv summary.json; do
        if ! cmp -s "$tmp/serial/rep-$s/$f" "$tmp/par/rep-$s/$f"; then
            echo "FAIL rep-$s/$f differs between serial and -j 2"; fail=1
        fi
    done
done
if cmp -s "$tmp/serial/replications.tsv" "$tmp/par/replications.tsv"; then
    echo "ok   -j 2 gives the same replications.tsv as a serial run"
else echo "FAIL replications.tsv differs"; fail=1; fi
rows=$(grep -c $'^adsl\tdownload_time_s\t3\t' "$tmp/serial/replications.tsv" || true)
[ "$rows" = 1 ] && echo "ok   adsl download time over 3 runs with a CI" || { echo "FAIL no adsl row"; fail=1; }
# the CI brackets the mean
awk -F'\t' '!/^#/ && !($6 <= $4 && $4 <= $7) {bad=1} END {exit bad}' "$tmp/serial/replications.tsv" \
    && echo "ok   every interval contains its mean" || { echo "FAIL an interval misses its mean"; fail=1; }
if "$SWARMLAB" sim scenarios/tiny.ini --replications 0 -q -o "$tmp/x" 2> /dev/null; then
    echo "FAIL --replications 0 accepted"; fail=1
else echo "ok   --replications 0 refused"; fi
[ $fail -eq 0 ] && echo "replications.sh: all checks passed"
exit $fail

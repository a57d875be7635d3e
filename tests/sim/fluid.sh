#!/usr/bin/env bash
# The fluid model beside the simulation: fluid.tsv on the time series' grid for flash, Poisson
# and decaying arrivals (none for a trace), and a directional check of the Qiu-Srikant steady
# state: in scenarios/poisson-fluid.ini the mean download time of leechers that joined after
# a warm-up must be within 20% of the model's T. Usage: SWARMLAB=/path/to/swarmlab bash
# tests/sim/fluid.sh
set -eu
: "${SWARMLAB:?set SWARMLAB to the swarmlab binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
WARMUP=600 # s: joins before this are the swarm filling up
MARGIN=600 # s: joins this close to the end may not finish

# A number from summary.json's "fluid" object ("steady" values are nested one level deeper).
fluid_value() { # FILE KEY
    awk -v k="\"$2\":" '/"fluid": \{/ {f=1} f && $1 == k {gsub(/[,]/, "", $2); print $2; exit}' "$1"
}

# fluid.tsv exists and has exactly the time column of timeseries.tsv
same_grid() { # DIR LABEL
    if [ ! -s "$1/fluid.tsv" ]; then echo "FAIL $2: no fluid.tsv"; fail=1; return; fi
    if cmp -s <(cut -f1 "$1/timeseries.tsv") <(cut -f1 "$1/fluid.tsv"); then
        echo "ok   $2: fluid.tsv on the time series' grid ($(grep -vc '^#' "$1/fluid.tsv") rows)"
    else echo "FAIL $2: fluid.tsv times differ from timeseries.tsv"; fail=1; fi
}

small=(--set swarm.file_size=2MiB --set swarm.piece_size=64KiB --quiet)
"$SWARMLAB" sim scenarios/tiny.ini -o "$tmp/flash" "${small[@]}" > /dev/null
same_grid "$tmp/flash" flash
burst=$(fluid_value "$tmp/flash/summary.json" burst)
regime=$(fluid_value "$tmp/flash/summary.json" regime)
if [ "$burst" = "16.0" ] && [ "$regime" = "null" ]; then
    echo "ok   flash: burst of 16, no steady state"
else echo "FAIL flash: burst '$burst', regime '$regime'"; fail=1; fi
"$SWARMLAB" sim scenarios/churn.ini -o "$tmp/decay" "${small[@]}" --set arrivals.count=24 \
    --set swarm.duration=2h > /dev/null
same_grid "$tmp/decay" decay
tau=$(fluid_value "$tmp/decay/summary.json" tau_s)
if [ "$tau" = "1800.0" ]; then echo "ok   decay: tau 1800 s in the model"
else echo "FAIL decay: tau '$tau'"; fail=1; fi
"$SWARMLAB" sim scenarios/trace.ini -o "$tmp/trace" "${small[@]}" > /dev/null
if [ -e "$tmp/trace/fluid.tsv" ] || grep -q '"fluid"' "$tmp/trace/summary.json"; then
    echo "FAIL trace: a fluid model for a trace"; fail=1
else echo "ok   trace: no fluid model"; fi
"$SWARMLAB" sim scenarios/tiny.ini -o "$tmp/again" "${small[@]}" > /dev/null
cmp -s "$tmp/flash/fluid.tsv" "$tmp/again/fluid.tsv" && echo "ok   same seed, identical fluid.tsv" \
    || { echo "FAIL same seed gives different fluid.tsv"; fail=1; }

# Steady state: simulated mean download time after the warm-up against the model's T.
d="$tmp/poisson"
"$SWARMLAB" sim scenarios/poisson-fluid.ini -o "$d" --quiet > /dev/null
same_grid "$d" poisson
end=$(awk '!/^#/ {t = $1} END {print t}' "$d/timeseries.tsv")
T=$(fluid_value "$d/summary.json" download_time_s)
eta=$(fluid_value "$d/summary.json" eta)
xbar=$(fluid_value "$d/summary.json" leechers)
ybar=$(fluid_value "$d/summary.json" seeds)
# peers.tsv: class $2, join_s $7, complete_s $8, download_s $11
read -r n done_ mean < <(awk -F'\t' -v lo=$WARMUP -v hi="$end" -v m=$MARGIN '
    !/^#/ && $2 == "peer" && $7 >= lo && $7 < hi - m {n++; if ($11 >= 0) {c++; s += $11}}
    END {printf "%d %d %.3f\n", n, c, c ? s / c : 0}' "$d/peers.tsv")
read -r xs ys < <(awk -v lo=$WARMUP '!/^#/ && $1 >= lo {n++; x += $2; y += $3}
    END {printf "%.2f %.2f\n", x / n, y / n}' "$d/timeseries.tsv")
awk -v T="$T" -v eta="$eta" -v x="$xbar" -v y="$ybar" -v s="$mean" -v d="$done_" -v n="$n" \
    -v xs="$xs" -v ys="$ys" 'BEGIN {
    printf "     poisson-fluid: model T = %.2f s (eta %.4f), leechers %.2f, seeds %.2f\n", T, eta, x, y
    printf "     simulated: T = %.2f s (%d/%d leechers), leechers %.2f, seeds %.2f (with the " \
           "initial seed)\n", s, d, n, xs, ys}'
if [ "$n" -lt 200 ] || [ "$done_" -ne "$n" ]; then
    echo "FAIL poisson-fluid: $done_ of $n leechers completed (want >= 200, all)"; fail=1
elif awk -v s="$mean" -v t="$T" 'BEGIN {r = s / t - 1
        printf "     relative difference %+.1f%%\n", 100 * r; exit !(r < 0.2 && r > -0.2)}'; then
    echo "ok   poisson-fluid: simulated mean download time within 20% of the fluid model"
else echo "FAIL poisson-fluid: simulated $mean s vs model $T s"; fail=1; fi

[ $fail -eq 0 ] && echo "fluid.sh: all checks passed"
exit $fail

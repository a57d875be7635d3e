#!/usr/bin/env bash
# Runs every scenario in scenarios/ (scaled down with --set so each takes seconds under
# ASan), checks the result files, and runs tiny.ini twice to check that every output but
# run.json is byte-identical (and large-view.ini with misbehaving classes: twice, and with
# real payload bytes). Usage: SWARMLAB=/path/to/swarmlab bash tests/sim/scenarios.sh
set -eu
: "${SWARMLAB:?set SWARMLAB to the swarmlab binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
small=(--set swarm.file_size=2MiB --set swarm.piece_size=64KiB --set swarm.duration=3h
       --set arrivals.count=24 --quiet)
for sc in scenarios/*.ini; do
    name=$(basename "$sc" .ini)
    extra=()
    case "$name" in
        trace) extra=(--set swarm.file_size=2MiB --set swarm.piece_size=64KiB --quiet) ;;
        # leecher classes that give counts: scale the counts instead of arrivals.count
        freeriders) extra=(--set swarm.file_size=2MiB --set swarm.piece_size=64KiB
                           --set swarm.duration=3h --set class.compliant.count=16
                           --set class.free.count=8 --quiet) ;;
    esac
    args=("${small[@]}")
    [ ${#extra[@]} -gt 0 ] && args=("${extra[@]}")
    if ! "$SWARMLAB" sim "$sc" -o "$tmp/$name" "${args[@]}" > "$tmp/$name.log" 2>&1; then
        echo "FAIL $sc:"; cat "$tmp/$name.log"; fail=1; continue
    fi
    for f in peers.tsv timeseries.tsv completion.tsv matrix.tsv summary.json run.json scenario.ini; do
        [ -s "$tmp/$name/$f" ] || { echo "FAIL $sc: $f missing or empty"; fail=1; }
    done
    grep -q '"events"' "$tmp/$name/summary.json" || { echo "FAIL $sc: summary.json"; fail=1; }
    # the resolved scenario loads again and gives the same resolved scenario
    "$SWARMLAB" sim "$tmp/$name/scenario.ini" -o "$tmp/$name.again" --quiet \
        --set swarm.duration=1s > /dev/null 2>&1 || { echo "FAIL $sc: resolved scenario does not load"; fail=1; }
    echo "ok   $sc ($(grep -c . "$tmp/$name/peers.tsv") lines in peers.tsv)"
done
# determinism: same scenario, same seed, byte-identical outputs (run.json excepted)
"$SWARMLAB" sim scenarios/tiny.ini -o "$tmp/d1" --quiet > /dev/null
"$SWARMLAB" sim scenarios/tiny.ini -o "$tmp/d2" --quiet > /dev/null
for f in peers.tsv timeseries.tsv completion.tsv matrix.tsv summary.json scenario.ini; do
    if cmp -s "$tmp/d1/$f" "$tmp/d2/$f"; then echo "ok   same seed, identical $f"
    else echo "FAIL same seed gives different $f"; fail=1; fi
done
"$SWARMLAB" sim scenarios/tiny.ini -o "$tmp/d3" --seed 2 --quiet > /dev/null
if cmp -s "$tmp/d1/peers.tsv" "$tmp/d3/peers.tsv"; then echo "FAIL another seed, same peers.tsv"; fail=1
else echo "ok   another seed, another run"; fi
# misbehaving classes (every behaviour at once, on large-view.ini): the same seed gives
# identical outputs, real payload bytes the same results as virtual payload, and peers.tsv
# names each peer's behaviours
mis=("${small[@]}" --set class.normal.corrupt=0.2 --set class.normal.corrupt_rate=0.1
     --set class.seed.response_delay=2s --set class.large.lying_have=0.3)
"$SWARMLAB" sim scenarios/large-view.ini -o "$tmp/m1" "${mis[@]}" > /dev/null
"$SWARMLAB" sim scenarios/large-view.ini -o "$tmp/m2" "${mis[@]}" > /dev/null
"$SWARMLAB" sim scenarios/large-view.ini -o "$tmp/m3" --real-bytes "${mis[@]}" > /dev/null
for f in peers.tsv timeseries.tsv completion.tsv summary.json; do
    if cmp -s "$tmp/m1/$f" "$tmp/m2/$f" && cmp -s "$tmp/m1/$f" "$tmp/m3/$f"; then
        echo "ok   misbehaving peers: same seed and real bytes, identical $f"
    else echo "FAIL misbehaving peers: $f differs (same seed or real bytes)"; fail=1; fi
done
for b in large-view,lying-have=0.3 corrupt=0.1 slow-responder=2.000s; do
    if grep -q "	$b	" "$tmp/m1/peers.tsv"; then echo "ok   peers.tsv names behaviour $b"
    else echo "FAIL peers.tsv does not name behaviour $b"; fail=1; fi
done
# an ISP's upload scale and cap reach the peers (peers.tsv: class $2, up_Bps $4), and a seed
# on reference-upload (seed state by upload rate) serves the swarm to the end
"$SWARMLAB" sim scenarios/isp-asymmetric.ini -o "$tmp/cap" "${small[@]}" \
    --set isp.cable.up_scale=0.5 --set isp.fibre.up_cap=5Mbit \
    --set class.seed.choker=reference-upload > /dev/null
caps=$(awk -F'\t' '!/^#/ && $2 != "seed" {print $2 "=" $4}' "$tmp/cap/peers.tsv" | sort -u |
    tr '\n' ' ')
if [ "$caps" = "cable=312500 dsl=125000 fibre=625000 " ]; then
    echo "ok   ISP up_scale / up_cap in peers.tsv: $caps"
else echo "FAIL ISP up_scale / up_cap: capacities '$caps'"; fail=1; fi
# peers.tsv: complete_s $8 (-1: never)
if awk -F'\t' '!/^#/ && $2 != "seed" {n++; if ($8 < 0) bad++} END {exit !(n == 24 && bad == 0)}' \
    "$tmp/cap/peers.tsv"; then echo "ok   reference-upload seed: all 24 leechers completed"
else echo "FAIL reference-upload seed: some leechers did not complete"; fail=1; fi
# a bad scenario is refused with the file, line and key named
printf '[swarm]\nfile_size = 12 apples\n' > "$tmp/bad.ini"
if "$SWARMLAB" sim "$tmp/bad.ini" -o "$tmp/bad" > "$tmp/bad.log" 2>&1; then
    echo "FAIL a bad scenario was accepted"; fail=1
elif grep -q "bad.ini:2:.*file_size" "$tmp/bad.log"; then echo "ok   bad value named: $(cat "$tmp/bad.log")"
else echo "FAIL error does not name file:line and key: $(cat "$tmp/bad.log")"; fail=1; fi
[ $fail -eq 0 ] && echo "scenarios.sh: all checks passed"
exit $fail

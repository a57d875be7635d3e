#!/usr/bin/env bash
# tests/interop/live_results.sh: `swarmlab live --results DIR` writes sim's result schema and
# `swarmlab plot DIR` reports on it: (a) a rate-limited download from a swarmlab seed through
# opentracker: peers.tsv has "self" and one "swarmlab" peer whose bytes match the file,
# timeseries.tsv has rows, summary.json counts our completion; (b) the seed's results, written
# on SIGINT, show the bytes it uploaded; (c) swarmlab plot on both; (d) bad --results/--sample.
# Usage: SWARMLAB=/abs/swarmlab bash live_results.sh
set -eu
plots=$(cd "$(dirname "$0")/../../plots" && pwd)
. "$(dirname "$0")/live_lib.bash"
need live_results.sh opentracker curl python3 gnuplot
live_init live-results
cd "$tmp"

mkdir -p seed && head -c 6291459 /dev/urandom >seed/file.bin  # 6 MiB + 3
size=6291459
"$SWARMLAB" make-torrent seed/file.bin -t "http://127.0.0.1:1/announce" -o a.torrent \
    --piece-size 64KiB >/dev/null
ha=$(info_hash a.torrent)
start_tracker "$ha"
"$SWARMLAB" make-torrent seed/file.bin -t "$announce" -o a.torrent --piece-size 64KiB >/dev/null

# col FILE NAME: the 1-based column of NAME in FILE's '# ' header.
col() { head -1 "$1" | sed 's/^# //' | tr '\t' '\n' | grep -nx "$2" | cut -d: -f1; }

echo "(a) download with --results"
spawn seed.log "$SWARMLAB" live seed a.torrent seed --bind 127.0.0.1 --port "$(free_port)" \
    --results sres
seed_pid=$last_pid
wait_for 20 seeders_at_least "$ha" 1 || bad "seed never registered: $(cat seed.log)"
if timeout 60 "$SWARMLAB" live download a.torrent -o dl --bind 127.0.0.1 --port "$(free_port)" \
    --max-down 2MiB --results res/run1 >dl.log 2>&1; then ok "download exited 0"; else
    bad "download failed: $(cat dl.log)"; fi
cmp -s seed/file.bin dl/file.bin && ok "file identical" || bad "file differs"
for f in peers.tsv timeseries.tsv completion.tsv summary.json run.json; do
    [ -s "res/run1/$f" ] && ok "res/run1/$f written" || bad "no res/run1/$f"
done
ls res/run1/.*.tmp >/dev/null 2>&1 && bad "temporary files left" || ok "no temporary files left"
p=res/run1/peers.tsv
c_class=$(col $p class); c_down=$(col $p bytes_down); c_up=$(col $p bytes_up)
c_dl=$(col $p download_s)
self_down=$(awk -F'\t' -v c="$c_class" -v d="$c_down" '$c == "self" { print $d }' $p)
# a remote peer's bytes_up: what it sent us (its row is from its side, as in sim)
peer_down=$(awk -F'\t' -v c="$c_class" -v d="$c_up" '$c == "swarmlab" { s += $d } END { print s+0 }' $p)
npeer=$(awk -F'\t' -v c="$c_class" '$c == "swarmlab"' $p | wc -l)
[ "$npeer" -ge 1 ] && ok "peers.tsv: $npeer swarmlab peer row(s)" || bad "no swarmlab peer row: $(cat $p)"
[ "${self_down:-0}" -ge "$size" ] && ok "self bytes_down $self_down >= $size" ||
    bad "self bytes_down ${self_down:-none} < $size"
# per-peer counts: sampled, and completed from the close (the whole file came from the seed)
[ "$peer_down" -ge "$size" ] && [ "$peer_down" -le "$self_down" ] &&
    ok "bytes from the swarmlab peer: $peer_down" || bad "bytes from the peer: $peer_down"
dls=$(awk -F'\t' -v c="$c_class" -v d="$c_dl" '$c == "self" { print $d }' $p)
python3 -c "import sys; d=float('$dls'); sys.exit(0 if 1.5 < d < 60 else 1)" &&
    ok "self download_s $dls (2 MiB/s limit, 6 MiB)" || bad "self download_s $dls"
rows=$(grep -vc '^#' res/run1/timeseries.tsv || true)
[ "$rows" -ge 3 ] && ok "timeseries.tsv: $rows rows" || bad "timeseries.tsv: $rows rows"
maxpieces=$(awk -F'\t' '!/^#/ { if ($9 > m) m = $9 } END { print m+0 }' res/run1/timeseries.tsv)
[ "$maxpieces" = 97 ] && ok "timeseries reaches 97/97 pieces" || bad "timeseries max pieces $maxpieces"
python3 - res/run1/summary.json <<'PY' && ok "summary.json: self completed, swarmlab class seed role" || bad "summary.json: $(cat res/run1/summary.json)"
import json, sys
s = json.load(open(sys.argv[1]))
c = s["classes"]
assert s["mode"] == "live"
assert c["self"]["completed"] == 1 and c["self"]["role"] == "leecher"
assert c["swarmlab"]["role"] == "seed" and c["swarmlab"]["peers"] >= 1
assert c["self"]["bytes_down"] >= 6291459
PY

echo "(b) the seed's results on SIGINT"
kill -INT "$seed_pid"
wait_for 10 bash -c "! kill -0 $seed_pid 2>/dev/null" || bad "seed did not exit after SIGINT"
rc=0; wait "$seed_pid" || rc=$?
[ "$rc" = 0 ] && ok "seed exited 0" || bad "seed exit code $rc"
p=sres/peers.tsv
c_class=$(col $p class); c_up=$(col $p bytes_down)
up=$(awk -F'\t' -v c="$c_class" -v d="$c_up" '$c == "swarmlab" { s += $d } END { print s+0 }' $p)
[ "$up" -ge "$size" ] && ok "seed sent $up bytes to the swarmlab peer" ||
    bad "seed's peer rows: $up bytes up: $(cat $p)"
python3 -c "import json; s=json.load(open('sres/summary.json')); assert s['classes']['self']['role'] == 'seed'" &&
    ok "seed's own row has the seed role" || bad "seed summary"

echo "(c) swarmlab plot on live results"
for d in res/run1 sres; do
    if "$SWARMLAB" plot "$d" --plots "$plots" >plot.log 2>&1 && [ -s "$d/index.html" ]; then
        ok "swarmlab plot $d: index.html ($(ls "$d"/*.svg 2>/dev/null | wc -l) figures)"
    else bad "swarmlab plot $d failed: $(cat plot.log)"; fi
done
grep -q "completion.svg" res/run1/index.html && ok "download report has the completion CDF" ||
    bad "no completion CDF in the report"

echo "(d) bad options"
touch notadir
if "$SWARMLAB" live download a.torrent -o dl4 --results notadir --port "$(free_port)" \
    --bind 127.0.0.1 >bad.log 2>&1; then bad "--results on a file accepted"; else
    grep -q "notadir" bad.log && ok "--results on a file refused, naming it" ||
        bad "message: $(cat bad.log)"; fi
rc=0; "$SWARMLAB" live download a.torrent -o dl4 --sample 0 >bad.log 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q -- "--sample 0" bad.log && ok "--sample 0 is a usage error" ||
    bad "--sample 0: rc $rc $(cat bad.log)"

[ "$fails" = 0 ] || { echo "live_results.sh: $fails failure(s)"; exit 1; }
echo "live_results.sh: all passed"

#!/usr/bin/env bash
# tests/bench/live_pair.sh: one seed -> one leecher of a SIZE_MIB (512) MiB file over loopback
# through opentracker, swarmlab->swarmlab and libtorrent->libtorrent (python3-libtorrent),
# RUNS (1) times each. Reports the leecher's MiB/s and CPU seconds per GiB. The leecher's
# time runs from its start (swarmlab: process start, incl. the empty-directory check and the
# first announce; libtorrent: add_torrent) to completion. Usage: SWARMLAB=... live_pair.sh
set -eu
here=$(cd "$(dirname "$0")/../interop" && pwd)
. "$here/live_lib.bash"
SIZE_MIB=${SIZE_MIB:-512}
RUNS=${RUNS:-1}
live_init live-bench
cd "$tmp"
head -c $((SIZE_MIB << 20)) /dev/urandom >data.bin
mkdir -p seed && mv data.bin seed/
"$SWARMLAB" make-torrent seed/data.bin -t http://127.0.0.1:1/announce -o p.torrent \
    --piece-size 1MiB >/dev/null
h=$(info_hash p.torrent)
start_tracker "$h"
"$SWARMLAB" make-torrent seed/data.bin -t "$announce" -o t.torrent --piece-size 1MiB >/dev/null

report() { # report NAME SECONDS CPU
    awk -v n="$1" -v s="$2" -v c="$3" -v m="$SIZE_MIB" \
        'BEGIN { printf "%-26s %8.1f MiB/s  %6.2f leecher CPU-s/GiB  (%.2f s, %.2f CPU-s)\n",
                 n, m / s, c * 1024 / m, s, c }'
}
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

echo "== live-pair: $SIZE_MIB MiB, 1 MiB pieces, one seed -> one leecher on 127.0.0.1"
# plaintext, like the libtorrent pair (lt_peer.py): the figures compare engines, not RC4
spawn sl_seed.log "$SWARMLAB" live seed t.torrent seed --bind 127.0.0.1 --port "$(free_port)" \
    --encryption off
sl_seed=$last_pid
wait_for 60 seeders_at_least "$h" 1 || { echo "swarmlab seed did not register"; exit 1; }
for r in $(seq "$RUNS"); do
    rm -rf dl
    /usr/bin/time -f "%e %U %S" -o time.txt "$SWARMLAB" live download t.torrent -o dl \
        --bind 127.0.0.1 --port "$(free_port)" --encryption off --quiet
    cmp -s seed/data.bin dl/data.bin || { echo "swarmlab copy differs"; exit 1; }
    read -r e u s <time.txt
    report "swarmlab->swarmlab #$r" "$e" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')"
done
stop_pid "$sl_seed"
wait_for 10 seeders_exactly "$h" 0 || true

spawn lt_seed.log /usr/bin/python3 "$here/lt_peer.py" seed t.torrent seed 127.0.0.1 \
    "$(free_port)" 600
lt_seed=$last_pid
wait_for 120 seeders_at_least "$h" 1 || { echo "libtorrent seed did not register"; exit 1; }
for r in $(seq "$RUNS"); do
    rm -rf ltdl && mkdir ltdl
    /usr/bin/python3 "$here/lt_peer.py" download t.torrent ltdl 127.0.0.1 "$(free_port)" 300 \
        >lt_dl.log
    cmp -s seed/data.bin ltdl/data.bin || { echo "libtorrent copy differs"; exit 1; }
    read -r _ _ e _ _ c _ < <(grep finished lt_dl.log | tr ',' ' ')
    report "libtorrent->libtorrent #$r" "$e" "$c"
done
stop_pid "$lt_seed"

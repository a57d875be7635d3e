#!/usr/bin/env bash
# tests/interop/live_mixed.sh: a mixed swarm on loopback through opentracker: one swarmlab
# seed capped at 2 MiB/s, three swarmlab leechers (--seed-after), a libtorrent leecher and an
# aria2 leecher. The leechers must trade pieces among themselves (partial bitfields, haves,
# requests across clients); the seed leaves as soon as the first swarmlab leecher completes,
# and everyone must still complete. Checks the sha256 of every copy.
# Usage: SWARMLAB=/abs/swarmlab bash live_mixed.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
here=$(cd "$(dirname "$0")" && pwd)
need live_mixed.sh opentracker curl sha256sum aria2c
live_init live-mixed
cd "$tmp"

mkdir -p seed
head -c 12582917 /dev/urandom >seed/mixed.bin # 12 MiB + 5
"$SWARMLAB" make-torrent seed/mixed.bin -t http://127.0.0.1:1/announce -o p.torrent \
    --piece-size 128KiB >/dev/null
h=$(info_hash p.torrent)
start_tracker "$h"
"$SWARMLAB" make-torrent seed/mixed.bin -t "$announce" -o t.torrent --piece-size 128KiB >/dev/null

spawn seed.log "$SWARMLAB" live seed t.torrent seed --bind 127.0.0.1 --port "$(free_port)" \
    --max-up 2MiB
seed_pid=$last_pid
wait_for 20 seeders_at_least "$h" 1 || bad "seed never registered: $(cat seed.log)"
for i in 1 2 3; do
    spawn "sl$i.log" "$SWARMLAB" live download t.torrent -o "sl$i" --bind 127.0.0.1 \
        --port "$(free_port)" --seed-after
done
mkdir -p lt aria
spawn lt.log /usr/bin/python3 "$here/lt_peer.py" download t.torrent lt 127.0.0.1 \
    "$(free_port)" 90
lt_pid=$last_pid
spawn aria.log aria2c --enable-dht=false --enable-dht6=false --bt-enable-lpd=false \
    --enable-peer-exchange=false --listen-port="$(free_port)" --interface=127.0.0.1 \
    --disable-ipv6=true --file-allocation=none --follow-torrent=mem --bt-save-metadata=false \
    --auto-save-interval=0 --summary-interval=0 --console-log-level=warn --seed-time=0 \
    --dir aria t.torrent
aria_pid=$last_pid

t0=$(date +%s)
first_done() { grep -l "download complete" sl1.log sl2.log sl3.log >/dev/null 2>&1; }
if wait_for 60 first_done; then
    kill -TERM "$seed_pid"
    wait "$seed_pid" 2>/dev/null || true
    ok "the seed left when $(grep -l "download complete" sl?.log | head -1 | cut -d. -f1) completed"
else
    bad "no swarmlab leecher completed while the seed was there"
fi
all_done() {
    for i in 1 2 3; do grep -q "download complete" "sl$i.log" || return 1; done
    ! kill -0 "$lt_pid" 2>/dev/null && ! kill -0 "$aria_pid" 2>/dev/null
}
echo "  (first leecher done after $(( $(date +%s) - t0 )) s)"
wait_for 60 all_done || bad "not everyone completed after the seed left"
echo "  (all done after $(( $(date +%s) - t0 )) s)"
for i in 1 2 3; do
    cmp -s seed/mixed.bin "sl$i/mixed.bin" && ok "swarmlab leecher $i: identical" ||
        bad "swarmlab leecher $i: differs or incomplete"
done
cmp -s seed/mixed.bin lt/mixed.bin && ok "libtorrent leecher: identical" ||
    bad "libtorrent leecher: $(tail -2 lt.log)"
cmp -s seed/mixed.bin aria/mixed.bin && ok "aria2 leecher: identical" ||
    bad "aria2 leecher: $(tail -2 aria.log)"
up=0
for i in 1 2 3; do
    kill -TERM "${LIVE_PIDS[$((i + 1))]}" 2>/dev/null || true
done
sleep 1
for i in 1 2 3; do
    u=$(sed -n 's/.* \([0-9.]*\) MiB up.*/\1/p' "sl$i.log" | tail -1)
    up=$(awk -v a="$up" -v b="${u:-0}" 'BEGIN { print a + b }')
done
awk -v u="$up" 'BEGIN { exit !(u > 1) }' && ok "swarmlab leechers uploaded $up MiB to others" ||
    bad "swarmlab leechers uploaded only $up MiB"

[ "$fails" = 0 ] && echo "live_mixed.sh: all passed" || echo "live_mixed.sh: $fails failed"
[ "$fails" = 0 ]

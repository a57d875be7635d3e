#!/usr/bin/env bash
# tests/interop/live_transmission.sh: swarmlab live against transmission-daemon 3.00, both
# directions, in a private network namespace (transmission never dials 127.x peers, so lo
# carries 10.77.0.1 for the tracker and transmission and 10.77.0.2 for swarmlab):
# swarmlab downloads from a transmission seed (which unchokes at its 10-s rechoke), then
# transmission downloads from a swarmlab seed; sha256 of every file.
# Usage (root, for the namespace): SWARMLAB=/abs/swarmlab bash live_transmission.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
need live_transmission.sh opentracker curl sha256sum transmission-daemon transmission-remote ip
need_root live_transmission.sh
live_init live-transmission
live_netns 10.77.0.1 10.77.0.2
cd "$tmp"
TR=10.77.0.1
SL=10.77.0.2

make_data seed
"$SWARMLAB" make-torrent seed/payload -t "http://$TR:6969/announce" -o t1.torrent \
    --piece-size 256KiB >/dev/null
"$SWARMLAB" make-torrent seed/payload -t "http://$TR:6969/announce" -o t2.torrent \
    --piece-size 128KiB >/dev/null
h1=$(info_hash t1.torrent)
h2=$(info_hash t2.torrent)
tracker_port=6969
start_tracker "$h1" "$h2"
[ "$announce" = "http://$TR:6969/announce" ] || { echo "unexpected tracker URL"; exit 1; }

echo "(a) transmission seeds, swarmlab downloads"
start_transmission trs_cfg "$tmp/seed" "$TR" 51414
tr_remote -a t1.torrent -w "$tmp/seed" >/dev/null
if wait_for 40 seeders_at_least "$h1" 1; then ok "transmission seed registered"; else
    bad "transmission seed never registered: $(tr_remote -l)"; fi
if timeout 60 "${NS[@]}" "$SWARMLAB" live download t1.torrent -o sl_dl --bind "$SL" \
    --port 7001 >sl_dl.log 2>&1; then ok "swarmlab download exited 0"; else
    bad "swarmlab download failed: $(cat sl_dl.log)"; fi
if same_tree seed/payload sl_dl/payload; then ok "swarmlab's copy identical (sha256 of 4 files)"; else
    bad "swarmlab's copy differs"; fi
kill -TERM "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true

echo "(b) swarmlab seeds, transmission downloads"
spawn sl_seed.log "${NS[@]}" "$SWARMLAB" live seed t2.torrent seed --bind "$SL" --port 7002 -v
if wait_for 20 seeders_at_least "$h2" 1; then ok "swarmlab seed registered"; else
    bad "swarmlab seed never registered: $(cat sl_seed.log)"; fi
start_transmission trd_cfg "$tmp/tr_dl" "$TR" 51415
tr_remote -a t2.torrent -w "$tmp/tr_dl" >/dev/null
if wait_for ${TR_WAIT:-50} test -e "$tmp/trd_cfg/done"; then ok "transmission download finished"; else
    bad "transmission download did not finish: $(tr_remote -l)"
fi
if same_tree seed/payload tr_dl/payload; then
    ok "transmission's copy identical (sha256 of 4 files)"; else bad "transmission's copy differs"
fi

[ "$fails" = 0 ] && echo "live_transmission.sh: all passed" || echo "live_transmission.sh: $fails failed"
[ "$fails" = 0 ]

#!/usr/bin/env bash
# tests/interop/live_magnet.sh: magnet links (BEP 9 ut_metadata) against python3-libtorrent
# through opentracker on loopback, both directions, each side given only a magnet link with
# the tracker (tr=): (a) swarmlab fetches the info dict and the data from a libtorrent seed,
# (b) libtorrent fetches both from a swarmlab seed; sha256 of every file. In (a) the libtorrent
# seed logs the peer ids it saw: swarmlab's metadata phase and download phase use one id.
# Usage: SWARMLAB=/abs/swarmlab bash live_magnet.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
here=$(cd "$(dirname "$0")" && pwd)
need live_magnet.sh opentracker curl sha256sum libtorrent
live_init live-magnet
cd "$tmp"

make_data seed
h=$(probe_hash seed/payload 256KiB)
start_tracker "$h"
"$SWARMLAB" make-torrent seed/payload -t "$announce" -o t.torrent --piece-size 256KiB >/dev/null
tr=$(/usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' \
    "$announce")
magnet="magnet:?xt=urn:btih:$h&dn=payload&tr=$tr"

echo "(a) libtorrent seeds, swarmlab downloads from the magnet link"
LT_PEERS_LOG="$tmp/lt_peers.log" spawn lt_seed.log /usr/bin/python3 "$here/lt_peer.py" seed \
    t.torrent seed 127.0.0.1 "$(free_port)" 120
lt_pid=$last_pid
if wait_for 30 seeders_at_least "$h" 1; then ok "libtorrent seed registered"; else
    bad "libtorrent seed never registered: $(cat lt_seed.log)"; fi
if timeout 60 "$SWARMLAB" live download "$magnet" -o sl_dl --bind 127.0.0.1 \
    --port "$(free_port)" >sl_dl.log 2>&1; then ok "swarmlab magnet download exited 0"; else
    bad "swarmlab magnet download failed: $(cat sl_dl.log)"; fi
if grep -q "metadata fetched" sl_dl.log; then ok "swarmlab: $(grep -o 'metadata fetched.*' sl_dl.log)"
else bad "swarmlab did not report the metadata: $(cat sl_dl.log)"; fi
if same_tree seed sl_dl; then ok "swarmlab's copy identical (sha256 of 4 files)"; else
    bad "swarmlab's copy differs"; fi
kill -TERM "$lt_pid" 2>/dev/null || true
wait "$lt_pid" 2>/dev/null || true
wait_for 10 seeders_exactly "$h" 0 || bad "libtorrent's seed still registered"
# "-SL0100-" in hex: the BEP 20 prefix; both phases connected, so the seed saw >= 2 sessions
ids=$(grep -c '^2d534c303130302d' lt_peers.log 2>/dev/null || true)
distinct=$(grep '^2d534c303130302d' lt_peers.log 2>/dev/null | sort -u | wc -l)
if [ "${ids:-0}" -ge 2 ] && [ "$distinct" = 1 ]; then
    ok "one swarmlab peer id (-SL0100-) over $ids connections: metadata phase and download"
else bad "swarmlab peer ids seen by the seed: $ids connections, $distinct ids"; fi

echo "(b) swarmlab seeds, libtorrent downloads from the magnet link"
spawn sl_seed.log "$SWARMLAB" live seed t.torrent seed --bind 127.0.0.1 --port "$(free_port)"
if wait_for 20 seeders_at_least "$h" 1; then ok "swarmlab seed registered"; else
    bad "swarmlab seed never registered: $(cat sl_seed.log)"; fi
mkdir -p lt_dl
if /usr/bin/python3 "$here/lt_magnet.py" "$magnet" lt_dl 127.0.0.1 "$(free_port)" 60 \
    >lt_dl.log 2>&1; then ok "libtorrent magnet download finished ($(tr '\n' ' ' <lt_dl.log))"; else
    bad "libtorrent magnet download failed: $(cat lt_dl.log)"; fi
if same_tree seed lt_dl; then ok "libtorrent's copy identical (sha256 of 4 files)"; else
    bad "libtorrent's copy differs"; fi

[ "$fails" = 0 ] && echo "live_magnet.sh: all passed" || echo "live_magnet.sh: $fails failed"
[ "$fails" = 0 ]

#!/usr/bin/env bash
# tests/interop/live_libtorrent.sh: swarmlab live against python3-libtorrent 2.0 (plaintext)
# through a real opentracker on loopback, both directions: swarmlab downloads from a
# libtorrent seed, then libtorrent downloads from a swarmlab seed; sha256 of every file.
# Usage: SWARMLAB=/abs/swarmlab bash live_libtorrent.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
here=$(cd "$(dirname "$0")" && pwd)
need live_libtorrent.sh opentracker curl sha256sum libtorrent
live_init live-libtorrent
cd "$tmp"

make_data seed
h=$(probe_hash seed/payload 256KiB)
start_tracker "$h"
"$SWARMLAB" make-torrent seed/payload -t "$announce" -o t.torrent --piece-size 256KiB >/dev/null

echo "(a) libtorrent seeds, swarmlab downloads"
sl_download_from_lt "$h"
kill -TERM "$lt_pid" 2>/dev/null || true
wait "$lt_pid" 2>/dev/null || true
wait_for 10 seeders_exactly "$h" 0 || bad "libtorrent's seed still registered"

echo "(b) swarmlab seeds, libtorrent downloads"
spawn sl_seed.log "$SWARMLAB" live seed t.torrent seed --bind 127.0.0.1 --port "$(free_port)"
if wait_for 20 seeders_at_least "$h" 1; then ok "swarmlab seed registered"; else
    bad "swarmlab seed never registered: $(cat sl_seed.log)"; fi
lt_download_check t.torrent

[ "$fails" = 0 ] && echo "live_libtorrent.sh: all passed" || echo "live_libtorrent.sh: $fails failed"
[ "$fails" = 0 ]

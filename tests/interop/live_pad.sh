#!/usr/bin/env bash
# tests/interop/live_pad.sh: BEP 47 pad files in live mode against python3-libtorrent 2.0,
# through a real opentracker on loopback. libtorrent makes a multi-file v1 torrent with
# ".pad/N" files (lt_mktorrent.py); (a) libtorrent seeds, swarmlab downloads: sha256 of every
# real file, no pad file or .pad directory on disk, and no block wholly inside padding
# requested (swarmlab's payload bytes down and libtorrent's payload bytes up both equal the
# bytes of the other blocks); (b) swarmlab seeds from a directory without pad files,
# libtorrent downloads: sha256 of every file.
# Usage: SWARMLAB=/abs/swarmlab bash live_pad.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
here=$(cd "$(dirname "$0")" && pwd)
need live_pad.sh opentracker curl sha256sum libtorrent
live_init live-pad
cd "$tmp"

make_data seed
tracker_port=$(free_port)
read -r h npad real_bytes pad_blocks < <(/usr/bin/python3 "$here/lt_mktorrent.py" seed/payload \
    262144 "http://$tracker_ip:$tracker_port/announce" t.torrent)
start_tracker "$h"
echo "  torrent: $npad pad files, $pad_blocks blocks wholly in padding, $real_bytes bytes in the rest"
[ "$npad" -ge 3 ] && [ "$pad_blocks" -ge 3 ] || bad "libtorrent made too few pad files ($npad)"
if [ "$("$SWARMLAB" show t.torrent | grep -c '\[pad\]$')" = "$npad" ]; then
    ok "swarmlab show marks the $npad pad files"; else bad "show: $("$SWARMLAB" show t.torrent)"; fi

echo "(a) libtorrent seeds, swarmlab downloads"
sl_download_from_lt "$h"
if [ ! -e sl_dl/payload/.pad ]; then ok "no .pad directory"; else bad "sl_dl/payload/.pad exists"; fi
line=$(grep 'blocks of padding' sl_dl.log || true)
sl_pad=$(echo "$line" | awk '{print $3}')
sl_down=$(echo "$line" | sed -n 's/.*not requested, \([0-9]*\) payload bytes down.*/\1/p')
if [ "$sl_pad" = "$pad_blocks" ] && [ "$sl_down" = "$real_bytes" ]; then
    ok "swarmlab skipped $sl_pad pad blocks and took $sl_down bytes"; else
    bad "swarmlab: '$line' (want $pad_blocks pad blocks, $real_bytes bytes)"; fi
kill -TERM "$lt_pid" 2>/dev/null || true
wait "$lt_pid" 2>/dev/null || true
lt_up=$(awk '$1 == "uploaded" { print $2 }' lt_seed.log)
if [ "$lt_up" = "$real_bytes" ]; then ok "libtorrent sent $lt_up payload bytes: no pad block asked"
else bad "libtorrent sent ${lt_up:-?} payload bytes, want $real_bytes"; fi
wait_for 10 seeders_exactly "$h" 0 || bad "libtorrent's seed still registered"

echo "(b) swarmlab seeds (no pad files on disk), libtorrent downloads"
spawn sl_seed.log "$SWARMLAB" live seed t.torrent seed --bind 127.0.0.1 --port "$(free_port)"
if wait_for 20 seeders_at_least "$h" 1; then ok "swarmlab seed registered"; else
    bad "swarmlab seed never registered: $(cat sl_seed.log)"; fi
lt_download_check t.torrent

[ "$fails" = 0 ] && echo "live_pad.sh: all passed" || echo "live_pad.sh: $fails failed"
[ "$fails" = 0 ]

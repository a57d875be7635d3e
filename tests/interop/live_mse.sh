#!/usr/bin/env bash
# tests/interop/live_mse.sh: swarmlab live with MSE/PE against clients that insist on it,
# through a real opentracker on loopback: swarmlab downloads from a libtorrent seed that forces
# RC4 both ways, libtorrent (forced) downloads from a swarmlab seed, and aria2 with
# --bt-require-crypto downloads from a swarmlab seed in `--encryption require` mode. A
# plaintext connection would be refused, so a finished transfer means MSE worked; sha256 of
# every file. `--encryption prefer-plain` downloads from the forced libtorrent seed and from
# the `require` swarmlab seed: its plaintext dial is dropped, and it must redial with MSE.
# Usage: SWARMLAB=/abs/swarmlab bash live_mse.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
here=$(cd "$(dirname "$0")" && pwd)
need live_mse.sh opentracker curl sha256sum aria2c libtorrent
live_init live-mse
cd "$tmp"

make_data seed
# One torrent per direction (the piece sizes differ, so do the info-hashes): a peer's stale
# tracker entry must not pass for the next seed.
h1=$(probe_hash seed/payload 256KiB)
h2=$(probe_hash seed/payload 128KiB)
h3=$(probe_hash seed/payload 64KiB)
start_tracker "$h1" "$h2" "$h3"
"$SWARMLAB" make-torrent seed/payload -t "$announce" -o t1.torrent --piece-size 256KiB >/dev/null
"$SWARMLAB" make-torrent seed/payload -t "$announce" -o t2.torrent --piece-size 128KiB >/dev/null
"$SWARMLAB" make-torrent seed/payload -t "$announce" -o t3.torrent --piece-size 64KiB >/dev/null

echo "(a) libtorrent seeds (RC4 forced), swarmlab downloads (default: MSE first)"
LT_ENC=forced spawn lt_seed.log /usr/bin/python3 "$here/lt_peer.py" seed t1.torrent seed \
    127.0.0.1 "$(free_port)" 120
lt_pid=$last_pid
if wait_for 30 seeders_at_least "$h1" 1; then ok "libtorrent seed registered"; else
    bad "libtorrent seed never registered: $(cat lt_seed.log)"; fi
if timeout 60 "$SWARMLAB" live download t1.torrent -o sl_dl --bind 127.0.0.1 \
    --port "$(free_port)" >sl_dl.log 2>&1; then ok "swarmlab download exited 0"; else
    bad "swarmlab download failed: $(cat sl_dl.log)"; fi
if same_tree seed sl_dl; then ok "swarmlab's copy identical (sha256 of 4 files)"; else
    bad "swarmlab's copy differs"; fi
# Control: the seed really refuses plaintext (else (a) proves nothing about MSE).
rc=0
timeout 15 "$SWARMLAB" live download t1.torrent -o sl_off --bind 127.0.0.1 \
    --port "$(free_port)" --encryption off >sl_off.log 2>&1 || rc=$?
if [ "$rc" = 124 ]; then ok "swarmlab --encryption off gets nothing from the forced seed"; else
    bad "swarmlab --encryption off: exit $rc, expected a time-out: $(cat sl_off.log)"; fi
if timeout 60 "$SWARMLAB" live download t1.torrent -o sl_pp --bind 127.0.0.1 \
    --port "$(free_port)" --encryption prefer-plain >sl_pp.log 2>&1 && same_tree seed sl_pp; then
    ok "swarmlab --encryption prefer-plain redials with MSE: copy identical"; else
    bad "swarmlab --encryption prefer-plain from the forced seed failed: $(cat sl_pp.log)"; fi
kill -TERM "$lt_pid" 2>/dev/null || true
wait "$lt_pid" 2>/dev/null || true

echo "(b) swarmlab seeds (default), libtorrent downloads (RC4 forced)"
spawn sl_seed.log "$SWARMLAB" live seed t2.torrent seed --bind 127.0.0.1 --port "$(free_port)" -v
sl_pid=$last_pid
if wait_for 20 seeders_at_least "$h2" 1; then ok "swarmlab seed registered"; else
    bad "swarmlab seed never registered: $(cat sl_seed.log)"; fi
mkdir -p lt_dl
if LT_ENC=forced /usr/bin/python3 "$here/lt_peer.py" download t2.torrent lt_dl 127.0.0.1 \
    "$(free_port)" 60 >lt_dl.log 2>&1; then ok "libtorrent download finished"; else
    bad "libtorrent download failed: $(cat lt_dl.log)"; fi
if same_tree seed lt_dl; then ok "libtorrent's copy identical (sha256 of 4 files)"; else
    bad "libtorrent's copy differs"; fi
kill -TERM "$sl_pid" 2>/dev/null || true
wait "$sl_pid" 2>/dev/null || true

echo "(c) swarmlab seeds (--encryption require), aria2 downloads (--bt-require-crypto)"
spawn sl_seed3.log "$SWARMLAB" live seed t3.torrent seed --bind 127.0.0.1 --port "$(free_port)" \
    --encryption require -v
if wait_for 20 seeders_at_least "$h3" 1; then ok "swarmlab seed registered"; else
    bad "swarmlab seed never registered: $(cat sl_seed3.log)"; fi
mkdir -p aria_dl
if timeout 60 aria2c --enable-dht=false --enable-dht6=false --bt-enable-lpd=false \
    --enable-peer-exchange=false --listen-port="$(free_port)" --interface=127.0.0.1 \
    --disable-ipv6=true --file-allocation=none --follow-torrent=mem --bt-save-metadata=false \
    --auto-save-interval=0 --summary-interval=0 --console-log-level=warn --seed-time=0 \
    --bt-require-crypto=true --bt-min-crypto-level=arc4 \
    --dir aria_dl t3.torrent >aria_dl.log 2>&1; then ok "aria2 download exited 0"; else
    bad "aria2 download failed: $(tail -5 aria_dl.log)"; fi
if same_tree seed aria_dl; then ok "aria2's copy identical (sha256 of 4 files)"; else
    bad "aria2's copy differs"; fi
if timeout 60 "$SWARMLAB" live download t3.torrent -o sl_pp3 --bind 127.0.0.1 \
    --port "$(free_port)" --encryption prefer-plain >sl_pp3.log 2>&1 && same_tree seed sl_pp3; then
    ok "swarmlab prefer-plain from the swarmlab require seed: copy identical"; else
    bad "swarmlab prefer-plain from the require seed failed: $(cat sl_pp3.log)"; fi

[ "$fails" = 0 ] && echo "live_mse.sh: all passed" || echo "live_mse.sh: $fails failed"
[ "$fails" = 0 ]

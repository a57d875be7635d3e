#!/usr/bin/env bash
# tests/interop/live_aria2.sh: swarmlab live against aria2c through a real opentracker on
# loopback, both directions: swarmlab downloads from an aria2 seed, then aria2 downloads from
# a swarmlab seed (aria2 dials with MSE first and falls back to plaintext, which swarmlab
# must survive); sha256 of every file. Usage: SWARMLAB=/abs/swarmlab bash live_aria2.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
need live_aria2.sh opentracker curl sha256sum aria2c
live_init live-aria2
cd "$tmp"

make_data seed
# One torrent per direction (piece sizes differ, so do the info-hashes): aria2 does not
# always announce "stopped" on SIGTERM, and its stale entry must not pass for the new seed.
h=$(probe_hash seed/payload 256KiB)
h2=$(probe_hash seed/payload 128KiB)
start_tracker "$h" "$h2"
"$SWARMLAB" make-torrent seed/payload -t "$announce" -o t.torrent --piece-size 256KiB >/dev/null
"$SWARMLAB" make-torrent seed/payload -t "$announce" -o t2.torrent --piece-size 128KiB >/dev/null

# aria2 flags from REFERENCE.md s5: no DHT/LPD/PEX, bound to 127.0.0.1, no control files.
# Only for spawn: exec makes the background subshell aria2c itself, so the PID that spawn
# records (and the cleanup kills) is aria2c's, not a shell's that would leave it running.
aria() {
    exec aria2c --enable-dht=false --enable-dht6=false --bt-enable-lpd=false \
        --enable-peer-exchange=false --listen-port="$(free_port)" --interface=127.0.0.1 \
        --disable-ipv6=true --bt-max-peers=0 --file-allocation=none --follow-torrent=mem \
        --bt-save-metadata=false --auto-save-interval=0 --summary-interval=0 \
        --console-log-level=warn --bt-tracker-connect-timeout=10 "$@"
}

echo "(a) aria2 seeds, swarmlab downloads"
spawn aria_seed.log aria --dir seed --check-integrity=true --seed-ratio=0.0 t.torrent
aria_pid=$last_pid
if wait_for 30 seeders_at_least "$h" 1; then ok "aria2 seed registered"; else
    bad "aria2 seed never registered: $(cat aria_seed.log)"; fi
if timeout 60 "$SWARMLAB" live download t.torrent -o sl_dl --bind 127.0.0.1 \
    --port "$(free_port)" >sl_dl.log 2>&1; then ok "swarmlab download exited 0"; else
    bad "swarmlab download failed: $(cat sl_dl.log)"; fi
if same_tree seed sl_dl; then ok "swarmlab's copy identical (sha256 of 4 files)"; else
    bad "swarmlab's copy differs"; fi
kill -TERM "$aria_pid" 2>/dev/null || true
wait "$aria_pid" 2>/dev/null || true

echo "(b) swarmlab seeds, aria2 downloads"
spawn sl_seed.log "$SWARMLAB" live seed t2.torrent seed --bind 127.0.0.1 --port "$(free_port)" -v
if wait_for 20 seeders_at_least "$h2" 1; then ok "swarmlab seed registered"; else
    bad "swarmlab seed never registered: $(cat sl_seed.log)"; fi
mkdir -p aria_dl
if timeout 60 aria2c --enable-dht=false --enable-dht6=false --bt-enable-lpd=false \
    --enable-peer-exchange=false --listen-port="$(free_port)" --interface=127.0.0.1 \
    --disable-ipv6=true --file-allocation=none --follow-torrent=mem --bt-save-metadata=false \
    --auto-save-interval=0 --summary-interval=0 --console-log-level=warn --seed-time=0 \
    --dir aria_dl t2.torrent >aria_dl.log 2>&1; then ok "aria2 download exited 0"; else
    bad "aria2 download failed: $(tail -5 aria_dl.log)"; fi
if same_tree seed aria_dl; then ok "aria2's copy identical (sha256 of 4 files)"; else
    bad "aria2's copy differs"; fi

[ "$fails" = 0 ] && echo "live_aria2.sh: all passed" || echo "live_aria2.sh: $fails failed"
[ "$fails" = 0 ]

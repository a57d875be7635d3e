#!/usr/bin/env bash
# tests/interop/live_rtorrent.sh: swarmlab live against rtorrent 0.9.8 (libtorrent-rakshasa,
# no BEP 6 Fast extension) through opentracker on loopback, both directions: swarmlab
# downloads from an rtorrent seed, then rtorrent downloads from a swarmlab seed; sha256 of
# every file. Usage: SWARMLAB=/abs/swarmlab bash live_rtorrent.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
need live_rtorrent.sh opentracker curl sha256sum rtorrent
live_init live-rtorrent
cd "$tmp"

make_data seed
"$SWARMLAB" make-torrent seed/payload -t http://127.0.0.1:1/announce -o p1.torrent \
    --piece-size 256KiB >/dev/null
"$SWARMLAB" make-torrent seed/payload -t http://127.0.0.1:1/announce -o p2.torrent \
    --piece-size 128KiB >/dev/null
h1=$(info_hash p1.torrent)
h2=$(info_hash p2.torrent)
start_tracker "$h1" "$h2"
"$SWARMLAB" make-torrent seed/payload -t "$announce" -o t1.torrent --piece-size 256KiB >/dev/null
"$SWARMLAB" make-torrent seed/payload -t "$announce" -o t2.torrent --piece-size 128KiB >/dev/null

# start_rtorrent NAME DIR TORRENT: a daemonised rtorrent (REFERENCE.md s5 rc settings) that
# touches $tmp/NAME.done when the download finishes.
start_rtorrent() {
    local port
    port=$(free_port)
    mkdir -p "$tmp/$1.session" "$2"
    cat >"$tmp/$1.rc" <<RC
system.daemon.set = true
directory.default.set = $2
session.path.set = $tmp/$1.session
network.port_range.set = $port-$port
network.port_random.set = no
network.bind_address.set = 127.0.0.1
network.local_address.set = 127.0.0.1
dht.mode.set = disable
protocol.pex.set = no
trackers.use_udp.set = no
protocol.encryption.set = allow_incoming,prefer_plaintext
method.set_key = event.download.finished, on_done, "execute.nothrow=touch,$tmp/$1.done"
RC
    spawn "$tmp/$1.log" rtorrent -n -o "import=$tmp/$1.rc" "$3"
}

echo "(a) rtorrent seeds, swarmlab downloads"
start_rtorrent rt_seed "$tmp/seed" t1.torrent
rt_pid=$last_pid
if wait_for 30 seeders_at_least "$h1" 1; then ok "rtorrent seed registered"; else
    bad "rtorrent seed never registered: $(cat rt_seed.log)"; fi
if timeout 60 "$SWARMLAB" live download t1.torrent -o sl_dl --bind 127.0.0.1 \
    --port "$(free_port)" -v >sl_dl.log 2>&1; then ok "swarmlab download exited 0"; else
    bad "swarmlab download failed: $(cat sl_dl.log)"; fi
if same_tree seed sl_dl; then ok "swarmlab's copy identical (sha256 of 4 files)"; else
    bad "swarmlab's copy differs"; fi
kill -TERM "$rt_pid" 2>/dev/null || true
wait "$rt_pid" 2>/dev/null || true

echo "(b) swarmlab seeds, rtorrent downloads"
# rtorrent never dials a peer with its own address, so the swarmlab seed uses 127.0.0.2.
spawn sl_seed.log "$SWARMLAB" live seed t2.torrent seed --bind 127.0.0.2 --port "$(free_port)" -v
if wait_for 20 seeders_at_least "$h2" 1; then ok "swarmlab seed registered"; else
    bad "swarmlab seed never registered: $(cat sl_seed.log)"; fi
start_rtorrent rt_dl "$tmp/rt_dl" t2.torrent
if wait_for 60 test -e "$tmp/rt_dl.done"; then ok "rtorrent download finished"; else
    bad "rtorrent download did not finish: $(tail -5 rt_dl.log) $(cat sl_seed.log)"; fi
if same_tree seed rt_dl; then ok "rtorrent's copy identical (sha256 of 4 files)"; else
    bad "rtorrent's copy differs"; fi

[ "$fails" = 0 ] && echo "live_rtorrent.sh: all passed" || echo "live_rtorrent.sh: $fails failed"
[ "$fails" = 0 ]

#!/usr/bin/env bash
# tests/interop/live_lib.bash: shared helpers for the live interop tests (sourced, not run):
# a temporary directory, processes started in the background and stopped by PID at exit,
# free ports, a whitelisted opentracker on 127.0.0.1 (or in a private network namespace), a
# transmission-daemon in that namespace, and waits with time limits.

: "${SWARMLAB:?set SWARMLAB to the swarmlab binary}"
LIVE_PIDS=()
NS=()                  # command prefix running inside a network namespace (live_netns)
tracker_ip=127.0.0.1
live_ns=
fails=0

# need NAME TOOL...: exits 1, naming the script NAME, when a TOOL is not on PATH; the tool
# "libtorrent" stands for python3-libtorrent under /usr/bin/python3 (the one that has it).
need() {
    local name=$1 tool
    shift
    for tool; do
        if [ "$tool" = libtorrent ]; then
            /usr/bin/python3 -c 'import libtorrent' 2>/dev/null ||
                { echo "$name: python3-libtorrent not installed" >&2; exit 1; }
        else
            command -v "$tool" >/dev/null || { echo "$name: $tool not installed" >&2; exit 1; }
        fi
    done
}

ok() { echo "  ok   $*"; }
bad() { echo "  FAIL $*"; fails=$((fails + 1)); }

# live_init NAME: creates $tmp and arranges the clean-up of everything started.
live_init() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/swarmlab-$1.XXXXXX")
    chmod 755 "$tmp"
    trap live_cleanup EXIT
    trap 'exit 130' INT TERM
}

live_cleanup() {
    local pid
    for pid in "${LIVE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${LIVE_PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    LIVE_PIDS=()
    if [ -n "$live_ns" ]; then
        # anything still inside the namespace was started by this test (a client's helper
        # child, say): stop it by PID before the namespace goes
        for pid in $(ip netns pids "$live_ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns del "$live_ns" 2>/dev/null || true
    fi
    if [ -n "${LIVE_KEEP:-}" ]; then echo "kept $tmp"; elif [ -n "${tmp:-}" ]; then rm -rf "$tmp"; fi
}

# live_netns IP...: a private network namespace whose lo also carries the 10.x addresses
# IP... (transmission 3.00 never dials 127.x peers); sets NS and tracker_ip (the first IP).
live_netns() {
    live_ns="swl-$$"
    ip netns add "$live_ns"
    NS=(ip netns exec "$live_ns")
    "${NS[@]}" ip link set lo up
    local a
    for a in "$@"; do "${NS[@]}" ip addr add "$a/8" dev lo; done
    tracker_ip=$1
}

# need_root NAME: exits 0 with "SKIPPED" unless root (a network namespace needs it; make check
# runs as root in CI).
need_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "$1: SKIPPED (a network namespace needs root; make check runs as root in CI)"
        exit 0
    fi
}

# start_transmission NAME DOWNLOAD_DIR IP PEER_PORT: a transmission-daemon 3.00 in the
# namespace, with peers and RPC on IP (REFERENCE.md s5 settings: no DHT/LPD/PEX/uTP/port
# forwarding, prefer plaintext, no ratio or idle limits, errors-only log to $tmp/NAME.log).
# Its completion hook touches $tmp/NAME/done. Sets $daemon_pid and $tr_rpc (IP:PORT for
# tr_remote); exits 1 when the RPC does not answer within 20 s.
start_transmission() {
    local cfg="$tmp/$1" rpc=$((9091 + ${#LIVE_PIDS[@]}))
    mkdir -p "$cfg" "$2"
    printf '#!/bin/sh\ntouch %s/done\n' "$cfg" >"$cfg/done.sh"
    chmod 755 "$cfg/done.sh"
    cat >"$cfg/settings.json" <<JSON
{"bind-address-ipv4": "$3", "peer-port": $4,
 "peer-port-random-on-start": false, "port-forwarding-enabled": false, "dht-enabled": false,
 "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false, "encryption": 0,
 "rpc-bind-address": "$3", "rpc-port": $rpc, "rpc-authentication-required": false,
 "rpc-whitelist-enabled": false, "rpc-host-whitelist-enabled": false,
 "download-dir": "$2", "incomplete-dir-enabled": false, "ratio-limit-enabled": false,
 "idle-seeding-limit-enabled": false, "speed-limit-up-enabled": false,
 "speed-limit-down-enabled": false, "script-torrent-done-enabled": true,
 "script-torrent-done-filename": "$cfg/done.sh", "message-level": 1}
JSON
    spawn "$tmp/$1.log" "${NS[@]}" transmission-daemon -f -g "$cfg"
    daemon_pid=$last_pid
    tr_rpc="$3:$rpc"
    wait_for 20 tr_remote -l >/dev/null 2>&1 ||
        { echo "transmission-daemon did not start: $(cat "$tmp/$1.log")"; exit 1; }
}

# tr_remote ARGS...: transmission-remote against the last start_transmission's daemon.
tr_remote() { "${NS[@]}" transmission-remote "$tr_rpc" "$@"; }

# spawn LOG CMD...: runs CMD in the background with output to LOG; sets $last_pid.
spawn() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    last_pid=$!
    LIVE_PIDS+=("$last_pid")
}

# free_port: prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds; 1 on time-out.
wait_for() {
    local limit=$(( $1 * 5 ))
    shift
    for _ in $(seq "$limit"); do "$@" && return 0; sleep 0.2; done
    return 1
}

# info_hash FILE.torrent: lower-case hex info-hash.
info_hash() { "$SWARMLAB" show "$1" | awk '$1 == "info-hash:" { print tolower($2) }'; }

# probe_hash PATH PIECE_SIZE: the info hash a torrent of PATH will have (the announce URL is
# outside the info dict), for the tracker's whitelist before the tracker's URL is known.
probe_hash() {
    "$SWARMLAB" make-torrent "$1" -t http://127.0.0.1:1/announce -o "probe-$2.torrent" \
        --piece-size "$2" >/dev/null && info_hash "probe-$2.torrent"
}

# start_tracker HASH...: opentracker on $tracker_ip:$tracker_port (in the namespace, if any)
# with HASHes whitelisted.
# Sets $announce. (Debian's build is whitelist-only, chroots to -d as root.)
start_tracker() {
    mkdir -p "$tmp/tracker"
    chmod 755 "$tmp/tracker"
    printf '%s\n' "$@" >"$tmp/tracker/whitelist"
    chmod 644 "$tmp/tracker/whitelist"
    tracker_port=${tracker_port:-$(free_port)}
    spawn "$tmp/tracker.log" "${NS[@]}" opentracker -i "$tracker_ip" -p "$tracker_port" \
        -P "$tracker_port" -d "$tmp/tracker" -w /whitelist
    tracker_pid=$last_pid
    announce="http://$tracker_ip:$tracker_port/announce"
    wait_for 10 "${NS[@]}" curl -s -o /dev/null "http://$tracker_ip:$tracker_port/scrape" ||
        { echo "opentracker did not start: $(cat "$tmp/tracker.log")"; exit 1; }
}

# scrape_field HASH FIELD: complete / incomplete / downloaded from the tracker's scrape.
scrape_field() {
    local esc
    esc=$(echo "$1" | sed 's/../%&/g')
    "${NS[@]}" curl -s "http://$tracker_ip:$tracker_port/scrape?info_hash=$esc" |
        grep -ao "$2i[0-9]*e" | head -1 | tr -dc '0-9'
}

# seeders_at_least HASH N: true when the tracker lists at least N seeders.
seeders_at_least() { [ "$(scrape_field "$1" complete)" -ge "$2" ] 2>/dev/null; }
seeders_exactly() { [ "$(scrape_field "$1" complete)" = "$2" ]; }

# same_tree A B: every regular file under A has an identical sha256 under B and vice versa.
same_tree() {
    local a b
    a=$(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    b=$(cd "$2" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    [ -n "$a" ] && [ "$a" = "$b" ]
}

# lt_download_check TORRENT: libtorrent (lt_peer.py) downloads TORRENT into lt_dl from the
# swarm's seed, and the copy must match ./seed (sha256 of every file).
lt_download_check() {
    mkdir -p lt_dl
    if /usr/bin/python3 "$here/lt_peer.py" download "$1" lt_dl 127.0.0.1 "$(free_port)" 60 \
        >lt_dl.log 2>&1; then ok "libtorrent download finished"; else
        bad "libtorrent download failed: $(cat lt_dl.log)"; fi
    if same_tree seed lt_dl; then ok "libtorrent's copy identical (sha256 of every file)"; else
        bad "libtorrent's copy differs"; fi
}

# sl_download_from_lt HASH: libtorrent (lt_peer.py, its pid in lt_pid; the caller stops it)
# seeds t.torrent from ./seed, swarmlab downloads it into sl_dl (its output in sl_dl.log),
# and the copy must match ./seed (sha256 of every file, and no other file).
sl_download_from_lt() {
    spawn lt_seed.log /usr/bin/python3 "$here/lt_peer.py" seed t.torrent seed 127.0.0.1 \
        "$(free_port)" 120
    lt_pid=$last_pid
    if wait_for 30 seeders_at_least "$1" 1; then ok "libtorrent seed registered"; else
        bad "libtorrent seed never registered: $(cat lt_seed.log)"; fi
    if timeout 60 "$SWARMLAB" live download t.torrent -o sl_dl --bind 127.0.0.1 \
        --port "$(free_port)" >sl_dl.log 2>&1; then ok "swarmlab download exited 0"; else
        bad "swarmlab download failed: $(cat sl_dl.log)"; fi
    if same_tree seed sl_dl; then ok "swarmlab's copy identical (sha256 of every file)"; else
        bad "swarmlab's copy differs: $(cd sl_dl && find . | sort | tr '\n' ' ')"; fi
}

# make_data DIR: a small multi-file tree with nested directories (about 9 MiB).
make_data() {
    mkdir -p "$1/payload/sub/deeper"
    head -c 5000011 /dev/urandom >"$1/payload/big.bin"
    head -c 3145728 /dev/urandom >"$1/payload/sub/exact.bin"
    head -c 1234567 /dev/urandom >"$1/payload/sub/deeper/odd.dat"
    head -c 7 /dev/urandom >"$1/payload/tiny"
}

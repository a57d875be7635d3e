#!/usr/bin/env bash
# tests/interop/live_swarmlab.sh: swarmlab live seed -> swarmlab live download over loopback
# through a real opentracker: (a) a multi-file torrent arrives with identical sha256s and the
# seed's SIGTERM announces "stopped" (the tracker drops it) and exits 0; (b) a rate-limited
# download killed with kill -9 resumes from its verified pieces and completes identically;
# (c) bad command lines and a seed without its data fail with a message naming the value;
# (d) IPv6 on [::1] with a --peer; (e) two SIGINTs exit at once, and the data left resumes;
# (f) the same transfer through opentracker's UDP port (BEP 15), named udp://localhost.
# Usage: SWARMLAB=/abs/swarmlab bash live_swarmlab.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
need live_swarmlab.sh opentracker curl sha256sum
live_init live-swarmlab
cd "$tmp"

make_data seed
mkdir -p seed2 && head -c 25165831 /dev/urandom >seed2/resume.bin  # 24 MiB + 7
port0=$(free_port)
"$SWARMLAB" make-torrent seed/payload -t "http://127.0.0.1:$port0/announce" -o a.torrent \
    --piece-size 64KiB >/dev/null
"$SWARMLAB" make-torrent seed2/resume.bin -t "http://127.0.0.1:$port0/announce" -o b.torrent \
    --piece-size 256KiB >/dev/null
ha=$(info_hash a.torrent)
hb=$(info_hash b.torrent)
start_tracker "$ha" "$hb"
# The torrents name the tracker's port; remake them now that the tracker has one.
"$SWARMLAB" make-torrent seed/payload -t "$announce" -o a.torrent --piece-size 64KiB >/dev/null
"$SWARMLAB" make-torrent seed2/resume.bin -t "$announce" -o b.torrent --piece-size 256KiB >/dev/null
[ "$(info_hash a.torrent)" = "$ha" ] || { echo "info-hash changed with the URL?"; exit 1; }

echo "(a) seed -> leecher, multi-file, sha256 of every file"
spawn seed.log "$SWARMLAB" live seed a.torrent seed --bind 127.0.0.1 --port "$(free_port)"
seed_pid=$last_pid
if wait_for 20 seeders_at_least "$ha" 1; then ok "seed registered with the tracker"; else
    bad "seed never registered: $(cat seed.log)"; fi
if timeout 60 "$SWARMLAB" live download a.torrent -o dl --bind 127.0.0.1 \
    --port "$(free_port)" >dl.log 2>&1; then ok "download exited 0"; else
    bad "download failed: $(cat dl.log)"; fi
if same_tree seed dl; then ok "all 4 files identical (sha256)"; else bad "files differ"; fi
grep -q "download complete" dl.log && ok "completion reported" || bad "no completion message"
kill -TERM "$seed_pid"
rc=0
wait_for 10 bash -c "! kill -0 $seed_pid 2>/dev/null" || bad "seed did not exit after SIGTERM"
wait "$seed_pid" || rc=$?
[ "$rc" = 0 ] && ok "seed exited 0 on SIGTERM" || bad "seed exit code $rc: $(cat seed.log)"
if wait_for 5 seeders_exactly "$ha" 0; then ok "tracker dropped the seed (\"stopped\" announced)"
else bad "tracker still lists $(scrape_field "$ha" complete) seeder(s)"; fi
grep -q "MiB up" seed.log && ok "seed printed its summary" || bad "no seed summary"

echo "(b) kill -9 mid-download, restart, same data"
spawn seed2.log "$SWARMLAB" live seed b.torrent seed2 --bind 127.0.0.1 --port "$(free_port)"
wait_for 20 seeders_at_least "$hb" 1 || bad "second seed never registered"
spawn dl2.log "$SWARMLAB" live download b.torrent -o dl2 --bind 127.0.0.1 --port "$(free_port)" \
    --max-down 4MiB
dl_pid=$last_pid
wait_for 30 test -s dl2/resume.bin || bad "nothing written by the rate-limited download"
sleep 2
if kill -0 "$dl_pid" 2>/dev/null; then
    kill -KILL "$dl_pid"
    wait "$dl_pid" 2>/dev/null || true
    ok "killed the download with SIGKILL mid-way"
else
    bad "the rate-limited download finished before the kill: $(cat dl2.log)"
fi
if timeout 60 "$SWARMLAB" live download b.torrent -o dl2 --bind 127.0.0.1 \
    --port "$(free_port)" >dl3.log 2>&1; then ok "restarted download exited 0"; else
    bad "restarted download failed: $(cat dl3.log)"; fi
resumed=$(sed -n 's/.*resuming, \([0-9]*\) of \([0-9]*\) pieces.*/\1/p' dl3.log)
total=$(sed -n 's/.*resuming, \([0-9]*\) of \([0-9]*\) pieces.*/\2/p' dl3.log)
if [ -n "$resumed" ] && [ "$resumed" -gt 0 ] && [ "$resumed" -lt "$total" ]; then
    ok "resumed with $resumed of $total pieces verified from disk"
else bad "no resume from the killed run: $(cat dl3.log)"; fi
if cmp -s seed2/resume.bin dl2/resume.bin; then ok "resumed copy identical (sha256 $(sha256sum \
    <dl2/resume.bin | cut -c1-16)...)"; else bad "resumed copy differs"; fi
# A second run finds everything and exits without the network.
if "$SWARMLAB" live download b.torrent -o dl2 --port "$(free_port)" --bind 127.0.0.1 2>&1 |
    grep -q "already complete"; then ok "complete data is recognised"; else
    bad "complete data not recognised"; fi

echo "(d) IPv6: seed on [::1], leecher told --peer [::1]:PORT (the tracker is IPv4-only)"
p6=$(free_port)
spawn seed6.log "$SWARMLAB" live seed a.torrent seed --bind ::1 --port "$p6"
wait_for 10 grep -q "seeding on port" seed6.log || bad "IPv6 seed did not start: $(cat seed6.log)"
if timeout 60 "$SWARMLAB" live download a.torrent -o dl6 --bind ::1 --port "$(free_port)" \
    --peer "[::1]:$p6" >dl6.log 2>&1; then ok "IPv6 download exited 0"; else
    bad "IPv6 download failed: $(cat dl6.log)"; fi
if same_tree seed dl6; then ok "IPv6 copy identical (sha256 of 4 files)"; else
    bad "IPv6 copy differs"; fi

echo "(e) two signals: out at once, only verified pieces on disk"
spawn dl7.log "$SWARMLAB" live download b.torrent -o dl7 --bind 127.0.0.1 --port "$(free_port)" \
    --max-down 2MiB
dl_pid=$last_pid
wait_for 30 test -s dl7/resume.bin || bad "nothing written by the rate-limited download"
kill -INT "$dl_pid"
kill -INT "$dl_pid"
if wait_for 3 bash -c "! kill -0 $dl_pid 2>/dev/null"; then ok "exited within 3 s of two SIGINTs"
else bad "still running after two SIGINTs"; fi
rc=0
wait "$dl_pid" || rc=$?
[ "$rc" = 0 ] && ok "exit code 0" || bad "exit code $rc: $(cat dl7.log)"
if timeout 60 "$SWARMLAB" live download b.torrent -o dl7 --bind 127.0.0.1 \
    --port "$(free_port)" >dl8.log 2>&1 && grep -q "resuming, [1-9]" dl8.log &&
    cmp -s seed2/resume.bin dl7/resume.bin; then
    ok "the interrupted copy resumes and completes identically ($(grep -o \
        'resuming, [0-9]* of [0-9]*' dl8.log))"
else bad "interrupted copy: $(cat dl8.log)"; fi

echo "(f) UDP tracker (BEP 15): the same transfer announced over opentracker's UDP port, by name"
# udp://localhost: the name goes through evdns (/etc/hosts), not a blocking getaddrinfo
"$SWARMLAB" make-torrent seed/payload -t "udp://localhost:$tracker_port/announce" \
    -o u.torrent --piece-size 64KiB >/dev/null
hu=$(info_hash u.torrent)
[ "$hu" = "$ha" ] || bad "the announce URL changed the info-hash"
spawn seedu.log "$SWARMLAB" live seed u.torrent seed --bind 127.0.0.1 --port "$(free_port)"
seedu_pid=$last_pid
if wait_for 20 seeders_at_least "$ha" 1; then ok "seed registered over UDP"; else
    bad "seed never registered over UDP: $(cat seedu.log)"; fi
if timeout 60 "$SWARMLAB" live download u.torrent -o dlu --bind 127.0.0.1 \
    --port "$(free_port)" >dlu.log 2>&1; then ok "UDP-tracker download exited 0"; else
    bad "UDP-tracker download failed: $(cat dlu.log)"; fi
if same_tree seed dlu; then ok "copy identical (sha256 of 4 files)"; else bad "copy differs"; fi
kill -TERM "$seedu_pid"
wait "$seedu_pid" || bad "seed exit code $?"
if wait_for 5 seeders_exactly "$ha" 0; then ok "\"stopped\" announced over UDP"; else
    bad "tracker still lists $(scrape_field "$ha" complete) seeder(s)"; fi

echo "(c) errors"
out=$("$SWARMLAB" live download a.torrent -o x --max-up 12parsecs 2>&1) && rc=0 || rc=$?
[ "$rc" = 2 ] && echo "$out" | grep -q "12parsecs" && ok "bad rate: exit 2, names the value" ||
    bad "bad rate: rc=$rc '$out'"
out=$("$SWARMLAB" live download a.torrent -o x --port 70000 2>&1) && rc=0 || rc=$?
[ "$rc" = 2 ] && echo "$out" | grep -q "70000" && ok "bad port: exit 2" || bad "bad port: $rc"
out=$("$SWARMLAB" live download a.torrent -o x --max-peers 0 2>&1) && rc=0 || rc=$?
[ "$rc" = 2 ] && echo "$out" | grep -q "max-peers 0" && ok "bad --max-peers: exit 2" ||
    bad "bad --max-peers: rc=$rc '$out'"
out=$("$SWARMLAB" live download a.torrent -o x --peer ::1:80 2>&1) && rc=0 || rc=$?
[ "$rc" = 2 ] && echo "$out" | grep -q "::1:80" && ok "bad --peer: exit 2, named" ||
    bad "bad --peer: rc=$rc '$out'"
out=$("$SWARMLAB" live download a.torrent -o x --port 70000 2>&1) && rc=0 || rc=$?
[ "$rc" = 2 ] && echo "$out" | grep -q "70000" && ok "bad port: exit 2" || bad "bad port: $rc"
out=$("$SWARMLAB" live download nosuch.torrent -o x 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && echo "$out" | grep -q "nosuch.torrent" && ok "missing torrent: exit 1, named" ||
    bad "missing torrent: rc=$rc '$out'"
mkdir -p empty
out=$("$SWARMLAB" live seed a.torrent empty --port "$(free_port)" 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && echo "$out" | grep -q "empty/payload" && ok "seed without data: exit 1" ||
    bad "seed without data: rc=$rc '$out'"
[ ! -e empty/payload ] && ok "seed created nothing" || bad "seed created files"
"$SWARMLAB" live --help | grep -q "live download" && ok "--help" || bad "--help"
# A torrent whose file names try to escape DIR (built by hand: no tool makes one).
/usr/bin/python3 - "$announce" <<'PY'
import hashlib, sys
def b(x):
    if isinstance(x, int): return b"i%de" % x
    if isinstance(x, str): x = x.encode()
    if isinstance(x, bytes): return b"%d:%s" % (len(x), x)
    if isinstance(x, list): return b"l" + b"".join(b(i) for i in x) + b"e"
    return b"d" + b"".join(b(k) + b(v) for k, v in sorted(x.items())) + b"e"
data = b"x" * 1000
info = {"name": "evil", "piece length": 16384, "pieces": hashlib.sha1(data + data).digest(),
        "files": [{"length": 1000, "path": ["..", "escaped"]}, {"length": 1000, "path": ["ok"]}]}
open("evil.torrent", "wb").write(b({"announce": sys.argv[1], "info": info}))
PY
mkdir -p jail
out=$("$SWARMLAB" live download evil.torrent -o jail --port "$(free_port)" 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && echo "$out" | grep -q "evil.torrent" && ok "../ in a file name: refused, exit 1" ||
    bad "../ in a file name: rc=$rc '$out'"
[ -z "$(ls -A jail)" ] && [ ! -e escaped ] && ok "nothing written inside or outside DIR" ||
    bad "files were created: $(ls -R jail)"

[ "$fails" = 0 ] && echo "live_swarmlab.sh: all passed" || echo "live_swarmlab.sh: $fails failed"
[ "$fails" = 0 ]

#!/usr/bin/env bash
# tests/interop/live_scrape.sh: `swarmlab live scrape` against a real opentracker over HTTP
# (BEP 48) and UDP (BEP 15): (a) no peers: 0/0/0 on both; (b) a registered swarmlab seed and a
# second, partial leecher announced by hand: seeders 1, leechers 1 on both; (c) a dead UDP
# tracker and a URL without "announce" report an error line each while the others still
# answer; (d) only dead trackers: exit 1; bad options: exit 2.
# Usage: SWARMLAB=/abs/swarmlab bash live_scrape.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
need live_scrape.sh opentracker curl python3
live_init live-scrape
cd "$tmp"

mkdir -p seed && head -c 1048579 /dev/urandom >seed/s.bin
"$SWARMLAB" make-torrent seed/s.bin -t "http://127.0.0.1:1/announce" -o a.torrent >/dev/null
ha=$(info_hash a.torrent)
start_tracker "$ha"
udp="udp://127.0.0.1:$tracker_port/announce"
dead_udp="udp://127.0.0.1:$(free_port)"
"$SWARMLAB" make-torrent seed/s.bin -t "$announce" -t "$udp" -o a.torrent >/dev/null

# field OUT URL NAME: the number after NAME on URL's line of OUT.
field() { awk -F'\t' -v u="$2" -v k="$3" '$1 == u { for (i = 2; i <= NF; i++) { split($i, p, " ");
    if (p[1] == k) print p[2] } }' "$1"; }
# expect OUT URL SEEDERS LEECHERS: checks one tracker's line.
expect() {
    local s l
    s=$(field "$1" "$2" seeders); l=$(field "$1" "$2" leechers)
    if [ "$s" = "$3" ] && [ "$l" = "$4" ]; then ok "$2: seeders $s leechers $l"
    else bad "$2: expected seeders $3 leechers $4, got: $(grep -F "$2" "$1" || cat "$1")"; fi
}

echo "(a) an empty swarm"
if "$SWARMLAB" live scrape a.torrent --timeout 5 >a.out 2>a.err; then ok "exit 0"; else
    bad "exit $?: $(cat a.out a.err)"; fi
expect a.out "$announce" 0 0
expect a.out "$udp" 0 0

echo "(b) a seed and a leecher"
spawn seed.log "$SWARMLAB" live seed a.torrent seed --bind 127.0.0.1 --port "$(free_port)"
wait_for 20 seeders_at_least "$ha" 1 || bad "seed never registered: $(cat seed.log)"
esc=$(echo "$ha" | sed 's/../%&/g')
curl -s -o /dev/null "$announce?info_hash=$esc&peer_id=-XX0000-aaaaaaaaaaaa&port=7000&uploaded=0&downloaded=0&left=1000&compact=1&event=started" ||
    bad "hand announce failed"
"$SWARMLAB" live scrape a.torrent --timeout 5 >b.out 2>b.err || bad "exit $?: $(cat b.err)"
expect b.out "$announce" 1 1
expect b.out "$udp" 1 1
for u in "$announce" "$udp"; do
    c=$(field b.out "$u" completed)
    [ -n "$c" ] && [ "$c" -ge 0 ] 2>/dev/null && ok "$u: completed $c" || bad "$u: completed '$c'"
done

echo "(c) dead and unscrapable trackers next to live ones"
"$SWARMLAB" make-torrent seed/s.bin -t "$dead_udp" -t "http://127.0.0.1:$tracker_port/ann" \
    -t "$udp" -o c.torrent >/dev/null
"$SWARMLAB" live scrape c.torrent --timeout 1 >c.out 2>c.err || bad "exit $?: $(cat c.out c.err)"
grep -F "$dead_udp" c.out | grep -q "error:" && ok "dead UDP tracker: $(grep -F "$dead_udp" c.out | cut -f2)" ||
    bad "dead UDP tracker: $(cat c.out)"
grep -F "/ann" c.out | grep -q "error: no scrape URL" && ok "no scrape URL for .../ann" ||
    bad "/ann: $(cat c.out)"
expect c.out "$udp" 1 1

echo "(d) nothing answers; bad options"
"$SWARMLAB" make-torrent seed/s.bin -t "$dead_udp" -o d.torrent >/dev/null
rc=0; "$SWARMLAB" live scrape d.torrent --timeout 1 >d.out 2>&1 || rc=$?
[ "$rc" = 1 ] && ok "only a dead tracker: exit 1" || bad "exit $rc: $(cat d.out)"
rc=0; "$SWARMLAB" live scrape a.torrent --timeout 0 >e.out 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q -- "--timeout 0" e.out && ok "--timeout 0: usage error naming it" ||
    bad "--timeout 0: exit $rc $(cat e.out)"
rc=0; "$SWARMLAB" live scrape >e.out 2>&1 || rc=$?
[ "$rc" = 2 ] && ok "no torrent: usage error" || bad "no torrent: exit $rc"

[ "$fails" = 0 ] || { echo "live_scrape.sh: $fails failure(s)"; exit 1; }
echo "live_scrape.sh: all passed"

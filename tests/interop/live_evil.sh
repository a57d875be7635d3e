#!/usr/bin/env bash
# tests/interop/live_evil.sh: swarmlab live download against hostile peers on loopback (each
# on its own 127.0.0.x address, tests/interop/evil_peer.py) beside one honest swarmlab seed
# capped at 1 MiB/s, found through opentracker: (a) a corrupter answers every request with
# wrong bytes: it must serve blocks, be banned after the SHA-1 failure and never be dialled
# again, and its redial from the same IP (another port) must be refused; (b) peers that send
# a 0x7fffffff length prefix, a bitfield of the wrong length, a piece with an index past the
# end, or an unknown id (ignored) then a malformed 'have' must each be dropped, with the peer
# and the reason named in the -v log. The download must complete with the right sha256.
# Usage: SWARMLAB=/abs/swarmlab bash live_evil.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
here=$(cd "$(dirname "$0")" && pwd)
need live_evil.sh opentracker curl sha256sum
live_init live-evil
cd "$tmp"

mkdir -p seed
head -c 4194311 /dev/urandom >seed/evil.bin # 4 MiB + 7: 65 pieces of 64 KiB
h=$(probe_hash seed/evil.bin 64KiB)
start_tracker "$h"
"$SWARMLAB" make-torrent seed/evil.bin -t "$announce" -o t.torrent --piece-size 64KiB >/dev/null
npieces=$("$SWARMLAB" show t.torrent | awk '$1 == "pieces:" { print $2 }')
[ "$npieces" = 65 ] || { echo "live_evil.sh: expected 65 pieces, show says '$npieces'"; exit 1; }

spawn seed.log "$SWARMLAB" live seed t.torrent seed --bind 127.0.0.1 --port "$(free_port)" \
    --max-up 1MiB
wait_for 20 seeders_at_least "$h" 1 || { echo "seed never registered: $(cat seed.log)"; exit 1; }

dl_port=$(free_port)
modes=(corrupt huge badbitfield badpiece unknown)
peers=()
declare -A ip_of
for i in "${!modes[@]}"; do
    m=${modes[$i]}
    ip=127.0.0.$((i + 2))
    spawn "$m.log" /usr/bin/python3 "$here/evil_peer.py" "$m" "$ip" "$h" "$npieces" "$dl_port"
    wait_for 10 grep -qs '^listening' "$m.log" || { echo "$m peer did not start: $(cat "$m.log")"
        exit 1; }
    peers+=(--peer "$ip:$(awk '/^listening/ { print $2 }' "$m.log")")
    ip_of[$m]=$ip
done

t0=$(date +%s.%N)
if timeout 60 "$SWARMLAB" live download t.torrent -o dl --bind 127.0.0.1 --port "$dl_port" \
    --encryption off -v "${peers[@]}" >dl.log 2>&1; then ok "download exited 0"; else
    bad "download failed: $(cat dl.log)"; fi
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if cmp -s seed/evil.bin dl/evil.bin; then
    ok "copy identical, sha256 $(sha256sum <dl/evil.bin | cut -c1-16)... (${secs} s)"
else bad "copy differs or is missing"; fi
grep -q "download complete" dl.log && ok "completion reported" || bad "no completion message"
if grep -q "ERROR: AddressSanitizer\|runtime error:" dl.log; then bad "sanitizer report in dl.log"
else ok "no sanitizer report"; fi
sleep 1 # the hostile peers log what followed the close

echo "(a) corrupter on ${ip_of[corrupt]}"
served=$(grep -c '^served' corrupt.log || true)
if [ "$served" -gt 0 ]; then ok "it served $served corrupt blocks"; else
    bad "it served no blocks, so nothing was tested: $(cat corrupt.log)"; fi
fails_seen=$(sed -n 's/.*[^0-9]\([0-9][0-9]*\) hash fail.*/\1/p' dl.log | tail -1)
if [ "${fails_seen:-0}" -gt 0 ]; then ok "the download counted $fails_seen hash failure(s)"; else
    bad "no hash failure counted: $(tail -3 dl.log)"; fi
if grep -q "banned ${ip_of[corrupt]}:[0-9]* (sent data that failed SHA-1)" dl.log; then
    ok "banned: $(grep -o "banned ${ip_of[corrupt]}:[0-9]* (.*)" dl.log | head -1)"
else bad "no ban of ${ip_of[corrupt]}: $(grep "${ip_of[corrupt]}" dl.log)"; fi
if grep -q "banned 127.0.0.1:" dl.log; then bad "the honest seed was banned too"; else
    ok "the honest seed (127.0.0.1) was not banned"; fi
if grep -q "closed (banned" dl.log && grep -q "^closed 1 by victim" corrupt.log; then
    ok "its connection was closed (banned)"; else bad "its connection was not closed as banned"; fi
dials=$(grep -c '^accepted' corrupt.log || true)
[ "$dials" = 1 ] && ok "dialled once, never again after the ban" ||
    bad "swarmlab dialled the corrupter $dials times"
if grep -q '^redial refused' corrupt.log; then ok "its redial from ${ip_of[corrupt]} was refused"
else bad "its redial was not refused: $(grep '^redial' corrupt.log)"; fi
grep -q "refused ${ip_of[corrupt]}:[0-9]* (banned)" dl.log && ok "the refusal is logged" ||
    bad "no log line for the refused redial"

echo "(b) malformed messages: each connection dropped, the reason named"
expect_drop() { # expect_drop MODE REASON-IN-LOG
    local ip=${ip_of[$1]}
    if grep -q "^closed 1 by victim" "$1.log" &&
        grep -q "$ip:[0-9]* closed (.*$2" dl.log; then
        ok "$1: $(grep -o "$ip:[0-9]* closed (.*)" dl.log | head -1)"
    else bad "$1: $(tr '\n' ';' <"$1.log") / $(grep "$ip" dl.log | tr '\n' ';')"; fi
}
expect_drop huge "length prefix above every limit"
expect_drop badbitfield "bitfield: length"
expect_drop badpiece "piece: index >= npieces"
expect_drop unknown "have: length != 5"
grep -q '^open 1 after the unknown id' unknown.log && ok "unknown: the unknown id was ignored" ||
    bad "unknown: dropped for the unknown id already: $(cat unknown.log)"

[ "$fails" = 0 ] && echo "live_evil.sh: all passed" || echo "live_evil.sh: $fails failed"
[ "$fails" = 0 ]

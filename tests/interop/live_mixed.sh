#!/usr/bin/env bash
# tests/interop/live_mixed.sh: a mixed swarm in a private network namespace, through
# opentracker: one swarmlab seed capped at 2 MiB/s; leechers: three swarmlab (--seed-after,
# --results), libtorrent, aria2 and transmission-daemon 3.00. Every client has its own 10.x
# address on the namespace's lo (transmission never dials 127.x peers, and it keeps one
# connection per address). The seed leaves as soon as the first leecher completes (one full
# copy is out); the leechers still incomplete then must finish by trading among themselves.
# Checks the sha256 of every copy, that some leechers were incomplete when the seed left,
# that the seed uploaded less than the leechers needed, and (from the swarmlab leechers'
# peers.tsv) the bytes they received from non-seed peers, by client.
# Usage (root, for the namespace): SWARMLAB=/abs/swarmlab bash live_mixed.sh
set -eu
. "$(dirname "$0")/live_lib.bash"
here=$(cd "$(dirname "$0")" && pwd)
need live_mixed.sh opentracker curl sha256sum aria2c transmission-daemon transmission-remote ip \
    libtorrent
need_root live_mixed.sh
live_init live-mixed
TRK=10.78.0.1 SEED=10.78.0.2 LT=10.78.0.6 ARIA=10.78.0.7 TR=10.78.0.8
SL=(10.78.0.3 10.78.0.4 10.78.0.5)
live_netns "$TRK" "$SEED" "${SL[@]}" "$LT" "$ARIA" "$TR"
cd "$tmp"

size=12582917 # 12 MiB + 5, 97 pieces of 128 KiB
mkdir -p seed
head -c "$size" /dev/urandom >seed/mixed.bin
want=$(sha256sum <seed/mixed.bin | cut -d' ' -f1)
tracker_port=6969
start_tracker "$(probe_hash seed/mixed.bin 128KiB)"
"$SWARMLAB" make-torrent seed/mixed.bin -t "$announce" -o t.torrent --piece-size 128KiB >/dev/null
h=$(info_hash t.torrent)

# transmission's daemon starts while the seed registers (its RPC takes a moment to answer)
start_transmission tr_cfg "$tmp/tr" "$TR" 7008
spawn seed.log "${NS[@]}" "$SWARMLAB" live seed t.torrent seed --bind "$SEED" --port 7000 \
    --max-up 2MiB
seed_pid=$last_pid
wait_for 20 seeders_at_least "$h" 1 || { bad "seed never registered: $(cat seed.log)"; exit 1; }
t0=$(date +%s.%N)
since() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
# transmission joins first: it turns interested only at a 10-s rechoke pulse (seen: 'K' flags
# and "Idle" until then), so joining with the others it sat idle until the seed had left and
# then only downloaded. With this head start it trades while the seed is still there.
tr_remote -a t.torrent -w "$tmp/tr" >/dev/null
tr_field() { tr_remote -t 1 -i 2>/dev/null | sed -n "s/^ *$1: *//p"; }
tr_started() { case $(tr_field Downloaded) in "" | None) return 1 ;; esac; }
wait_for 30 tr_started || bad "transmission got nothing from the seed in 30 s"
echo "  (transmission downloading after $(since) s; the other leechers join)"
sl_pids=()
for i in 1 2 3; do
    spawn "sl$i.log" "${NS[@]}" "$SWARMLAB" live download t.torrent -o "sl$i" \
        --bind "${SL[$((i - 1))]}" --port "700$i" --seed-after --results "sl$i.res"
    sl_pids+=("$last_pid")
done
mkdir -p lt aria
spawn lt.log "${NS[@]}" /usr/bin/python3 "$here/lt_peer.py" download t.torrent lt "$LT" 7006 120
# aria2 flags from REFERENCE.md s5 (it dials MSE first, then plaintext; exits at completion).
# It is the slow leecher: capped at 768 KiB/s it needs 16 s or more, while the first leecher
# completes about 10 s after joining, so it has a few MiB left to get from leechers alone.
spawn aria.log "${NS[@]}" aria2c --max-download-limit=768K --enable-dht=false \
    --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false --listen-port=7007 \
    --interface="$ARIA" --disable-ipv6=true \
    --file-allocation=none --follow-torrent=mem --bt-save-metadata=false --auto-save-interval=0 \
    --summary-interval=0 --console-log-level=warn --seed-time=0 --dir aria t.torrent
aria_pid=$last_pid

# done_NAME: true once that leecher has the whole file (by its own account)
done_sl() { grep -q "download complete" "sl$1.log"; }
done_lt() { grep -q "^finished in" lt.log; }
done_aria() { ! kill -0 "$aria_pid" 2>/dev/null; }
done_tr() { [ -e tr_cfg/done ]; }
leechers=(sl1 sl2 sl3 lt aria tr)
is_done() { case $1 in sl*) done_sl "${1#sl}" ;; *) "done_$1" ;; esac; }
first_done() { for l in "${leechers[@]}"; do is_done "$l" && return 0; done; return 1; }

# the seed leaves as soon as one full copy is out: when the first leecher completes
wait_for 60 first_done ||
    { bad "no leecher completed within 60 s while the seed was there"; exit 1; }
pending=() complete=()
for l in "${leechers[@]}"; do
    if is_done "$l"; then complete+=("$l"); else pending+=("$l"); fi
done
tr_pct=$(tr_field "Percent Done")
kill -TERM "$seed_pid"
gone() { ! kill -0 "$1" 2>/dev/null; }
if wait_for 15 gone "$seed_pid"; then
    wait "$seed_pid" 2>/dev/null || true
    t_left=$(since)
    ok "the seed left at $t_left s, when ${complete[*]} had completed"
else
    bad "the seed still runs 15 s after SIGTERM"
fi
# without the seed, these leechers can only finish with pieces from each other
if [ "${#pending[@]}" -ge 1 ]; then
    ok "${#pending[@]} leecher(s) incomplete when the seed left: ${pending[*]}"
else
    bad "every leecher was complete before the seed left: nothing tests trading"
fi
seed_up=$(sed -n 's/.* \([0-9.]*\) MiB up.*/\1/p' seed.log | tail -1)

all_done() { for l in "${leechers[@]}"; do is_done "$l" || return 1; done; }
all=no
if wait_for 60 all_done; then
    all=yes
    ok "every leecher completed, the last $(since) s after the start"
else
    for l in "${leechers[@]}"; do is_done "$l" || bad "$l did not complete without the seed"; done
    echo "  transmission: $(tr_remote -t 1 -i 2>&1 | grep -E 'State|Percent|Peers' |
        tr -s ' ' | tr '\n' ';')"
fi
check_copy() {
    local got
    got=$(sha256sum "$2" 2>/dev/null | cut -d' ' -f1)
    if [ "$got" = "$want" ]; then ok "$1: sha256 ${want:0:16}... identical"; else
        bad "$1: sha256 differs or no file"; fi
}
for i in 1 2 3; do check_copy "swarmlab leecher $i" "sl$i/mixed.bin"; done
check_copy "libtorrent leecher" lt/mixed.bin
check_copy "aria2 leecher" aria/mixed.bin
check_copy "transmission leecher" tr/mixed.bin

# The six complete leechers received at least six copies; the seed sent seed_up MiB of them.
need_mib=$(awk -v s="$size" 'BEGIN { printf "%.1f", 6 * s / 1048576 }')
rest_mib=$(awk -v u="${seed_up:-999}" -v n="$need_mib" 'BEGIN { printf "%.1f", n - u }')
if [ "$all" = no ]; then
    echo "  (not everyone completed: no count of the copies that came from leechers)"
elif awk -v r="$rest_mib" -v s="$size" 'BEGIN { exit !(r >= s / 1048576) }'; then
    ok "the seed uploaded $seed_up of the $need_mib MiB the leechers needed:" \
        "$rest_mib MiB or more came from leechers"
else
    bad "the seed uploaded ${seed_up:-?} of $need_mib MiB: less than one copy came from leechers"
fi
tr_up=$(tr_field Uploaded)

# The swarmlab leechers' own records (peers.tsv, written at SIGTERM): a remote peer's row has
# its address and client class, and its bytes_up is what it sent us.
for pid in "${sl_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${sl_pids[@]}"; do
    if wait_for 15 gone "$pid"; then wait "$pid" 2>/dev/null || true; fi
done
col() { head -1 "$1" | sed 's/^# //' | tr '\t' '\n' | grep -nx "$2" | cut -d: -f1; }
tsvs=(sl1.res/peers.tsv sl2.res/peers.tsv sl3.res/peers.tsv)
if [ -s "${tsvs[0]}" ] && [ -s "${tsvs[1]}" ] && [ -s "${tsvs[2]}" ]; then
    p=${tsvs[0]}
    # one line: MiB received from non-seed peers by class (swarmlab libtorrent aria2
    # transmission), then bytes from non-seed peers, from other clients, and sent to others
    read -r f_sl f_lt f_aria f_tr from_total from_other sent_total < <(awk -F'\t' \
        -v c="$(col "$p" class)" -v u="$(col "$p" bytes_up)" -v d="$(col "$p" bytes_down)" \
        -v a="$(col "$p" address)" -v seed="$SEED:" '!/^#/ && $c != "self" {
            if (index($a, seed) != 1) {
                from[$c] += $u; tot += $u
                if ($c != "swarmlab") other += $u
            }
            sent += $d
        } END {
            printf "%.1f %.1f %.1f %.1f %d %d %d\n", from["swarmlab"] / 1048576,
                from["libtorrent"] / 1048576, from["aria2"] / 1048576,
                from["transmission"] / 1048576, tot, other, sent
        }' "${tsvs[@]}") || true
    by_class="swarmlab $f_sl, libtorrent $f_lt, aria2 $f_aria, transmission $f_tr MiB"
    if [ "$from_total" -ge $((size / 2)) ]; then
        ok "swarmlab leechers received $((from_total / 1048576)) MiB from non-seed peers" \
            "($by_class)"
    else
        bad "swarmlab leechers received only $from_total bytes from non-seed peers ($by_class)"
    fi
    if [ "$from_other" -ge 1048576 ]; then
        ok "of which $((from_other / 1048576)) MiB from the other clients"
    else
        bad "swarmlab leechers received only $from_other bytes from the other clients"
    fi
    if [ "$sent_total" -ge $((size / 2)) ]; then
        ok "swarmlab leechers sent $((sent_total / 1048576)) MiB to others"
    else
        bad "swarmlab leechers sent only $sent_total bytes to others"
    fi
else
    bad "a swarmlab leecher wrote no peers.tsv"
fi
echo "  (seed left at ${t_left:-?} s with transmission at ${tr_pct:-?}; transmission uploaded" \
    "${tr_up/None/0 B}; total $(since) s)"

[ "$fails" = 0 ] && echo "live_mixed.sh: all passed" || echo "live_mixed.sh: $fails failed"
[ "$fails" = 0 ]

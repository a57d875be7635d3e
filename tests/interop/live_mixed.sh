#!/usr/bin/env bash
# tests/interop/live_mixed.sh: a mixed swarm in a private network namespace, through
# opentracker: one swarmlab seed capped at 2 MiB/s; leechers: three swarmlab (--seed-after,
# --results), libtorrent, aria2 and transmission-daemon 3.00. Every client has its own 10.x
# address on the namespace's lo (transmission never dials 127.x peers, and it keeps one
# connection per address). The seed leaves as soon as the first swarmlab leecher completes
# (one full copy is out); the leechers still incomplete then must finish by trading among
# themselves. Checks the sha256 of every copy, that some leechers were incomplete when the
# seed left, that the seed uploaded less than the leechers downloaded, and (from the swarmlab
# leechers' peers.tsv) the bytes they received from non-seed peers, by client.
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

spawn seed.log "${NS[@]}" "$SWARMLAB" live seed t.torrent seed --bind "$SEED" --port 7000 \
    --max-up 2MiB
seed_pid=$last_pid
wait_for 20 seeders_at_least "$h" 1 || { bad "seed never registered: $(cat seed.log)"; exit 1; }
t0=$(date +%s.%N)
sl_pids=()
for i in 1 2 3; do
    spawn "sl$i.log" "${NS[@]}" "$SWARMLAB" live download t.torrent -o "sl$i" \
        --bind "${SL[$((i - 1))]}" --port "700$i" --seed-after --results "sl$i.res"
    sl_pids+=("$last_pid")
done
mkdir -p lt aria
spawn lt.log "${NS[@]}" /usr/bin/python3 "$here/lt_peer.py" download t.torrent lt "$LT" 7006 120
lt_pid=$last_pid
# aria2 flags from REFERENCE.md s5 (it dials MSE first, then plaintext; exits at completion)
spawn aria.log "${NS[@]}" aria2c --enable-dht=false --enable-dht6=false --bt-enable-lpd=false \
    --enable-peer-exchange=false --listen-port=7007 --interface="$ARIA" --disable-ipv6=true \
    --file-allocation=none --follow-torrent=mem --bt-save-metadata=false --auto-save-interval=0 \
    --summary-interval=0 --console-log-level=warn --seed-time=0 --dir aria t.torrent
aria_pid=$last_pid
start_transmission tr_cfg "$tmp/tr" "$TR" 7008
tr_remote -a t.torrent -w "$tmp/tr" >/dev/null

# done_NAME: true once that leecher has the whole file (by its own account)
done_sl() { grep -q "download complete" "sl$1.log"; }
done_lt() { grep -q "^finished in" lt.log; }
done_aria() { ! kill -0 "$aria_pid" 2>/dev/null; }
done_tr() { [ -e tr_cfg/done ]; }
leechers=(sl1 sl2 sl3 lt aria tr)
is_done() { case $1 in sl*) done_sl "${1#sl}" ;; *) "done_$1" ;; esac; }
since() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
first_done() { done_sl 1 || done_sl 2 || done_sl 3; }

if wait_for 60 first_done; then
    pending=()
    for l in "${leechers[@]}"; do is_done "$l" || pending+=("$l"); done
    tr_pct=$(tr_remote -t 1 -i 2>/dev/null | sed -n 's/^ *Percent Done: *//p')
    kill -TERM "$seed_pid"
    wait "$seed_pid" 2>/dev/null || true
    t_left=$(since)
    ok "the seed left at $t_left s, when a swarmlab leecher completed"
else
    bad "no swarmlab leecher completed within 60 s while the seed was there"
    exit 1
fi
kill -0 "$seed_pid" 2>/dev/null && bad "the seed is still running" || ok "the seed is gone"
# without the seed, these leechers can only finish with pieces from each other
[ "${#pending[@]}" -ge 1 ] && ok "${#pending[@]} leecher(s) incomplete when the seed left: ${pending[*]}" ||
    bad "every leecher was complete before the seed left: nothing tests trading"
seed_up=$(sed -n 's/.* \([0-9.]*\) MiB up.*/\1/p' seed.log | tail -1)

all_done() { for l in "${leechers[@]}"; do is_done "$l" || return 1; done; }
if wait_for 60 all_done; then ok "every leecher completed $(since) s after the start"; else
    for l in "${leechers[@]}"; do is_done "$l" || bad "$l did not complete without the seed"; done
    echo "  transmission: $(tr_remote -t 1 -i 2>&1 | grep -E 'State|Percent|Peers' | tr -s ' ' | tr '\n' ';')"
fi
check_copy() {
    local got
    got=$(sha256sum <"$2" 2>/dev/null | cut -d' ' -f1)
    [ "$got" = "$want" ] && ok "$1: sha256 ${want:0:16}... identical" || bad "$1: sha256 differs or no file"
}
for i in 1 2 3; do check_copy "swarmlab leecher $i" "sl$i/mixed.bin"; done
check_copy "libtorrent leecher" lt/mixed.bin
check_copy "aria2 leecher" aria/mixed.bin
check_copy "transmission leecher" tr/mixed.bin

# The seed sent seed_up MiB; six leechers received at least 6 copies: the rest came from leechers.
need_mib=$(awk -v s="$size" 'BEGIN { printf "%.1f", 6 * s / 1048576 }')
awk -v u="${seed_up:-999}" -v n="$need_mib" -v s="$size" 'BEGIN { exit !(n - u >= s / 1048576) }' &&
    ok "the seed uploaded $seed_up MiB of the $need_mib MiB the leechers needed: at least $(awk -v u="$seed_up" -v n="$need_mib" 'BEGIN { printf "%.1f", n - u }') MiB came from leechers" ||
    bad "the seed uploaded ${seed_up:-?} MiB of $need_mib MiB: less than one copy from leechers"
tr_up=$(tr_remote -t 1 -i 2>/dev/null | sed -n 's/^ *Uploaded: *//p')

# The swarmlab leechers' own records (written at SIGTERM): each remote peer's row has its
# address and client class; its bytes_up is what it sent us.
for pid in "${sl_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${sl_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
col() { head -1 "$1" | sed 's/^# //' | tr '\t' '\n' | grep -nx "$2" | cut -d: -f1; }
p=sl1.res/peers.tsv
if [ -s "$p" ]; then
    c_class=$(col $p class) c_up=$(col $p bytes_up) c_down=$(col $p bytes_down)
    c_addr=$(col $p address)
    # from_peers: bytes the swarmlab leechers received from anyone but the seed, by class;
    # to_peers: bytes they sent to others
    summary=$(awk -F'\t' -v c="$c_class" -v u="$c_up" -v d="$c_down" -v a="$c_addr" \
        -v seed="$SEED:" '!/^#/ && $c != "self" {
            if (index($a, seed) != 1) { from[$c] += $u; tot += $u }
            sent += $d
        } END {
            for (k in from) printf "%s %.1f, ", k, from[k] / 1048576
            printf "| %d %d\n", tot, sent
        }' sl1.res/peers.tsv sl2.res/peers.tsv sl3.res/peers.tsv)
    from_total=$(echo "$summary" | awk -F'|' '{ print $2 }' | awk '{ print $1 }')
    sent_total=$(echo "$summary" | awk -F'|' '{ print $2 }' | awk '{ print $2 }')
    by_class=$(echo "$summary" | awk -F'|' '{ print $1 }' | sed 's/, *$//')
    [ "$from_total" -ge 1048576 ] &&
        ok "swarmlab leechers received $((from_total / 1048576)) MiB from non-seed peers ($by_class MiB)" ||
        bad "swarmlab leechers received only $from_total bytes from non-seed peers ($by_class)"
    [ "$sent_total" -ge 1048576 ] && ok "swarmlab leechers sent $((sent_total / 1048576)) MiB to others" ||
        bad "swarmlab leechers sent only $sent_total bytes to others"
else
    bad "no peers.tsv from swarmlab leecher 1"
fi
echo "  (seed left at $t_left s with transmission at ${tr_pct:-?}; transmission uploaded ${tr_up/None/0 B}; total $(since) s)"

[ "$fails" = 0 ] && echo "live_mixed.sh: all passed" || echo "live_mixed.sh: $fails failed"
[ "$fails" = 0 ]

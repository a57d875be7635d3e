#!/usr/bin/env bash
# tests/bench/live_pair.sh: one seed -> one leecher of a SIZE_MIB (512) MiB file over loopback
# through opentracker, swarmlab->swarmlab, libtorrent->libtorrent (python3-libtorrent) and
# aria2->aria2, RUNS (3) rounds; each round runs every pair once, in turn, the order rotated
# by one pair each round and reversed every other round, so that the pairs share the
# machine's load and no pair always goes first or after the same pair (on a VM the memory a
# run finds can be cold after another client's run). Reports each leecher's MiB/s and CPU
# seconds per GiB (user + system), then a table of the medians (each over the rounds). The leecher's time runs from its start (swarmlab and aria2: process
# start, incl. the empty-directory check and the first announce; libtorrent: add_torrent) to
# completion; CPU is the leecher process's user + system time.
# SWARMLAB_B=/other/swarmlab adds the pair swarmlab-B->swarmlab-B (seed and leecher from the
# other binary), to compare two builds in the same period. PAIRS="sl lt a2" picks pairs.
# Usage: SWARMLAB=... [SWARMLAB_B=...] [RUNS=5] [SIZE_MIB=512] live_pair.sh
set -eu
here=$(cd "$(dirname "$0")/../interop" && pwd)
. "$here/live_lib.bash"
SIZE_MIB=${SIZE_MIB:-512}
RUNS=${RUNS:-3}
PAIRS=${PAIRS:-sl lt a2}
[ -n "${SWARMLAB_B:-}" ] && PAIRS="sl slb ${PAIRS/sl/}"
live_init live-bench
cd "$tmp"
head -c $((SIZE_MIB << 20)) /dev/urandom >data.bin

# One torrent per pair: the same bytes under another name (a hard link) give another
# info-hash, so a leecher finds only its own seed, and a seed that leaves without a "stopped"
# announce (aria2) is never counted for another pair.
declare -A name=([sl]=swarmlab [slb]=swarmlab-B [lt]=libtorrent [a2]=aria2) hash bin
bin=([sl]=$SWARMLAB [slb]=${SWARMLAB_B:-})
for p in $PAIRS; do
    mkdir -p "seed_$p" && ln data.bin "seed_$p/$p.bin"
    hash[$p]=$(probe_hash "seed_$p/$p.bin" 1MiB)
done
start_tracker "${hash[@]}"
for p in $PAIRS; do
    "$SWARMLAB" make-torrent "seed_$p/$p.bin" -t "$announce" -o "$p.torrent" \
        --piece-size 1MiB >/dev/null
done

# aria2 flags from REFERENCE.md s5 (no DHT/LPD/PEX, no control files), as in live_aria2.sh.
aria_flags=(--enable-dht=false --enable-dht6=false --bt-enable-lpd=false
    --enable-peer-exchange=false --interface=127.0.0.1 --disable-ipv6=true
    --file-allocation=none --follow-torrent=mem --bt-save-metadata=false --auto-save-interval=0
    --summary-interval=0 --console-log-level=warn --bt-tracker-connect-timeout=10)
aria_seed() { exec aria2c "${aria_flags[@]}" --listen-port="$(free_port)" --bt-max-peers=0 \
    --dir seed_a2 --check-integrity=true --bt-seed-unverified=true --seed-ratio=0.0 a2.torrent; }

# Seeds (plaintext everywhere: the figures compare engines, not RC4), all started up front.
for p in $PAIRS; do
    case $p in
    sl | slb) spawn "seed_$p.log" "${bin[$p]}" live seed "$p.torrent" "seed_$p" \
        --bind 127.0.0.1 --port "$(free_port)" --encryption off ;;
    lt) spawn seed_lt.log /usr/bin/python3 "$here/lt_peer.py" seed lt.torrent seed_lt \
        127.0.0.1 "$(free_port)" 3600 ;;
    a2) spawn seed_a2.log aria_seed ;;
    esac
done
for p in $PAIRS; do
    wait_for 120 seeders_at_least "${hash[$p]}" 1 ||
        { echo "${name[$p]} seed did not register: $(tail -3 "seed_$p.log")"; exit 1; }
done

# leech P: one download for pair P; prints "SECONDS CPU USER SYS" (CPU = USER + SYS).
leech() {
    local p=$1 e u s c
    rm -rf dl && mkdir dl
    case $p in
    sl | slb)
        /usr/bin/time -f "%e %U %S" -o time.txt "${bin[$p]}" live download "$p.torrent" -o dl \
            --bind 127.0.0.1 --port "$(free_port)" --encryption off --quiet ;;
    lt)
        /usr/bin/python3 "$here/lt_peer.py" download lt.torrent dl 127.0.0.1 "$(free_port)" 300 \
            >lt_dl.log
        read -r _ _ e _ _ _ _ _ u _ _ s _ < <(grep finished lt_dl.log | tr ',()' '   ')
        echo "$e $u $s" >time.txt ;;
    a2)
        /usr/bin/time -f "%e %U %S" -o time.txt timeout 300 aria2c "${aria_flags[@]}" \
            --listen-port="$(free_port)" --seed-time=0 --dir dl a2.torrent >a2_dl.log 2>&1 ||
            { echo "aria2 download failed: $(tail -3 a2_dl.log)" >&2; return 1; } ;;
    esac
    cmp -s data.bin "dl/$p.bin" || { echo "${name[$p]} copy differs" >&2; return 1; }
    read -r e u s <time.txt
    awk -v e="$e" -v u="$u" -v s="$s" 'BEGIN { print e, u + s, u, s }'
}

echo "== live-pair: $SIZE_MIB MiB, 1 MiB pieces, one seed -> one leecher on 127.0.0.1," \
    "$RUNS round(s)"
: >results.txt
for r in $(seq "$RUNS"); do
    read -ra ps <<<"$PAIRS"
    k=$(((r - 1) % ${#ps[@]}))
    order="${ps[*]:k} ${ps[*]:0:k}"
    [ $((r % 2)) = 0 ] && order=$(echo $order | tr ' ' '\n' | tac | tr '\n' ' ')
    for p in $order; do
        read -r e c u s < <(leech "$p") || exit 1
        echo "$p $e $c $u $s" >>results.txt
        awk -v n="${name[$p]}->${name[$p]} #$r" -v e="$e" -v c="$c" -v u="$u" -v s="$s" \
            -v m="$SIZE_MIB" 'BEGIN { printf "%-28s %8.1f MiB/s  %6.2f leecher CPU-s/GiB" \
                "  (%.2f s; CPU-s %.2f = user %.2f + sys %.2f)\n",
                n, m / e, c * 1024 / m, e, c, u, s }'
    done
done
rm -rf dl

# The table: medians over the rounds of MiB/s, of CPU-s/GiB and of its user and system parts
# (each taken separately). System time is mostly the page-cache copy of the written file, and
# on a VM it swings with how cold the guest's free memory is.
median() {
    sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
col() { # col PAIR FIELD: the median over the rounds of FIELD (CPU seconds) per GiB
    awk -v p="$1" -v m="$SIZE_MIB" -v k="$2" '$1 == p { print $k * 1024 / m }' results.txt | median
}
echo
printf '%-26s %10s %18s %8s %8s   (median of %d)\n' pair MiB/s "leecher CPU-s/GiB" user sys \
    "$RUNS"
for p in $PAIRS; do
    mibs=$(awk -v p="$p" -v m="$SIZE_MIB" '$1 == p { print m / $2 }' results.txt | median)
    printf '%-26s %10.1f %18.2f %8.2f %8.2f\n' "${name[$p]}->${name[$p]}" "$mibs" "$(col "$p" 3)" \
        "$(col "$p" 4)" "$(col "$p" 5)"
done

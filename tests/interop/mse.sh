#!/usr/bin/env bash
# tests/interop/mse.sh: the engine's MSE/PE handshake (engine/bt_mse.c) and BEP 9 codecs
# against libtorrent 2.0 (python3-libtorrent) with encryption forced, over loopback TCP: we
# dial libtorrent offering RC4 only and plaintext only, and libtorrent dials us (it offers
# both) while we accept RC4 only and plaintext only; each case must negotiate the expected
# method and carry the BT handshake both ways. Then, over MSE: we parse libtorrent's magnet
# link and fetch the info dict from it with ut_metadata (bt_magnet, bt_metadata), and a
# libtorrent session started from the magnet link fetches the info dict from us.
# Usage: SWARMLAB=/abs/build/X/swarmlab bash mse.sh  (MSE_KEEP=1 keeps the temporary directory)
set -eu

: "${SWARMLAB:?set SWARMLAB to the swarmlab binary}"
here=$(cd "$(dirname "$0")" && pwd)
build=$(dirname "$SWARMLAB")
py=/usr/bin/python3 # the Debian python3 has the libtorrent module
if ! "$py" -c 'import libtorrent' 2>/dev/null; then
    echo "mse.sh: python3-libtorrent not installed" >&2
    exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/swarmlab-mse.XXXXXX")
lt_pid=
cleanup() { [ -n "$lt_pid" ] && kill "$lt_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT; [ -n "${MSE_KEEP:-}" ] && trap - EXIT

# The probe links the engine archive of the same build (with sanitizers in build/san).
san=
case "$build" in *san*) san="-fsanitize=address,undefined -fno-sanitize-recover=all" ;; esac
# shellcheck disable=SC2086
for p in mse_probe meta_probe; do
    ${CC:-gcc} -std=c11 -D_POSIX_C_SOURCE=200809L -I"$here/../../engine" -g -O1 $san \
        -o "$tmp/$p" "$here/$p.c" "$build/libswarm.a" -lcrypto
done

mkfifo "$tmp/ctl"
"$py" "$here/mse_lt.py" "$tmp" < "$tmp/ctl" > "$tmp/lt.out" 2> "$tmp/lt.err" &
lt_pid=$!
exec 3> "$tmp/ctl"
for _ in $(seq 100); do grep -q '^ready' "$tmp/lt.out" 2>/dev/null && break; sleep 0.1; done
read -r _ port ih < "$tmp/lt.out" || { echo "mse.sh: libtorrent did not start"; cat "$tmp/lt.err"; exit 1; }
magnet=$(awk '$1 == "magnet" {print $2}' "$tmp/lt.out")

fails=0
check() { # check LABEL WANT-METHOD OUTPUT-FILE
    if grep -q "^ok method $2 peer-id -LT" "$3"; then
        echo "  ok   $1 ($(grep '^ok' "$3"))"
    else
        echo "  FAIL $1: $(cat "$3")"
        fails=$((fails + 1))
    fi
}

"$tmp/mse_probe" dial "$port" "$ih" 2 > "$tmp/d2" 2>&1 || true
check "we dial, offer RC4: RC4" 2 "$tmp/d2"
"$tmp/mse_probe" dial "$port" "$ih" 1 > "$tmp/d1" 2>&1 || true
check "we dial, offer plaintext: plaintext" 1 "$tmp/d1"
for want in 2 1; do
    "$tmp/mse_probe" listen "$ih" "$want" > "$tmp/l$want" 2>&1 &
    probe=$!
    for _ in $(seq 50); do grep -q '^listening' "$tmp/l$want" 2>/dev/null && break; sleep 0.1; done
    echo "connect $(awk '/^listening/ {print $2}' "$tmp/l$want")" >&3
    wait "$probe" || true
    check "libtorrent dials, we accept method $want only" "$want" "$tmp/l$want"
done

"$tmp/meta_probe" fetch "$port" "$magnet" > "$tmp/fetch" 2>&1 || true
if grep -q '^ok fetched .* in 2 pieces, name f.bin, 1 reject, .* 1 tracker' "$tmp/fetch"; then
    echo "  ok   ut_metadata from libtorrent via its magnet link ($(cat "$tmp/fetch"))"
else
    echo "  FAIL ut_metadata from libtorrent: $(cat "$tmp/fetch")"
    fails=$((fails + 1))
fi
"$tmp/meta_probe" serve "$tmp/t.torrent" > "$tmp/serve" 2>&1 &
probe=$!
for _ in $(seq 50); do grep -q '^listening' "$tmp/serve" 2>/dev/null && break; sleep 0.1; done
echo "fetchmeta $(awk '/^listening/ {print $2}' "$tmp/serve")" >&3
for _ in $(seq 200); do grep -q '^meta' "$tmp/lt.out" && break; sleep 0.1; done
wait "$probe" || true
if grep -q '^meta ok f.bin' "$tmp/lt.out" && grep -q '^ok served' "$tmp/serve"; then
    echo "  ok   libtorrent fetched the info dict from us ($(grep '^ok' "$tmp/serve"))"
else
    echo "  FAIL libtorrent fetching from us: $(grep '^meta' "$tmp/lt.out"); $(cat "$tmp/serve")"
    fails=$((fails + 1))
fi
exec 3>&-
if [ $fails -ne 0 ]; then echo "mse.sh: $fails check(s) failed"; exit 1; fi
echo "mse.sh: all checks passed"

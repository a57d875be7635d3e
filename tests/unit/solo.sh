#!/usr/bin/env bash
# Builds and runs a CUnit runner from just the files given (a test file plus the engine files it
# needs), under ASan+UBSan, without touching the shared build tree. For working on one module
# while others are half-written. Usage: tests/unit/solo.sh tests/unit/test_x.c engine/bt_x.c ...
set -eu
dir=$(mktemp -d /tmp/solo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
grep -h '^int test_[a-z0-9_]*_add_suite(void) *{\?$' "$@" | sed 's/^int \([a-z0-9_]*\)(void).*/SUITE(\1)/' > "$dir/suites.inc"
common="engine/bt_mem.c engine/bt_buf.c engine/bt_pcg.c engine/bt_sha1.c engine/bt_bitfield.c engine/bt_rate.c"
srcs=$(printf '%s\n' "$@" $common | sort -u)
gcc -std=c11 -D_POSIX_C_SOURCE=200809L -DSWARMLAB_VERSION=\"solo\" -Wall -Wextra -Werror -Wshadow \
    -Wstrict-prototypes -Wmissing-prototypes -Wvla -g -O1 -fsanitize=address,undefined \
    -fno-sanitize-recover=all -Iengine -Isim -Icli -I"$dir" tests/unit/main.c $srcs \
    -o "$dir/solo" -lcunit -lgsl -lgslcblas -linih -ljansson -lcrypto -lm
"$dir/solo"

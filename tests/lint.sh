#!/usr/bin/env bash
# Determinism lint for engine/ and sim/: no clocks, no libc randomness, no environment reads,
# no threads, no writable statics (nm B/D/b/d symbols). Usage: lint.sh BUILD OBJ...
set -u
build=$1; shift
fail=0
hits=$(grep -nE '\b(s?rand|random|srandom|drand48|gettimeofday|clock_gettime|time|getenv|gsl_rng_env_setup|pthread_create|qsort)\s*\(' \
        engine/*.c engine/*.h sim/*.c sim/*.h 2>/dev/null | grep -vE ':\s*(//|\*|/\*)' )
if [ -n "$hits" ]; then echo "lint: forbidden call in engine/ or sim/:"; echo "$hits"; fail=1; fi
for o in "$@"; do
    w=$(nm "$o" 2>/dev/null | awk '$2 ~ /^[BbDd]$/ {print $3}')
    if [ -n "$w" ]; then echo "lint: writable static in $o: $w"; fail=1; fi
done
if [ $fail -eq 0 ]; then echo "lint: ok ($# objects)"; fi
exit $fail

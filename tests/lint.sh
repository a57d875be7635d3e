#!/usr/bin/env bash
# Determinism lint for engine/ and sim/: no clocks, no libc randomness, no environment reads,
# no threads, no writable statics (objects in .data/.bss). Usage: lint.sh BUILD OBJ...
set -u
build=$1; shift
fail=0
hits=$(grep -nE '\b(s?rand|random|srandom|drand48|gettimeofday|clock_gettime|time|getenv|gsl_rng_env_setup|pthread_create|qsort)\s*\(' \
        engine/*.c engine/*.h sim/*.c sim/*.h 2>/dev/null | grep -vE ':\s*(//|\*|/\*)' )
if [ -n "$hits" ]; then echo "lint: forbidden call in engine/ or sim/:"; echo "$hits"; fail=1; fi
for o in "$@"; do
    # Objects in writable sections (.data*, .bss*); const tables of pointers live in
    # .data.rel.ro under PIE, which is read-only after relocation, so it is allowed.
    w=$(objdump -t "$o" 2>/dev/null | grep -E '[[:space:]]\.(data|bss)[^[:space:]]*[[:space:]]' \
        | grep -v '\.data\.rel\.ro' | awk '$NF !~ /^\./ {print $NF}')
    if [ -n "$w" ]; then echo "lint: writable static in $o: $w"; fail=1; fi
done
if [ $fail -eq 0 ]; then echo "lint: ok ($# objects)"; fi
exit $fail

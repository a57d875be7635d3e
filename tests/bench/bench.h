/* tests/bench/bench.h: helpers shared by the benchmarks (wall-clock time; benches only). */
#ifndef BENCH_H
#define BENCH_H

/* Monotonic seconds. */
double bench_now(void);

/* Keeps the compiler from discarding a computed value. */
#define BENCH_USE(x) __asm__ volatile("" : : "g"(x) : "memory")

#endif

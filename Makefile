# swarmlab build: one binary (swarmlab), one engine library (libswarm.a), CUnit tests,
# libFuzzer targets, benchmarks. Two trees: build/rel (optimised) and build/san (ASan+UBSan,
# used by `make check`). Sources are found by wildcard, so adding a file needs no edit here.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
ifeq ($(origin CC),default)
CC        := gcc
endif
FUZZ_CC   ?= clang
FUZZ_SECONDS ?= 20

# Debian packages the build, the tests and the demo need (installed by `make deps`).
DEB_PKGS  := build-essential pkg-config libssl-dev libcunit1-dev libgsl-dev libinih-dev \
             libjansson-dev mktorrent transmission-cli clang gnuplot-nox
DEB_PKGS  += chromium            # tests/sim/report.sh: the report in headless Chromium
DEB_PKGS  += python3-libtorrent  # tests/interop: a real peer

SAN       ?= 0
BUILD     ?= build/rel
ifeq ($(SAN),1)
BUILD     := build/san
endif

PKG_CFLAGS := $(shell pkg-config --cflags libcrypto cunit gsl inih jansson 2>/dev/null)
SIM_LIBS   := $(shell pkg-config --libs gsl inih jansson 2>/dev/null || echo -lgsl -lgslcblas -linih -ljansson)
CRYPTO_LIBS := $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
CUNIT_LIBS := $(shell pkg-config --libs cunit 2>/dev/null || echo -lcunit)
EVENT_LIBS := $(shell pkg-config --libs libevent 2>/dev/null || echo -levent)
# live mode (libevent) and its interop tests (tests/interop/live_*.sh: a tracker, real clients,
# curl for scrapes, ip for transmission's network namespace)
DEB_PKGS   += libevent-dev opentracker python3-libtorrent aria2 transmission-daemon rtorrent \
              iproute2 curl

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
CPPFLAGS  += -D_POSIX_C_SOURCE=200809L -DSWARMLAB_VERSION=\"$(VERSION)\" -Iengine -Isim -Icli -Ilive \
             -DSWARMLAB_PLOTS_DIR=\"$(PREFIX)/share/swarmlab/plots\"
BASEFLAGS := -std=c11 $(WARN) -g $(PKG_CFLAGS)
ifeq ($(SAN),1)
OPTFLAGS  := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN     := -fsanitize=address,undefined
else
OPTFLAGS  := -O3 -flto=auto -ffat-lto-objects
LDSAN     := -O3 -flto=auto
endif
AR        := gcc-ar
# Profile-guided optimisation of the release tree (PGO=0: without). build/rel's objects are
# compiled with -fprofile-use from the profile of an instrumented build (build/pgo) running a
# small flash crowd (PGO_TRAIN); any source change retrains. Functions the training does not
# run are optimised as usual (-fprofile-partial-training). Output is the same either way.
PGO       ?= 1
PGO_DIR   := build/pgo
PGO_TRAIN := scenarios/bench-flashcrowd-1000.ini --set arrivals.count=200 --set swarm.file_size=16MiB
# function ids in the profile that do not depend on the object's path (build/pgo vs build/rel)
PGO_PARAM := --param=profile-func-internal-id=1
PGO_DEP   :=
PGO_COPY  := @:
ifeq ($(SAN)$(PGO)$(BUILD),01build/rel)
OPTFLAGS  += -fprofile-use -fprofile-partial-training -Wno-missing-profile $(PGO_PARAM)
PGO_DEP   := $(PGO_DIR)/trained
PGO_COPY  = @if [ -f $(PGO_DIR)/$*.gcda ]; then cp $(PGO_DIR)/$*.gcda $(BUILD)/$*.gcda; \
            else rm -f $(BUILD)/$*.gcda; fi
endif
ALL_CFLAGS = $(BASEFLAGS) $(OPTFLAGS) $(CFLAGS)

ENGINE_SRC := $(sort $(wildcard engine/*.c))
SIM_SRC    := $(sort $(wildcard sim/*.c))
LIVE_SRC   := $(sort $(wildcard live/*.c))
CLI_SRC    := $(sort $(wildcard cli/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/*.c))
BENCH_SRC  := $(sort $(wildcard tests/bench/*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
SIM_OBJ    := $(SIM_SRC:%.c=$(BUILD)/%.o)
LIVE_OBJ   := $(LIVE_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_OBJ   := $(UNIT_SRC:%.c=$(BUILD)/%.o)
BENCH_OBJ  := $(BENCH_SRC:%.c=$(BUILD)/%.o)

LIBSWARM   := $(BUILD)/libswarm.a
LIBSIM     := $(BUILD)/libsim.a
LIBLIVE    := $(BUILD)/liblive.a
SWARMLAB   := $(BUILD)/swarmlab
UNIT_BIN   := $(BUILD)/unit_tests
BENCH_BIN  := $(BUILD)/bench
REPLAY_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz_replay_%)

.PHONY: all check demo bench fuzz install clean deps lint lint-objs unit replay interop simtest help \
        plots
.DEFAULT_GOAL := all

all: $(SWARMLAB)

help:
	@echo "targets: all check demo bench fuzz install clean deps lint plots (RUN=DIR)"

# --- compilation ------------------------------------------------------------------
$(BUILD)/%.o: %.c $(PGO_DEP)
	@mkdir -p $(dir $@)
	$(PGO_COPY)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# PGO: the instrumented swarmlab, and its profile (*.gcda beside its objects) from one run.
$(PGO_DIR)/trained: $(wildcard engine/*.[ch] sim/*.[ch] live/*.[ch] cli/*.[ch]) Makefile
	$(MAKE) BUILD=$(PGO_DIR) PGO=0 CFLAGS="-fprofile-generate $(PGO_PARAM)" \
	    LDSAN="-O3 -flto=auto -fprofile-generate" $(PGO_DIR)/swarmlab
	find $(PGO_DIR) -name '*.gcda' -delete
	$(PGO_DIR)/swarmlab sim $(PGO_TRAIN) -o $(PGO_DIR)/train --quiet > /dev/null
	touch $@

$(LIBSWARM): $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBSIM): $(SIM_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBLIVE): $(LIVE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(SWARMLAB): $(CLI_OBJ) $(LIBLIVE) $(LIBSIM) $(LIBSWARM)
	$(CC) $(LDSAN) -o $@ $(CLI_OBJ) $(LIBLIVE) $(LIBSIM) $(LIBSWARM) $(SIM_LIBS) $(EVENT_LIBS) \
	    $(CRYPTO_LIBS) -lm

# The unit-test runner's suite table is generated from the test files, so a new
# test_<module>.c with a test_<module>_add_suite() needs no edit to main.c.
$(BUILD)/tests/unit/suites.inc: $(filter-out tests/unit/main.c,$(UNIT_SRC))
	@mkdir -p $(dir $@)
	grep -h '^int test_[a-z0-9_]*_add_suite(void) *{\?$$' $^ | sed 's/^int \([a-z0-9_]*\)(void).*/SUITE(\1)/' | sort > $@

$(BUILD)/tests/unit/main.o: $(BUILD)/tests/unit/suites.inc
$(BUILD)/tests/unit/main.o: CPPFLAGS += -I$(BUILD)/tests/unit

$(UNIT_BIN): $(UNIT_OBJ) $(LIBLIVE) $(LIBSIM) $(LIBSWARM)
	$(CC) $(LDSAN) -o $@ $(UNIT_OBJ) $(LIBLIVE) $(LIBSIM) $(LIBSWARM) $(CUNIT_LIBS) $(SIM_LIBS) \
	    $(EVENT_LIBS) $(CRYPTO_LIBS) -lm

$(BUILD)/tests/bench/benches.inc: $(filter-out tests/bench/main.c,$(BENCH_SRC))
	@mkdir -p $(dir $@)
	grep -h '^void bench_[a-z0-9_]*(void) *{\?$$' $^ | sed 's/^void \([a-z0-9_]*\)(void).*/BENCH(\1)/' | sort > $@

$(BUILD)/tests/bench/main.o: $(BUILD)/tests/bench/benches.inc
$(BUILD)/tests/bench/main.o: CPPFLAGS += -I$(BUILD)/tests/bench

$(BENCH_BIN): $(BENCH_OBJ) $(LIBSIM) $(LIBSWARM)
	$(CC) $(LDSAN) -o $@ $(BENCH_OBJ) $(LIBSIM) $(LIBSWARM) $(SIM_LIBS) $(CRYPTO_LIBS) -lm

# Fuzz targets built with a plain main that replays a corpus (runs under gcc + ASan).
$(BUILD)/fuzz_replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay_main.o $(LIBSIM) $(LIBSWARM)
	$(CC) $(LDSAN) -o $@ $^ $(SIM_LIBS) $(CRYPTO_LIBS) -lm

# --- top-level targets ------------------------------------------------------------
deps:
	@./tests/deps.sh $(DEB_PKGS)

unit: $(UNIT_BIN)
	$(UNIT_BIN)

replay: $(REPLAY_BINS)
	@set -e; for n in $(FUZZ_NAMES); do \
	  $(BUILD)/fuzz_replay_$$n tests/fuzz/corpus/$$n; done

interop: $(SWARMLAB)
	@set -e; for t in $(sort $(wildcard tests/interop/*.sh)); do \
	  echo "== $$t"; SWARMLAB=$(abspath $(SWARMLAB)) bash $$t; done

# Scenario runs (every scenario in scenarios/, scaled down), determinism, bad input.
simtest: $(SWARMLAB)
	@set -e; for t in $(sort $(wildcard tests/sim/*.sh)); do \
	  echo "== $$t"; SWARMLAB=$(abspath $(SWARMLAB)) bash $$t; done

check: deps
	$(MAKE) SAN=1 unit replay interop simtest
	$(MAKE) lint

# The main job: who unchokes whom (scenarios/clustering.ini: slow, medium and fast uploaders
# under tit-for-tat), 3 replications on 2 cores, then the report with its figures.
demo: deps
	$(MAKE) SAN=0 all
	rm -rf results/demo
	./$(BUILD)/swarmlab sim scenarios/clustering.ini --replications 3 -j 2 -o results/demo
	./$(BUILD)/swarmlab plot results/demo
	@echo "report: $(abspath results/demo/index.html)"

# Figures (PNG, SVG) and index.html of a results directory: a `swarmlab sim` run, a
# --replications directory or a `swarmlab sweep` directory (make plots RUN=results/x).
plots: $(SWARMLAB)
	@test -n "$(RUN)" || { echo "usage: make plots RUN=DIR (a swarmlab sim, sim --replications or sweep directory)"; exit 2; }
	./$(SWARMLAB) plot "$(RUN)"

# Micro-benchmarks, the 1,000-peer flash crowd and the 10,000-peer run (wall time, events/s,
# peak RSS), then a 100-point sweep of tiny.ini (wall time, peak RSS).
bench: $(BENCH_BIN) $(SWARMLAB)
	$(BENCH_BIN)
	@echo "== bench-flashcrowd-1000 (scenarios/bench-flashcrowd-1000.ini)"
	./$(SWARMLAB) sim scenarios/bench-flashcrowd-1000.ini -o results/bench-flashcrowd-1000 --quiet
	@cat results/bench-flashcrowd-1000/run.json
	@echo "== bench-10000 (scenarios/bench-10000.ini: 1 seed + 10,000 leechers, 4 MiB)"
	./$(SWARMLAB) sim scenarios/bench-10000.ini -o results/bench-10000 --quiet
	@cat results/bench-10000/run.json
	@echo "== sweep100 (tests/bench/sweep100.sh: 10x10 points of scenarios/tiny.ini)"
	@SWARMLAB=$(abspath $(SWARMLAB)) bash tests/bench/sweep100.sh results/bench-sweep100
	@SWARMLAB=$(abspath $(SWARMLAB)) bash tests/bench/live_pair.sh

# Only the live pair benchmark (swarmlab, libtorrent and aria2 pairs, 512 MiB; RUNS=N rounds).
.PHONY: bench-live
bench-live: $(SWARMLAB)
	@SWARMLAB=$(abspath $(SWARMLAB)) bash tests/bench/live_pair.sh

# libFuzzer: each target runs FUZZ_SECONDS with its seed corpus (new inputs go to build/fuzz-corpus).
# The engine and simulator are compiled once with clang's instrumentation into an archive.
FUZZ_FLAGS := -std=c11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined $(PKG_CFLAGS)
FUZZ_OBJ   := $(patsubst %.c,build/fuzz/obj/%.o,$(ENGINE_SRC) $(SIM_SRC))

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -c $< -o $@

build/fuzz/libfuzzswarm.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

fuzz: build/fuzz/libfuzzswarm.a
	@set -e; for n in $(FUZZ_NAMES); do \
	  $(FUZZ_CC) $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	    -o build/fuzz/fuzz_$$n tests/fuzz/fuzz_$$n.c build/fuzz/libfuzzswarm.a \
	    $(SIM_LIBS) $(CRYPTO_LIBS) -lm; \
	  mkdir -p build/fuzz-corpus/$$n; \
	  echo "== fuzz $$n ($(FUZZ_SECONDS)s)"; \
	  if ! build/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	      build/fuzz-corpus/$$n tests/fuzz/corpus/$$n > build/fuzz/$$n.log 2>&1; then \
	    tail -40 build/fuzz/$$n.log; echo "fuzz $$n: FAILED (log: build/fuzz/$$n.log)"; exit 1; fi; \
	  tail -1 build/fuzz/$$n.log; done

# Determinism and hygiene: no clocks, no libc randomness, no writable statics in engine/ and sim/.
# The object check needs real (non-LTO) objects, so it uses a tree of its own.
lint:
	$(MAKE) BUILD=build/lint OPTFLAGS=-O1 LDSAN= lint-objs

lint-objs: $(ENGINE_OBJ) $(SIM_OBJ)
	@./tests/lint.sh $(BUILD) $(ENGINE_OBJ) $(SIM_OBJ)

install: $(SWARMLAB)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/swarmlab \
	    $(DESTDIR)$(PREFIX)/share/swarmlab/plots $(DESTDIR)$(PREFIX)/share/swarmlab/scenarios
	install -m 755 $(SWARMLAB) $(DESTDIR)$(PREFIX)/bin/swarmlab
	install -m 644 plots/*.gp $(DESTDIR)$(PREFIX)/share/swarmlab/plots/
	install -m 644 scenarios/*.ini $(DESTDIR)$(PREFIX)/share/swarmlab/scenarios/
	install -m 644 $(LIBSWARM) $(DESTDIR)$(PREFIX)/lib/libswarm.a
	install -m 644 engine/bt*.h $(DESTDIR)$(PREFIX)/include/swarmlab/

clean:
	rm -rf build results/demo results/bench-flashcrowd-1000 results/bench-10000 results/bench-sweep100

-include $(shell find build -name '*.d' 2>/dev/null)

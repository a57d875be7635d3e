/* tests/fuzz/fuzz_scenario.c: libFuzzer target for scenario files (sim_scenario.c with
 * sim_units.c and sim_dist.c). Input: INI text, optionally followed by a line "%%" and one
 * --set override per line. A scenario that loads must write a resolved form that loads back
 * to the same resolved form; the input is also parsed as a trace and as unit values. Never
 * touches the file system. */
#include "sim_dist.h"
#include "sim_fluid.h"
#include "sim_scenario.h"
#include "sim_units.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OVERRIDES 16

static char *resolved(const sim_scenario *sc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert(f != NULL);
    assert(sim_scenario_write_resolved(sc, f) == 0);
    fclose(f);
    return buf;
}

static void check_model(const sim_scenario *sc)
{
    assert(sc->nclasses >= 1 && sc->nclasses <= SIM_SCENARIO_MAX_CLASSES);
    assert(sc->nisps <= SIM_SCENARIO_MAX_ISPS);
    assert(sc->swarm.file_size > 0 && sc->swarm.piece_size % 16384 == 0);
    for (uint32_t i = 0; i < sc->nclasses; i++) {
        const sim_class *c = &sc->classes[i];
        assert(c->isp >= -1 && c->isp < (int32_t)sc->nisps);
        assert(c->choker_ops != NULL && c->up.min == 1 && c->down.min == 1);
    }
    assert(sc->nseeds <= SIM_SCENARIO_MAX_PEERS);
}

static void roundtrip(const sim_scenario *sc)
{
    char *a = resolved(sc), err[512];
    sim_scenario *back = NULL;
    int rc =
        sim_scenario_load_string(&back, a, strlen(a), sc->name, NULL, NULL, 0, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "resolved scenario does not load: %s\n%s\n", err, a);
        abort();
    }
    char *b = resolved(back);
    if (strcmp(a, b) != 0) {
        fprintf(stderr, "resolved scenario changed:\n%s\n----\n%s\n", a, b);
        abort();
    }
    free(b);
    sim_scenario_free(back);
    free(a);
}

/* A scenario the loader accepts gives fluid parameters in range (or none, for a trace). */
static void fluid(const sim_scenario *sc)
{
    sim_fluid_params p;
    sim_fluid_steady st;
    double x0, y0;
    bool given;
    if (sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) == 0) {
        assert(sim_fluid_check(&p) == 0 && x0 == 0 && y0 >= 0 && given == (sc->fluid.eta >= 0));
        assert(sim_fluid_steady_state(&p, &st) == 0);
    } else {
        assert(sc->arrivals.process == SIM_ARRIVALS_TRACE || sc->by_count);
    }
}

/* Unit parsers on the first line: a value that parses prints back to itself. */
static void units(const char *s, size_t n)
{
    char err[256], buf[SIM_DIST_FMT_MAX];
    for (int u = SIM_UNIT_BYTES; u <= SIM_UNIT_COUNT; u++) {
        uint64_t v, w;
        if (sim_units_parse((sim_unit)u, s, n, true, &v, err, sizeof(err)) == 0) {
            sim_units_format((sim_unit)u, v, buf);
            assert(sim_units_parse((sim_unit)u, buf, strlen(buf), true, &w, err, sizeof(err)) ==
                       0 &&
                   w == v);
        }
        sim_dist d, e;
        if (sim_dist_parse(&d, (sim_unit)u, s, n, true, err, sizeof(err)) == 0) {
            sim_dist_format(&d, buf);
            assert(sim_dist_parse(&e, (sim_unit)u, buf, strlen(buf), true, err, sizeof(err)) == 0 &&
                   sim_dist_equal(&d, &e));
        }
    }
    double r, q;
    if (sim_units_parse_arrival_rate(s, n, &r, err, sizeof(err)) == 0) {
        sim_units_format_arrival_rate(r, buf);
        assert(sim_units_parse_arrival_rate(buf, strlen(buf), &q, err, sizeof(err)) == 0 && q == r);
    }
    if (sim_units_parse_fraction(s, n, &r, err, sizeof(err)) == 0)
        assert(r >= 0.0 && r <= 1.0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t first = strcspn(text, "\n");
    units(text, first < 128 ? first : 128);
    /* Split off the overrides after a "%%" line. */
    size_t len = size;
    const char *ov[MAX_OVERRIDES];
    size_t nov = 0;
    char *sep = strstr(text, "\n%%\n");
    if (sep != NULL) {
        len = (size_t)(sep - text) + 1;
        for (char *p = sep + 4; *p != '\0' && nov < MAX_OVERRIDES;) {
            char *nl = strchr(p, '\n');
            if (nl != NULL)
                *nl = '\0';
            ov[nov++] = p;
            p = nl != NULL ? nl + 1 : p + strlen(p);
        }
    }
    sim_scenario *sc = NULL;
    char err[1024];
    int rc = sim_scenario_load_string(&sc, text, len, "fuzz.ini", NULL, ov, nov, err, sizeof(err));
    assert((rc == 0) == (sc != NULL));
    assert(rc != 0 || err[0] == '\0');
    assert(rc == 0 || (err[0] != '\0' && strlen(err) < sizeof(err)));
    if (sc != NULL) {
        check_model(sc);
        roundtrip(sc);
        fluid(sc);
        if (sim_scenario_parse_trace(sc, text, len, "fuzz.txt", err, sizeof(err)) == 0) {
            assert(sc->arrivals.ntrace > 0 && sc->nleechers == sc->arrivals.ntrace);
            for (size_t i = 1; i < sc->arrivals.ntrace; i++)
                assert(sc->arrivals.trace[i].time_us >= sc->arrivals.trace[i - 1].time_us);
        }
        sim_scenario_free(sc);
    }
    free(text);
    return 0;
}

/* sim_scenario.h: the scenario model (what a simulation runs) and its loader: INI files parsed
 * with inih, units and distributions, --set overrides, validation with errors that name the
 * file, line, key and value, trace files, and the resolved scenario written back as INI.
 * Never runs anything and never prints (errors go into caller buffers).
 *
 * ---- File format ------------------------------------------------------------------------
 * INI: "[section]" headers, "key = value" lines, comments on their own line start with ';' or
 * '#', inline comments start with " ;" (a ';' after a space). Leading spaces are ignored (no
 * multi-line values). Lines are at most SIM_SCENARIO_MAX_LINE characters, files at most
 * SIM_SCENARIO_MAX_FILE_BYTES. Unknown sections and keys, a key given twice and a section
 * given twice are errors. Units and distributions: sim_units.h, sim_dist.h.
 *
 * ---- Keys (also in scenarios/README.md) -------------------------------------------------
 * [swarm]                                     (required)
 *   file_size       size       required   bytes of content (> 0)
 *   piece_size      size       256KiB     multiple of 16KiB, 16KiB..64MiB
 *   duration        time       1d         simulated time limit (finite)
 *   seed            integer    1          RNG seed of the run (--seed N = --set swarm.seed=N)
 *   payload         virtual|real  virtual   real: payload bytes are real and SHA-1 verified
 *   stop_when_done  bool       true       end early once no leecher is left and none will come
 *   sample_interval time       10s        period of the time series
 * [tracker]                                   (optional)
 *   numwant         integer    50         peers per announce reply, 1..1000
 *   interval        time       30min      announce interval (> 0)
 *   min_interval    time       0          min interval told to clients (0 = none), <= interval
 *   policy          random|isp-biased  random  how peer lists are drawn
 *   local_fraction  fraction   0.9        isp-biased: share of a reply taken from the
 *                                         requester's own ISP when it has enough peers
 * [arrivals]                                  (optional; leechers' joins)
 *   process         flash|poisson|decay|trace  flash
 *   count           integer|unlimited  see below  leechers in total (<= SIM_SCENARIO_MAX_PEERS).
 *                   flash: required unless leecher classes give counts; poisson/decay:
 *                   default unlimited (arrivals until duration); trace: ignored (the trace
 *                   decides). With per-class counts it defaults to (and must equal) their sum.
 *   rate            arrival rate  required for poisson (lambda) and decay (lambda0), > 0
 *   tau             time       required for decay: lambda(t) = rate * e^(-(t - start) / tau)
 *   file            path       required for trace, relative to the scenario file's directory
 *   start           time       0          time of the first possible arrival (flash: when all
 *                                         join; trace: added to every join time)
 * [isp NAME]                                  (any number, up to SIM_SCENARIO_MAX_ISPS)
 *   transit_up      rate|unlimited  unlimited  ISP -> core transit capacity
 *   transit_down    rate|unlimited  unlimited  core -> ISP transit capacity
 *   latency         time       0          one-way latency of the transit link
 *   up_scale        fraction   1          multiplies the upload capacity of every peer of the
 *                                         ISP (> 0; 0.5: the ISP halves upload)
 *   up_cap          rate|unlimited  unlimited  caps the upload capacity of every peer of the
 *                                         ISP, after up_scale (sim_scenario_isp_up)
 * [class NAME]                                (at least one leecher class; up to 256 classes)
 *   role            leecher|seed  leecher   seed: an initial seed, present from t = 0
 *   count           integer    seed: 1    seeds: how many. Leechers: a fixed number of the
 *                                         arrivals (instead of share; all leecher classes
 *                                         then give counts)
 *   share           fraction   -          leechers: share of the arrivals; the shares of all
 *                                         leecher classes sum to 1 (within 1e-9)
 *   up, down        rate dist  required   access capacities (samples are at least 1 B/s)
 *   latency         time dist  0          one-way access latency
 *   isp             ISP name|core  core   the [isp NAME] the peers belong to
 *   choker          name       reference  a built-in choker (bt_choker_find)
 *   picker          name       rarest-first  rarest-first | random | sequential
 *   linger          time dist|forever  leecher: 0, seed: forever
 *                                         leechers: time seeding after completion; seeds:
 *                                         time present after joining
 *   abort           fraction   0          leechers: probability of being an aborter
 *   abort_after     time dist  exp(10min) leechers: an aborter leaves this long after joining
 *                                         if it has not completed by then
 *   crash           fraction   0          probability that a peer's departure is a crash (no
 *                                         tracker "stopped", connections just vanish)
 *   corrupt         fraction   0          probability that a peer sends corrupt payload
 *   leave_at        time|forever  forever  seeds: absolute time at which they leave
 *   upload_limit    rate|unlimited  unlimited  told to the choker (slot count), 0 = none
 *  Special (misbehaving) peers; see scenarios/README.md "Misbehaving peers":
 *   corrupt_rate    fraction   1          share of a corrupting peer's blocks that are corrupt
 *                                         (each block to each peer decided apart); needs
 *                                         corrupt given in the same class
 *   view            normal|large  normal  leechers: large = the large-view exploit: numwant
 *                                         1000 (the tracker caps it), connection limits 1000,
 *                                         re-announce every 60 s (or min_interval) while
 *                                         short of that many peers
 *   response_delay  time dist  0          slow responder: each peer (one draw per peer) serves
 *                                         every request this long after it arrives
 *   lying_have      fraction   0          leechers: share of the pieces it lacks that it
 *                                         claims (1 = claims to be a seed); it ignores requests
 *                                         for them (no BEP 6 reject: requesters time out)
 * [fluid]                                     (optional; the fluid model, sim_fluid.h)
 *   eta             fraction   estimated  effectiveness of file sharing in the Qiu-Srikant
 *                                         model; default: sim_fluid_eta_estimate (about 1
 *                                         unless the file has very few pieces)
 *
 * ---- Overrides ------------------------------------------------------------------------
 * "SECTION.KEY=VALUE", applied after the file, in order (a later one wins): swarm.seed=7,
 * tracker.numwant=30, arrivals.rate=0.2/s, class.adsl.up=2Mbit, isp.a.latency=5ms. A named
 * section may also be written with its space: "class adsl.up=2Mbit". An override may add a key
 * the file leaves at its default, and may create [swarm], [tracker], [arrivals] or [fluid]; it
 * cannot create an [isp] or [class], and an unknown key is an error.
 *
 * ---- Errors ------------------------------------------------------------------------------
 *   FILE:LINE: [section] key = value: what is wrong
 *   --set class.adsl.up=2Mbit: what is wrong
 *   FILE:LINE: [class adsl]: missing key 'up' (LINE is the section header's)
 *   FILE: what is wrong (whole-file checks, e.g. shares that do not sum to 1) */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include "bt.h"
#include "sim_dist.h"
#include "sim_units.h"

#include <stdio.h>

#define SIM_SCENARIO_MAX_FILE_BYTES (1u << 20) /* scenario file */
#define SIM_SCENARIO_MAX_LINE 196              /* characters per line (inih's buffer) */
#define SIM_SCENARIO_MAX_CLASSES 256
#define SIM_SCENARIO_MAX_ISPS 256
#define SIM_SCENARIO_MAX_NAME 63         /* [class NAME], [isp NAME]: [A-Za-z0-9_-] */
#define SIM_SCENARIO_MAX_PEERS 10000000u /* initial seeds + leechers */
#define SIM_SCENARIO_MAX_PIECES (1u << 22)
#define SIM_SCENARIO_UNLIMITED UINT64_MAX /* arrivals.count = unlimited */
#define SIM_TRACE_MAX_ENTRIES 10000000u   /* join times in a trace file */
#define SIM_TRACE_MAX_LINE 255

typedef enum sim_payload { SIM_PAYLOAD_VIRTUAL = 0, SIM_PAYLOAD_REAL = 1 } sim_payload;
typedef enum sim_tracker_policy {
    SIM_TRACKER_RANDOM = 0,
    SIM_TRACKER_ISP_BIASED = 1,
} sim_tracker_policy;
typedef enum sim_arrival_process {
    SIM_ARRIVALS_FLASH = 0,
    SIM_ARRIVALS_POISSON = 1,
    SIM_ARRIVALS_DECAY = 2,
    SIM_ARRIVALS_TRACE = 3,
} sim_arrival_process;
typedef enum sim_role { SIM_ROLE_LEECHER = 0, SIM_ROLE_SEED = 1 } sim_role;
typedef enum sim_view { SIM_VIEW_NORMAL = 0, SIM_VIEW_LARGE = 1 } sim_view;

/* Enum-valued fields below are stored as int (holding the enum's values). */
typedef struct sim_scenario_swarm {
    uint64_t file_size;  /* bytes */
    uint32_t piece_size; /* bytes */
    bt_time_us duration_us;
    uint64_t seed;
    int payload; /* sim_payload */
    bool stop_when_done;
    bt_time_us sample_interval_us;
} sim_scenario_swarm;

typedef struct sim_scenario_tracker {
    uint32_t numwant;
    bt_time_us interval_us;
    bt_time_us min_interval_us; /* 0 = none */
    int policy;                 /* sim_tracker_policy */
    double local_fraction;
} sim_scenario_tracker;

/* One join from a trace file: absolute time (arrivals.start + the file's time) and the class
 * index, or -1 to draw the class by share. */
typedef struct sim_trace_entry {
    bt_time_us time_us;
    int32_t cls;
} sim_trace_entry;

typedef struct sim_scenario_arrivals {
    int process;       /* sim_arrival_process */
    uint64_t count;    /* leechers in total; SIM_SCENARIO_UNLIMITED; trace: entries */
    double rate_per_s; /* poisson: lambda; decay: lambda0 */
    bt_time_us tau_us; /* decay */
    bt_time_us start_us;
    char *file;             /* trace: as written in the scenario (NULL otherwise) */
    char *file_path;        /* trace: resolved against the scenario's directory */
    sim_trace_entry *trace; /* trace: the joins in time order; NULL until loaded */
    size_t ntrace;
} sim_scenario_arrivals;

typedef struct sim_isp {
    char name[SIM_SCENARIO_MAX_NAME + 1];
    uint64_t transit_up_Bps; /* bytes/s, 0 = unlimited */
    uint64_t transit_down_Bps;
    bt_time_us latency_us;
    uint64_t up_cap_Bps; /* caps every subscriber's upload capacity; 0 = no cap */
    double up_scale;     /* (0, 1]: multiplies every subscriber's upload capacity (1) */
} sim_isp;

typedef struct sim_class {
    char name[SIM_SCENARIO_MAX_NAME + 1];
    int role;          /* sim_role */
    uint64_t count;    /* seeds; leechers in count mode (else 0) */
    double share;      /* leechers in share mode (else 0) */
    sim_dist up, down; /* bytes/s (min 1) */
    sim_dist latency;  /* µs */
    int32_t isp;       /* index into sim_scenario.isps; -1 = core (no ISP) */
    char choker[32];
    const bt_choker_ops *choker_ops; /* bt_choker_find(choker) */
    char picker[32];
    sim_dist linger;           /* µs; the constant BT_TIME_NEVER means forever */
    double abort;              /* leechers: probability of being an aborter */
    sim_dist abort_after;      /* µs after joining, leechers */
    double crash;              /* probability that a departure is a crash */
    double corrupt;            /* probability that a peer sends corrupt payload */
    bt_time_us leave_at;       /* seeds; BT_TIME_NEVER = never */
    uint64_t upload_limit_Bps; /* 0 = none */
    int view;                  /* sim_view; leechers */
    double corrupt_rate;       /* share of a corrupting peer's blocks that are corrupt (1) */
    sim_dist response_delay;   /* µs; per peer: added before each request is served (0) */
    double lying_have;         /* leechers: share of the lacking pieces they claim (0) */
} sim_class;

typedef struct sim_scenario_fluid {
    double eta; /* [0, 1]; < 0: estimate (the default) */
} sim_scenario_fluid;

typedef struct sim_scenario {
    char *name; /* the file name used in messages */
    char *dir;  /* directory for relative paths (NULL: as written) */
    sim_scenario_swarm swarm;
    sim_scenario_tracker tracker;
    sim_scenario_arrivals arrivals;
    sim_isp *isps; /* in file order; index i is the i-th [isp] */
    uint32_t nisps;
    sim_class *classes; /* in file order */
    uint32_t nclasses;
    sim_scenario_fluid fluid;
    /* Derived. */
    bool by_count;      /* leecher classes give counts (else shares) */
    uint64_t nseeds;    /* initial seeds: the seed classes' counts */
    uint64_t nleechers; /* = arrivals.count (SIM_SCENARIO_UNLIMITED possible) */
} sim_scenario;

/* Loads the scenario file at |path|, applies |noverrides| overrides ("section.key=value"), and
 * validates it; for process = trace, also loads the trace file (sim_scenario_load_trace).
 * On success *out owns a new scenario (free with sim_scenario_free). On error *out is NULL
 * and |err| (|errlen| bytes) holds "FILE:LINE: [section] key = value: what is wrong".
 * Returns 0, BT_ERR_INVALID (bad content), BT_ERR_LIMIT (a limit exceeded), BT_ERR_NOTFOUND
 * (file cannot be opened or read) or BT_ERR_NOMEM. */
int sim_scenario_load(sim_scenario **out, const char *path, const char *const *overrides,
                      size_t noverrides, char *err, size_t errlen);

/* As sim_scenario_load, from the |len| bytes at |text| (NUL bytes are an error), naming it
 * |name| in messages. Relative paths resolve against |dir| (NULL: kept as written). Touches no
 * file: a trace is not loaded (arrivals.trace stays NULL). */
int sim_scenario_load_string(sim_scenario **out, const char *text, size_t len, const char *name,
                             const char *dir, const char *const *overrides, size_t noverrides,
                             char *err, size_t errlen);

/* Frees |sc| and everything it owns; NULL is a no-op. */
void sim_scenario_free(sim_scenario *sc);

/* Reads the trace file arrivals.file_path into arrivals.trace/ntrace (replacing any earlier
 * one). Format: one join per line, "TIME [CLASS]": TIME with units (a plain number is
 * seconds), non-decreasing; CLASS names a leecher class (omitted: drawn by share); '#' starts
 * a comment; blank lines are skipped. At most SIM_TRACE_MAX_ENTRIES joins, lines of at most
 * SIM_TRACE_MAX_LINE characters. Errors read "FILE:LINE: what is wrong". Returns 0,
 * BT_ERR_INVALID, BT_ERR_LIMIT, BT_ERR_NOTFOUND or BT_ERR_NOMEM. */
int sim_scenario_load_trace(sim_scenario *sc, char *err, size_t errlen);

/* As sim_scenario_load_trace, from the |len| bytes at |text|, named |name| in messages. */
int sim_scenario_parse_trace(sim_scenario *sc, const char *text, size_t len, const char *name,
                             char *err, size_t errlen);

/* Writes |sc| as INI with every key in effect (defaults filled in), in canonical units, so a
 * run's results record exactly what ran; loading the output gives the same scenario (a trace's
 * file is written as its resolved path). Returns 0, or BT_ERR_INVALID on a write error. */
int sim_scenario_write_resolved(const sim_scenario *sc, FILE *f);

/* Splits |total| leechers over the leecher classes: by count mode, each class's count; by
 * share, largest-remainder rounding of share * total (ties to the lower index), so the parts
 * sum to |total|. Writes sc->nclasses values into |out| (seed classes get 0). */
void sim_scenario_class_counts(const sim_scenario *sc, uint64_t total, uint64_t *out);

/* A peer's upload capacity once its ISP's up_scale and up_cap apply: min(round(|up_Bps| *
 * up_scale), up_cap), at least 1 byte/s. |isp| NULL (a core peer): |up_Bps| unchanged. */
uint64_t sim_scenario_isp_up(const sim_isp *isp, uint64_t up_Bps);

/* Index of the class / ISP called |name|, or -1. */
int32_t sim_scenario_find_class(const sim_scenario *sc, const char *name);
int32_t sim_scenario_find_isp(const sim_scenario *sc, const char *name);

#endif

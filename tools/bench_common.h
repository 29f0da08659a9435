/* What the performance benches (bulk, conn, mem, scale) share: clocks,
 * sets of runs with their median and spread, the result line printed as a
 * table row or as one JSON object, pinning to one core, and running a
 * function in a child process (optionally in a network namespace of its
 * own, for the kernel's side of a comparison).
 */
#ifndef USTK_TOOLS_BENCH_COMMON_H
#define USTK_TOOLS_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "args.h"
#include "ustack/ustack.h"

#define BENCH_MAX_RUNS 64

/* ---- options every performance bench takes --------------------------------- */

typedef struct bench_opts {
    bool json;      /* one JSON object per result line */
    bool quick;     /* small sizes: a smoke test, not figures */
    bool kernel;    /* measure the kernel's side too (--no-kernel: not) */
    uint64_t runs;  /* runs per figure; 0: the bench's default (5) */
    int cpu;        /* CPU to pin to; -1: the last one */
    bool malloc_default; /* leave glibc's trimming as it is */
} bench_opts;

#define BENCH_OPTS_USAGE                                                      \
    "  --runs N       runs per figure, 1..64 (default 5): median, min, max\n" \
    "  --cpu N        the CPU to run on (default: the last one)\n"            \
    "  --no-kernel    leave out the kernel's side\n"                         \
    "  --malloc-default  leave the C library's malloc as it is (by default\n" \
    "                 the bench asks it to keep freed memory, as a server\n"  \
    "                 would: see docs/PERFORMANCE.md)\n"                      \
    "  --quick        small sizes, for a smoke test (the figures mean little)\n" \
    "  --json         one JSON object per result line instead of the table\n" \
    "  --help         this text\n"

void bench_opts_default(bench_opts *o);
/* 1 when the current argument was one of the options above (taken), 0
 * when it is something else, -1 after reporting a bad value. */
int bench_opts_parse(args *a, bench_opts *o);
/* The current argument is "--n N" (repeatable, 1..1,000,000): append N
 * to n[*nn], of at most max. Same returns as bench_opts_parse(). */
int bench_opt_sizes(args *a, uint64_t *n, unsigned *nn, unsigned max);
/* The options of the benches that stream: "--bytes N" (1..2^40),
 * "--buf N" (4096..2^30) and "--verify". Same returns as
 * bench_opts_parse(). */
int bench_opt_stream(args *a, uint64_t *bytes, uint64_t *buf, bool *verify);
/* Unless o->malloc_default: ask glibc to keep what is freed (no trimming
 * of the heap's top, no mmap for the stack's 256 KiB buffers), so that a
 * buffer given back and taken again costs no system call and no page
 * fault. */
void bench_malloc_setup(const bench_opts *o);
/* The runs to do: o->runs, or 5. */
unsigned bench_opts_runs(const bench_opts *o);

/* ---- clocks ---------------------------------------------------------------- */

/* Wall seconds (CLOCK_MONOTONIC) and CPU seconds of the whole process
 * (CLOCK_PROCESS_CPUTIME_ID: user and system, softirq work done in the
 * process's context included). */
double bench_wall(void);
double bench_cpu(void);
/* CLOCK_MONOTONIC in microseconds: `now` for stacks that run in real time. */
ustk_time bench_usec(void);

typedef struct bench_span {
    double wall0, cpu0;
    double wall, cpu; /* seconds, after bench_span_end() */
} bench_span;

void bench_span_begin(bench_span *s);
void bench_span_end(bench_span *s);

/* ---- runs ------------------------------------------------------------------ */

/* One measured run: the figure and what it was computed from. */
typedef struct bench_run {
    double value;
    double wall, cpu;       /* seconds; cpu includes other_cpu */
    double other_cpu;       /* CPU seconds spent for the run outside this
                               process: the kernel's softirq thread */
    uint64_t bytes, segments, count; /* count: connections, entries... */
} bench_run;

typedef struct bench_runs {
    bench_run r[BENCH_MAX_RUNS];
    unsigned n;
} bench_runs;

void bench_runs_add(bench_runs *rs, const bench_run *r);
/* The run whose value is the median (the lower middle one for an even
 * count), its min and max value. n must be > 0. */
const bench_run *bench_runs_median(const bench_runs *rs);
double bench_runs_min(const bench_runs *rs);
double bench_runs_max(const bench_runs *rs);

/* ---- results --------------------------------------------------------------- */

typedef enum bench_goal {
    BENCH_GOAL_NONE = 0,
    BENCH_GOAL_AT_LEAST, /* value >= target */
    BENCH_GOAL_AT_MOST   /* value <= target */
} bench_goal;

/* One result line: ustack's runs, the kernel's runs (n = 0: none), and
 * up to two targets, one on the value and one on ustack / kernel. */
typedef struct bench_result {
    const char *bench;  /* "bulk" */
    char name[64];      /* "bulk.throughput" */
    const char *unit;   /* "Gbit/s" */
    const char *label;  /* short text for the table */
    bool higher_better;
    bench_runs us, kern;
    bench_goal goal;
    double target;
    bench_goal ratio_goal; /* on ustack / kernel */
    double ratio_target;
    /* Extra "key":value pairs for JSON (already formatted, without the
     * braces, may be empty) and a line for the table (may be empty). */
    char extra_json[512];
    char note[512];
} bench_result;

void bench_result_init(bench_result *r, const char *bench, const char *name,
                       const char *unit, const char *label,
                       bool higher_better);
/* ustack / kernel medians; < 0 when there is no kernel figure. */
double bench_result_ratio(const bench_result *r);
/* 1 met, 0 not met, -1 no target. */
int bench_result_met(const bench_result *r);

typedef struct bench_out {
    bool json;
    FILE *f;
} bench_out;

/* Table: a header once per bench, then one row per result. JSON: one
 * object per result, on one line. */
void bench_print_header(const bench_out *o, const char *title,
                        const char *lines);
void bench_print_result(const bench_out *o, const bench_result *r);
/* A free-form line: in the table as it is, in JSON mode on stderr. */
void bench_print_note(const bench_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- the machine ----------------------------------------------------------- */

/* Pin the calling process to one CPU (cpu < 0: the last one online).
 * Returns the CPU, or -1 when pinning failed (the bench goes on). */
int bench_pin(int cpu);
/* After a bench's own parse(): 2 (bad arguments) also shows the usage on
 * stderr. Returns rc: the exit status when >= 0, -1 to go on. */
int bench_parsed(int rc, void (*usage)(FILE *));
/* What every bench does before its runs: the output form, the runs to do
 * (*runs), the pinned CPU (*cpu), malloc's settings. */
void bench_start(const bench_opts *o, bench_out *out, unsigned *runs,
                 int *cpu);
/* CPU seconds the kernel's softirq thread of this CPU (ksoftirqd/cpu)
 * has used so far, or -1 when it cannot be read. Network work that the
 * kernel defers there is work done for our sockets outside our process. */
double bench_ksoftirqd_cpu(int cpu);
/* The CPU this process runs on. */
int bench_current_cpu(void);
/* Resident set size of this process in bytes (from /proc/self/statm). */
uint64_t bench_rss(void);

/* Run fn(arg, out) in a forked child and copy *out (outlen bytes) back.
 * With netns, the child first moves to a new network namespace with only
 * its loopback up (root only), so kernel sockets start from nothing and
 * whatever they leave (TIME-WAIT entries) goes with the namespace; when
 * that fails the child stays in ours and *in_netns says so. fn returns 0
 * or an error text. Returns NULL, or the error text (fn's, or why the
 * child failed) in a static buffer. */
const char *bench_in_child(const char *(*fn)(void *arg, void *out), void *arg,
                           void *out, size_t outlen, bool netns,
                           bool *in_netns);
/* In a child of bench_in_child: whether it got a network namespace of its
 * own (only then may it change net.* sysctls). */
bool bench_in_own_netns(void);
/* Write a value to a /proc/sys file (in the current network namespace for
 * net.*). Returns 0 or -1. */
int bench_sysctl_write(const char *path, const char *value);

/* ---- a counting allocator -------------------------------------------------- */

/* The core allocates only through config hooks; this one counts what is
 * live. Each block carries a 16-byte header with its size. One counter per
 * stack (pass it as alloc_ctx). */
typedef struct bench_mem {
    uint64_t live_bytes, live_blocks;
    uint64_t total_allocs;
} bench_mem;

void *bench_mem_alloc(void *ctx, size_t n);
void bench_mem_free(void *ctx, void *p);
/* Set cfg's hooks to count into m. */
void bench_mem_hook(ustk_config *cfg, bench_mem *m);

/* ---- formatting ------------------------------------------------------------ */

/* "1", "1k", "100k", "1M": counts for names. */
void bench_fmt_count(char *buf, size_t cap, uint64_t n);

#endif

/* `ustack bench scale`: what a segment costs while many other connections
 * are established and idle. A cost that grows with the crowd (a list walk,
 * a timer structure that scans, a table that degrades) shows here.
 *
 * For each N, a pair of stacks sized for N + 64 sockets holds N idle
 * established connections (never a byte sent, no timer armed) and one
 * more that carries a bulk stream, as in `ustack bench bulk`. All the
 * pairs live in the process at once and the runs go round them in turn,
 * so that a noisy neighbour on the machine weighs on every N alike. The
 * figure is CPU nanoseconds per TCP segment (data and ACKs, both stacks).
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_common.h"
#include "bench_pair.h"

#define SCALE_MAX_SIZES 8
#define SCALE_STREAM_PORT 5000
#define SCALE_PORT0 5001

typedef struct scale_opts {
    bench_opts c;
    uint64_t n[SCALE_MAX_SIZES];
    unsigned nn;
    uint64_t bytes;
} scale_opts;

typedef struct scale_set {
    uint64_t n;
    bench_pair p;
    int ch, sh;
    uint8_t *rbuf;
    uint64_t off;       /* stream offset so far */
    double setup_s;     /* wall seconds to establish the N */
    uint64_t live;      /* bytes both stacks hold */
    bench_runs runs;
} scale_set;

static const char *set_up(scale_set *st, uint64_t n, uint64_t warm)
{
    bench_pair_cfg c;
    unsigned nl = (unsigned)((n + 64511) / 64512), k;
    int l[16], ls;
    ustk_sockaddr to = { USTK_IP4(10, 0, 0, 2), SCALE_STREAM_PORT };
    const char *e;
    bench_span sp;

    memset(st, 0, sizeof *st);
    st->n = n;
    if (nl > 16)
        return "more connections than 16 listeners can take";
    bench_pair_cfg_default(&c);
    c.max_sockets[0] = c.max_sockets[1] = (uint32_t)(n + 64);
    c.eph_lo = 1024;
    c.eph_hi = 65535;
    c.backlog = 1024;
    c.count_mem = true;
    if (bench_pair_create(&st->p, &c, bench_usec()) < 0)
        return "could not create the stacks";
    if (!(st->rbuf = malloc(BENCH_CHUNK)))
        return "out of memory";
    for (k = 0; k < nl; k++)
        if ((l[k] = bench_pair_listen(&st->p, (uint16_t)(SCALE_PORT0 + k),
                                      1024)) < 0)
            return "listen() failed";
    bench_span_begin(&sp);
    if ((e = bench_pair_establish(&st->p, (uint32_t)n, l, nl, SCALE_PORT0,
                                  NULL, NULL)) != NULL)
        return e;
    bench_span_end(&sp);
    st->setup_s = sp.wall;
    /* The stream's own connection, established last. */
    if ((ls = bench_pair_listen(&st->p, SCALE_STREAM_PORT, 1)) < 0)
        return "listen() failed";
    st->p.now = bench_usec();
    if ((st->ch = ustk_open(st->p.s[BENCH_CLIENT], USTK_PROTO_TCP)) < 0 ||
        ustk_connect(st->p.s[BENCH_CLIENT], st->ch, &to, st->p.now) !=
            USTK_EINPROGRESS)
        return "connect() failed";
    bench_pair_exchange(&st->p);
    if ((st->sh = ustk_accept(st->p.s[BENCH_SERVER], ls, NULL)) < 0)
        return "the stream's connection was not established";
    e = bench_pair_stream(&st->p, st->ch, st->sh, st->rbuf, warm, false, 0);
    st->off = warm;
    st->live = st->p.mem[0].live_bytes + st->p.mem[1].live_bytes;
    return e;
}

static const char *set_run(scale_set *st, uint64_t bytes)
{
    bench_run r;
    uint64_t segs0 = bench_pair_segs(&st->p);
    const char *e;
    bench_span sp;

    memset(&r, 0, sizeof r);
    bench_span_begin(&sp);
    e = bench_pair_stream(&st->p, st->ch, st->sh, st->rbuf, bytes, false,
                          st->off);
    bench_span_end(&sp);
    if (e)
        return e;
    st->off += bytes;
    r.bytes = bytes;
    r.segments = bench_pair_segs(&st->p) - segs0;
    r.count = st->n;
    r.wall = sp.wall;
    r.cpu = sp.cpu;
    r.value = r.segments ? sp.cpu * 1e9 / (double)r.segments : 0.0;
    bench_runs_add(&st->runs, &r);
    return NULL;
}

/* ---- command line ---------------------------------------------------------- */

void bench_scale_usage(FILE *f)
{
    fputs("usage: ustack bench scale [options]\n"
          "\n"
          "CPU nanoseconds per TCP segment of a bulk stream between two ustack\n"
          "stacks while N other connections between them are established and\n"
          "idle, for N = 1, 1000, 10000, 100000 and 1000000 (all held at\n"
          "once; the runs go round the sizes in turn). The cost at 100,000\n"
          "over the cost at 1 is the figure to watch. No kernel side.\n"
          "\n"
          "options:\n"
          "  --n N          idle connections (repeatable, up to 8 sizes,\n"
          "                 1..1000000)\n"
          "  --bytes N      bytes streamed per run (default 268435456)\n"
          BENCH_OPTS_USAGE,
          f);
}

static int parse(int argc, char **argv, scale_opts *o)
{
    static const uint64_t full[] = { 1, 1000, 10000, 100000, 1000000 };
    const char *v;
    args a;
    int rc;
    unsigned i;

    memset(o, 0, sizeof *o);
    bench_opts_default(&o->c);
    args_init(&a, "ustack bench scale", argc, argv);
    while (args_next(&a)) {
        if (args_flag(&a, "--help") || args_flag(&a, "-h")) {
            bench_scale_usage(stdout);
            return 0;
        } else if ((rc = bench_opts_parse(&a, &o->c)) != 0) {
            if (rc < 0)
                return 2;
        } else if ((rc = bench_opt_sizes(&a, o->n, &o->nn,
                                         SCALE_MAX_SIZES)) != 0) {
            if (rc < 0)
                return 2;
        } else if ((rc = args_value(&a, "--bytes", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 1 << 20, 1ull << 40, &o->bytes) < 0)
                return 2;
        } else {
            args_unknown(&a);
            return 2;
        }
    }
    if (!o->nn) {
        if (o->c.quick) {
            o->n[o->nn++] = 1;
            o->n[o->nn++] = 1000;
        } else {
            for (i = 0; i < sizeof full / sizeof full[0]; i++)
                o->n[o->nn++] = full[i];
        }
    }
    if (!o->bytes)
        o->bytes = o->c.quick ? 8u << 20 : 256u << 20;
    return -1;
}

int bench_scale_main(int argc, char **argv)
{
    scale_opts o;
    bench_out out;
    scale_set *sets;
    unsigned runs, i, s, base = 0, cmp = 0;
    int rc = parse(argc, argv, &o), cpu;
    const char *e = NULL;

    if (bench_parsed(rc, bench_scale_usage) >= 0)
        return rc;
    bench_start(&o.c, &out, &runs, &cpu);
    sets = calloc(o.nn, sizeof *sets);
    if (!sets) {
        fprintf(stderr, "ustack bench scale: out of memory\n");
        return 1;
    }
    {
        char lines[512];
        snprintf(lines, sizeof lines,
                 "  %llu bytes streamed per run, %u runs per size, the sizes "
                 "in turn; pinned to CPU %d\n"
                 "  figure: CPU ns per TCP segment (data and ACKs of both "
                 "stacks)\n",
                 (unsigned long long)o.bytes, runs, cpu);
        bench_print_header(&out,
                           "ustack bench scale: cost per segment among idle "
                           "connections",
                           lines);
    }
    for (s = 0; s < o.nn && !e; s++)
        e = set_up(&sets[s], o.n[s], o.c.quick ? 2u << 20 : 16u << 20);
    for (i = 0; i < runs && !e; i++)
        for (s = 0; s < o.nn && !e; s++)
            e = set_run(&sets[s], o.bytes);
    if (e) {
        fprintf(stderr, "ustack bench scale: %s\n", e);
        for (s = 0; s < o.nn; s++) {
            bench_pair_destroy(&sets[s].p);
            free(sets[s].rbuf);
        }
        free(sets);
        return 1;
    }
    /* The base is the smallest N; the comparison the largest N up to
     * 100,000 (the target's), or the largest there is. */
    for (s = 0; s < o.nn; s++) {
        if (o.n[s] < o.n[base])
            base = s;
    }
    for (s = 0; s < o.nn; s++)
        if (o.n[s] <= 100000 && (o.n[cmp] > 100000 || o.n[s] > o.n[cmp]))
            cmp = s;
    for (s = 0; s < o.nn; s++) {
        bench_result r;
        char nm[16];
        double ratio = bench_runs_median(&sets[s].runs)->value /
                       bench_runs_median(&sets[base].runs)->value;
        bench_fmt_count(nm, sizeof nm, o.n[s]);
        bench_result_init(&r, "scale", "", "ns/segment",
                          "CPU per segment with N idle connections", false);
        snprintf(r.name, sizeof r.name, "scale.ns_per_segment.%s", nm);
        r.us = sets[s].runs;
        snprintf(r.extra_json, sizeof r.extra_json,
                 "\"n\":%llu,\"vs_smallest\":%.3f,\"setup_s\":%.2f,"
                 "\"live_bytes\":%llu",
                 (unsigned long long)o.n[s], ratio, sets[s].setup_s,
                 (unsigned long long)sets[s].live);
        snprintf(r.note, sizeof r.note,
                 "%.3fx the cost with %llu; %llu connections set up in %.2f "
                 "s; both stacks hold %.1f MB",
                 ratio, (unsigned long long)o.n[base],
                 (unsigned long long)o.n[s], sets[s].setup_s,
                 (double)sets[s].live / 1e6);
        bench_print_result(&out, &r);
    }
    {
        bench_result r;
        char a[16], b[16];
        bench_fmt_count(a, sizeof a, o.n[cmp]);
        bench_fmt_count(b, sizeof b, o.n[base]);
        bench_result_init(&r, "scale", "scale.cost_ratio", "x",
                          "cost per segment at the larger N over the "
                          "smallest, run by run",
                          false);
        r.goal = BENCH_GOAL_AT_MOST;
        r.target = 1.2;
        for (i = 0; i < runs; i++) {
            bench_run x = sets[cmp].runs.r[i];
            x.value /= sets[base].runs.r[i].value;
            bench_runs_add(&r.us, &x);
        }
        snprintf(r.extra_json, sizeof r.extra_json,
                 "\"n\":%llu,\"base_n\":%llu", (unsigned long long)o.n[cmp],
                 (unsigned long long)o.n[base]);
        snprintf(r.note, sizeof r.note,
                 "ns per segment with %s idle connections over ns per "
                 "segment with %s",
                 a, b);
        bench_print_result(&out, &r);
    }
    for (s = 0; s < o.nn; s++) {
        bench_pair_destroy(&sets[s].p);
        free(sets[s].rbuf);
    }
    free(sets);
    return 0;
}

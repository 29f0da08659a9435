/* `ustack bench conn`: connection churn between two ustack stacks in one
 * process on one core, next to the same loop over kernel sockets on
 * 127.0.0.1 (same core, a network namespace of its own).
 *
 * One connection: connect, accept, one byte each way, the server closes
 * first (so its end goes to TIME-WAIT), the client reads the end of the
 * stream and closes (its end goes through LAST-ACK to CLOSED). Nothing is
 * batched: each connection is done before the next starts, on both sides.
 *
 * TIME-WAIT is 2 MSL, 60 s on both sides, so no entry expires during a
 * run: the base figure starts from none and ends with `count` entries;
 * the second starts with 100,000 already there (made by the same loop,
 * not timed). ustack's clock is virtual (1 µs per connection), which
 * changes nothing but keeps the entries from expiring; the time it takes
 * to expire them all at once is measured afterwards and printed with
 * ustack's base figure.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_common.h"
#include "bench_kern.h"
#include "bench_pair.h"

#define CONN_PORT0 5001
#define CONN_PORTS 5 /* prime to the 64512 client ports: no tuple repeats */

typedef struct conn_opts {
    bench_opts c;
    uint64_t count, tw;
} conn_opts;

typedef struct conn_out {
    bench_run run;
    uint64_t tw_after;      /* TIME-WAIT entries on the server at the end */
    double reap_ns;         /* CPU per TIME-WAIT entry expired */
    double tw_bytes;        /* live bytes per TIME-WAIT entry */
} conn_out;

static const char *churn(bench_pair *p, const int *l, uint64_t i)
{
    unsigned k = (unsigned)(i % CONN_PORTS);

    p->now++;
    return bench_pair_churn_one(p, l[k], (uint16_t)(CONN_PORT0 + k));
}

static const char *us_conn(uint64_t count, uint64_t prefill, bool reap,
                           conn_out *out)
{
    bench_pair_cfg c;
    bench_pair p;
    int l[CONN_PORTS];
    uint64_t i, segs0, base_bytes;
    const char *e = NULL;
    bench_span sp;
    unsigned k;

    memset(out, 0, sizeof *out);
    bench_pair_cfg_default(&c);
    c.max_sockets[BENCH_CLIENT] = 64;
    /* The server's ends in TIME-WAIT become compact records (up to
     * max_time_wait of them, outside max_sockets); room for the full
     * blocks too, should the records run out. */
    c.max_sockets[BENCH_SERVER] = (uint32_t)(count + prefill + 64);
    c.max_time_wait[BENCH_SERVER] = (uint32_t)(count + prefill + 64);
    c.eph_lo = 1024;
    c.eph_hi = 65535;
    c.count_mem = true;
    if (bench_pair_create(&p, &c, 1) < 0)
        return "could not create the stacks";
    for (k = 0; k < CONN_PORTS; k++)
        if ((l[k] = bench_pair_listen(&p, (uint16_t)(CONN_PORT0 + k), 128)) <
            0) {
            bench_pair_destroy(&p);
            return "listen() failed";
        }
    /* Memory is compared without the buffers a stack keeps for reuse. */
    ustk_stack_trim(p.s[BENCH_SERVER]);
    ustk_stack_trim(p.s[BENCH_CLIENT]);
    base_bytes = p.mem[BENCH_SERVER].live_bytes;
    for (i = 0; i < prefill && !e; i++)
        e = churn(&p, l, i);
    segs0 = bench_pair_segs(&p);
    bench_span_begin(&sp);
    for (i = 0; i < count && !e; i++)
        e = churn(&p, l, prefill + i);
    bench_span_end(&sp);
    if (!e) {
        out->run.count = count;
        out->run.segments = bench_pair_segs(&p) - segs0;
        out->run.wall = sp.wall;
        out->run.cpu = sp.cpu;
        out->run.value = (double)count / sp.cpu;
        /* Every server end is in TIME-WAIT: a compact record or, when
         * the records ran out, a full block (besides the listeners). */
        ustk_stack_stats st;
        ustk_stack_trim(p.s[BENCH_SERVER]);
        ustk_stack_trim(p.s[BENCH_CLIENT]);
        ustk_stack_stats_get(p.s[BENCH_SERVER], &st);
        out->tw_after = prefill + count;
        if (st.tcp_time_wait + st.tcp_connections !=
            out->tw_after + CONN_PORTS)
            e = "the server's ends are not all in TIME-WAIT";
        out->tw_bytes = (double)(p.mem[BENCH_SERVER].live_bytes - base_bytes) /
                        (double)out->tw_after;
        if (!e && p.mem[BENCH_CLIENT].live_blocks > 64)
            e = "the client's ends were not all freed";
    }
    if (!e && reap) {
        /* Expire every TIME-WAIT entry: 2 MSL later, one poll. */
        uint8_t *buf = p.frame[BENCH_SERVER];
        size_t len;
        p.now += 2 * ustk_stack_config(p.s[BENCH_SERVER])->msl + 1;
        bench_span_begin(&sp);
        while (ustk_poll_output(p.s[BENCH_SERVER], p.now, buf, p.frame_cap,
                                &len) == 0)
            ;
        bench_span_end(&sp);
        ustk_stack_stats st;
        ustk_stack_stats_get(p.s[BENCH_SERVER], &st);
        if (st.tcp_time_wait || st.tcp_connections != CONN_PORTS)
            e = "TIME-WAIT entries were left after 2 MSL";
        else if (out->tw_after)
            out->reap_ns = sp.cpu * 1e9 / (double)out->tw_after;
    }
    bench_pair_destroy(&p);
    return e;
}

/* ---- command line ---------------------------------------------------------- */

void bench_conn_usage(FILE *f)
{
    fputs("usage: ustack bench conn [options]\n"
          "\n"
          "Connection churn between two ustack stacks in this process, on one\n"
          "core: connect, accept, one byte each way, the server closes first\n"
          "(its end stays in TIME-WAIT, 2 MSL = 60 s), the client closes. The\n"
          "kernel's side runs the same loop over sockets on 127.0.0.1, same\n"
          "core, in a network namespace of its own that keeps every TIME-WAIT\n"
          "entry. Two figures: from no TIME-WAIT entry, and with --tw entries\n"
          "already there. Rates are connections per CPU second (the process,\n"
          "plus the kernel's softirq thread on that core); wall time is\n"
          "printed too. Runs alternate between ustack and the kernel.\n"
          "\n"
          "options:\n"
          "  --count N      connections per run, 1..10000000 (default 100000)\n"
          "  --tw N         TIME-WAIT entries before the second figure,\n"
          "                 0..10000000 (default 100000)\n" BENCH_OPTS_USAGE,
          f);
}

static int parse(int argc, char **argv, conn_opts *o)
{
    const char *v;
    args a;
    int rc;
    bool tw_set = false;

    memset(o, 0, sizeof *o);
    bench_opts_default(&o->c);
    args_init(&a, "ustack bench conn", argc, argv);
    while (args_next(&a)) {
        if (args_flag(&a, "--help") || args_flag(&a, "-h")) {
            bench_conn_usage(stdout);
            return 0;
        } else if ((rc = bench_opts_parse(&a, &o->c)) != 0) {
            if (rc < 0)
                return 2;
        } else if ((rc = args_value(&a, "--count", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 1, 10000000, &o->count) < 0)
                return 2;
        } else if ((rc = args_value(&a, "--tw", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 0, 10000000, &o->tw) < 0)
                return 2;
            tw_set = true;
        } else {
            args_unknown(&a);
            return 2;
        }
    }
    if (!o->count)
        o->count = o->c.quick ? 2000 : 100000;
    if (!tw_set)
        o->tw = o->c.quick ? 2000 : 100000;
    return -1;
}

static void fill_extra(bench_result *r, uint64_t tw_before,
                       uint64_t us_tw_after, uint64_t k_tw_after,
                       bool netns)
{
    const bench_run *m = bench_runs_median(&r->us);
    int n = snprintf(r->extra_json, sizeof r->extra_json,
                     "\"tw_before\":%llu,\"tw_after\":%llu,"
                     "\"segments_per_conn\":%.2f,\"wall_rate\":%.0f",
                     (unsigned long long)tw_before,
                     (unsigned long long)us_tw_after,
                     m->count ? (double)m->segments / (double)m->count : 0.0,
                     m->wall > 0 ? (double)m->count / m->wall : 0.0);

    if (r->kern.n) {
        const bench_run *k = bench_runs_median(&r->kern);
        snprintf(r->extra_json + n, sizeof r->extra_json - (size_t)n,
                 ",\"kernel_tw_after\":%llu,\"kernel_segments_per_conn\":%.2f,"
                 "\"kernel_wall_rate\":%.0f,\"kernel_netns\":%s",
                 (unsigned long long)k_tw_after,
                 k->count ? (double)k->segments / (double)k->count : 0.0,
                 k->wall > 0 ? (double)k->count / k->wall : 0.0,
                 netns ? "true" : "false");
    }
}

int bench_conn_main(int argc, char **argv)
{
    conn_opts o;
    bench_out out;
    bench_result r[2];
    unsigned runs, i, v;
    int rc = parse(argc, argv, &o), cpu, failed = 0;
    bool netns = false;
    uint64_t us_tw[2] = { 0, 0 }, k_tw[2] = { 0, 0 };
    double reap = 0, tw_bytes = 0;
    const char *e;

    if (bench_parsed(rc, bench_conn_usage) >= 0)
        return rc;
    bench_start(&o.c, &out, &runs, &cpu);
    {
        char lines[512];
        snprintf(lines, sizeof lines,
                 "  %llu connections per run, %u runs each side, alternating; "
                 "pinned to CPU %d\n"
                 "  each: connect, accept, 1 byte each way, server closes "
                 "first (TIME-WAIT), client closes\n",
                 (unsigned long long)o.count, runs, cpu);
        bench_print_header(&out, "ustack bench conn: connection churn, one core",
                           lines);
    }
    bench_result_init(&r[0], "conn", "conn.rate", "conn/s",
                      "connections per CPU second, from no TIME-WAIT entry",
                      true);
    r[0].goal = BENCH_GOAL_AT_LEAST;
    r[0].target = 1.5e6;
    {
        char tw[16];
        bench_fmt_count(tw, sizeof tw, o.tw);
        bench_result_init(&r[1], "conn", "conn.rate_tw", "conn/s",
                          "connections per CPU second while TIME-WAIT "
                          "entries sit there",
                          true);
        snprintf(r[1].name, sizeof r[1].name, "conn.rate_tw%s", tw);
    }
    r[1].goal = BENCH_GOAL_AT_LEAST;
    r[1].target = 1e6;
    for (i = 0; i < runs; i++) {
        for (v = 0; v < 2; v++) {
            uint64_t pre = v ? o.tw : 0;
            conn_out co;
            if ((e = us_conn(o.count, pre, v == 0 && i == 0, &co)) != NULL) {
                fprintf(stderr, "ustack bench conn: ustack: %s\n", e);
                return 1;
            }
            bench_runs_add(&r[v].us, &co.run);
            us_tw[v] = co.tw_after;
            if (v == 0 && i == 0) {
                reap = co.reap_ns;
                tw_bytes = co.tw_bytes;
            }
            if (o.c.kernel && !failed) {
                kern_conn_arg ka = { o.count, pre, CONN_PORTS };
                kern_conn_out ko;
                e = bench_in_child(kern_conn, &ka, &ko, sizeof ko, true,
                                   &netns);
                if (e) {
                    fprintf(stderr, "ustack bench conn: kernel: %s\n", e);
                    failed = 1;
                } else {
                    bench_runs_add(&r[v].kern, &ko.run);
                    k_tw[v] = ko.tw_after;
                }
            }
        }
    }
    for (v = 0; v < 2; v++) {
        fill_extra(&r[v], v ? o.tw : 0, us_tw[v], k_tw[v], netns);
        snprintf(r[v].note, sizeof r[v].note,
                 "TIME-WAIT entries at the end of a run: ustack %llu, kernel "
                 "%llu",
                 (unsigned long long)us_tw[v], (unsigned long long)k_tw[v]);
    }
    {
        size_t n = strlen(r[0].extra_json);
        snprintf(r[0].extra_json + n, sizeof r[0].extra_json - n,
                 ",\"tw_reap_ns\":%.1f,\"tw_entry_bytes\":%.1f", reap,
                 tw_bytes);
        n = strlen(r[0].note);
        snprintf(r[0].note + n, sizeof r[0].note - n,
                 "; ustack expires them at %.0f ns CPU each, holding %.0f "
                 "bytes each until then",
                 reap, tw_bytes);
    }
    bench_print_result(&out, &r[0]);
    bench_print_result(&out, &r[1]);
    return 0;
}

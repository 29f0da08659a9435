/* `ustack bench mem`: what a connection costs in memory.
 *
 * ustack's figures come from a counting allocator passed to both stacks
 * (ustk_config alloc/free): the bytes the stack asked for and still holds.
 * An endpoint's share of the tables the stack sizes at creation for
 * max_sockets (handle slots, hash buckets, timer slots) is counted with
 * it, since those grow with the connections the stack is made for. The
 * resident set size of the process is printed as a cross-check (it also
 * holds malloc's own overhead and the allocator's 16-byte header per
 * block). Each measurement runs in a fresh child process.
 *
 * The kernel's figures: the growth of its slab caches (active objects
 * times object size, all caches) for the same connections over
 * 127.0.0.1, both ends in one process, in a network namespace of its own.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_common.h"
#include "bench_kern.h"
#include "bench_pair.h"

#define MEM_PORT0 5001
#define MEM_MAX_SIZES 8

typedef struct mem_opts {
    bench_opts c;
    uint64_t n[MEM_MAX_SIZES];
    unsigned nn;
    uint64_t tw, data;
} mem_opts;

/* What a child measured. */
typedef struct mem_out {
    double endpoint;        /* bytes per endpoint, tables included */
    double endpoint_tcb;    /* bytes per endpoint, connection alone */
    double tables;          /* bytes per endpoint in the tables */
    double blocks;          /* allocations per endpoint */
    double rss;             /* RSS growth per endpoint */
    double wall, cpu;       /* to set up */
    uint64_t count;
} mem_out;

typedef enum { MEM_IDLE, MEM_AFTER_DATA, MEM_TIME_WAIT } mem_kind;

typedef struct mem_arg {
    mem_kind kind;
    uint64_t n;
} mem_arg;

static double sum_live(const bench_pair *p)
{
    return (double)(p->mem[0].live_bytes + p->mem[1].live_bytes);
}

static const char *exchange_byte(bench_pair *p, int ch, int sh)
{
    uint8_t b = 'x';

    if (ustk_send(p->s[BENCH_CLIENT], ch, &b, 1, p->now) != 1)
        return "the client could not send";
    bench_pair_exchange(p);
    if (ustk_recv(p->s[BENCH_SERVER], sh, &b, 1, p->now) != 1 ||
        ustk_send(p->s[BENCH_SERVER], sh, &b, 1, p->now) != 1)
        return "the server could not echo";
    bench_pair_exchange(p);
    if (ustk_recv(p->s[BENCH_CLIENT], ch, &b, 1, p->now) != 1)
        return "the client received nothing";
    return NULL;
}

/* In the child: n connections, idle (never a byte), or after one byte
 * each way (read, so the buffers are empty), or churned into TIME-WAIT. */
static const char *mem_child(void *argp, void *outp)
{
    const mem_arg *a = argp;
    mem_out *o = outp;
    uint64_t n = a->n, i;
    bench_pair_cfg c;
    bench_pair p;
    int l[16], *cs = NULL, *ss = NULL;
    unsigned nl = (unsigned)((n + 64511) / 64512), k;
    double live0, live1, tables;
    uint64_t rss0, rss1, blocks0;
    const char *e = NULL;
    bench_span sp;

    memset(o, 0, sizeof *o);
    if (nl > 16)
        return "more connections than 16 listeners can take";
    if (a->kind != MEM_TIME_WAIT) {
        cs = malloc(n * sizeof *cs);
        ss = malloc(n * sizeof *ss);
        if (!cs || !ss)
            return "out of memory";
        memset(cs, 0, n * sizeof *cs);
        memset(ss, 0, n * sizeof *ss);
    }
    bench_pair_cfg_default(&c);
    c.max_sockets[0] = c.max_sockets[1] = (uint32_t)(n + 64);
    if (a->kind == MEM_TIME_WAIT) {
        /* The server holds its ends as TIME-WAIT records, which the
         * stack keeps besides max_sockets: size it for the records, not
         * for blocks it will not need. */
        c.max_sockets[0] = c.max_sockets[1] = 64;
        c.max_time_wait[BENCH_SERVER] = (uint32_t)(n + 64);
    }
    c.eph_lo = 1024;
    c.eph_hi = 65535;
    c.backlog = 1024;
    c.count_mem = true;
    /* The child inherits the parent's heap, freed memory included (the
     * benches ask malloc to keep it): give that back first, or the
     * connections would fill pages already resident and the RSS would not
     * show them. */
    malloc_trim(0);
    rss0 = bench_rss();
    if (bench_pair_create(&p, &c, 1) < 0)
        return "could not create the stacks";
    for (k = 0; k < (a->kind == MEM_TIME_WAIT ? 5u : nl); k++)
        if ((l[k] = bench_pair_listen(&p, (uint16_t)(MEM_PORT0 + k), 1024)) <
            0)
            return "listen() failed";
    /* Memory is compared without the buffers a stack keeps for reuse. */
    ustk_stack_trim(p.s[0]);
    ustk_stack_trim(p.s[1]);
    live0 = sum_live(&p);
    blocks0 = p.mem[0].live_blocks + p.mem[1].live_blocks;
    tables = live0;
    bench_span_begin(&sp);
    if (a->kind == MEM_TIME_WAIT) {
        for (i = 0; i < n && !e; i++) {
            p.now++;
            e = bench_pair_churn_one(&p, l[i % 5],
                                     (uint16_t)(MEM_PORT0 + i % 5));
        }
    } else {
        e = bench_pair_establish(&p, (uint32_t)n, l, nl, MEM_PORT0, cs, ss);
        for (i = 0; i < n && !e && a->kind == MEM_AFTER_DATA; i++)
            e = exchange_byte(&p, cs[i], ss[i]);
    }
    bench_span_end(&sp);
    if (e)
        return e;
    ustk_stack_trim(p.s[0]);
    ustk_stack_trim(p.s[1]);
    live1 = sum_live(&p);
    rss1 = bench_rss();
    o->count = n;
    o->wall = sp.wall;
    o->cpu = sp.cpu;
    if (a->kind == MEM_TIME_WAIT) {
        /* Only the server's ends remain: one TIME-WAIT entry each. */
        o->endpoint_tcb = (live1 - live0) / (double)n;
        o->blocks = (double)(p.mem[0].live_blocks + p.mem[1].live_blocks -
                             blocks0) /
                    (double)n;
        /* The server's tables are sized for the entries it must hold. */
        o->tables = (double)p.mem[BENCH_SERVER].live_bytes / (double)n -
                    (live1 - live0) / (double)n;
        if (o->tables < 0)
            o->tables = 0;
        o->endpoint = (double)p.mem[BENCH_SERVER].live_bytes / (double)n;
        o->rss = ((double)rss1 - (double)rss0) / (double)n;
    } else {
        o->endpoint_tcb = (live1 - live0) / (2.0 * (double)n);
        o->tables = tables / (2.0 * (double)n);
        o->endpoint = live1 / (2.0 * (double)n);
        o->blocks = (double)(p.mem[0].live_blocks + p.mem[1].live_blocks -
                             blocks0) /
                    (2.0 * (double)n);
        o->rss = ((double)rss1 - (double)rss0) / (2.0 * (double)n);
    }
    /* The child exits right after: freeing a million connections one by
     * one would only cost time. */
    return NULL;
}

/* ---- command line ---------------------------------------------------------- */

void bench_mem_usage(FILE *f)
{
    fputs("usage: ustack bench mem [options]\n"
          "\n"
          "Bytes per idle established connection endpoint (the connection\n"
          "between two ustack stacks in one process; never a byte sent, and\n"
          "again after one byte each way, read, so that the buffers are\n"
          "empty), and per TIME-WAIT entry. ustack's figures are what the\n"
          "stack holds through its allocator hooks, tables sized for the\n"
          "connections included; the process's RSS growth is printed with\n"
          "them. The kernel's: slab growth per socket for the same\n"
          "connections on 127.0.0.1 (both ends in one process; up to about\n"
          "500,000, as each end takes a file descriptor).\n"
          "\n"
          "options:\n"
          "  --n N          connections (repeatable, up to 8 sizes; default\n"
          "                 100000 and 1000000)\n"
          "  --tw N         TIME-WAIT entries (default 100000)\n"
          "  --data N       connections for the after-data figure (default\n"
          "                 100000, as the first idle figure)\n" BENCH_OPTS_USAGE,
          f);
}

static int parse(int argc, char **argv, mem_opts *o)
{
    const char *v;
    args a;
    int rc;

    memset(o, 0, sizeof *o);
    bench_opts_default(&o->c);
    args_init(&a, "ustack bench mem", argc, argv);
    while (args_next(&a)) {
        if (args_flag(&a, "--help") || args_flag(&a, "-h")) {
            bench_mem_usage(stdout);
            return 0;
        } else if ((rc = bench_opts_parse(&a, &o->c)) != 0) {
            if (rc < 0)
                return 2;
        } else if ((rc = bench_opt_sizes(&a, o->n, &o->nn, MEM_MAX_SIZES)) !=
                   0) {
            if (rc < 0)
                return 2;
        } else if ((rc = args_value(&a, "--tw", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 1, 1000000, &o->tw) < 0)
                return 2;
        } else if ((rc = args_value(&a, "--data", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 1, 100000, &o->data) < 0)
                return 2;
        } else {
            args_unknown(&a);
            return 2;
        }
    }
    if (!o->nn) {
        o->n[o->nn++] = o->c.quick ? 1000 : 100000;
        o->n[o->nn++] = o->c.quick ? 10000 : 1000000;
    }
    if (!o->tw)
        o->tw = o->c.quick ? 2000 : 100000;
    if (!o->data)
        o->data = o->c.quick ? 1000 : 100000;
    return -1;
}

static void us_run(const mem_out *m, bench_run *r)
{
    memset(r, 0, sizeof *r);
    r->value = m->endpoint;
    r->count = m->count;
    r->bytes = (uint64_t)(m->endpoint * (double)m->count);
    r->wall = m->wall;
    r->cpu = m->cpu;
}

static void print_us_extra(bench_result *r, const mem_out *m)
{
    int n = snprintf(r->extra_json, sizeof r->extra_json,
                     "\"n\":%llu,\"connection_bytes\":%.1f,"
                     "\"table_bytes\":%.1f,\"blocks\":%.2f,\"rss_bytes\":%.1f",
                     (unsigned long long)m->count, m->endpoint_tcb, m->tables,
                     m->blocks, m->rss);
    (void)n;
    snprintf(r->note, sizeof r->note,
             "ustack: %.0f bytes for the connection + %.0f in tables, %.2f "
             "allocations; RSS grew %.0f bytes per endpoint",
             m->endpoint_tcb, m->tables, m->blocks, m->rss);
}

static void add_kern_extra(bench_result *r, const kern_mem_out *k, bool netns,
                           const char *what)
{
    size_t n = strlen(r->extra_json);

    snprintf(r->extra_json + n, sizeof r->extra_json - n,
             ",\"kernel_meminfo_slab_bytes\":%.1f,\"kernel_tcp_obj\":%.0f,"
             "\"kernel_tw_obj\":%.0f,\"kernel_netns\":%s",
             k->endpoint_meminfo, k->tcp_obj, k->tw_obj,
             netns ? "true" : "false");
    n = strlen(r->note);
    snprintf(r->note + n, sizeof r->note - n,
             "; kernel: %s (object sizes: TCP %.0f, tw_sock_TCP %.0f)", what,
             k->tcp_obj, k->tw_obj);
}

int bench_mem_main(int argc, char **argv)
{
    mem_opts o;
    bench_out out;
    unsigned runs, i, s;
    int rc = parse(argc, argv, &o), cpu;
    bool netns = false;
    const char *e;
    bench_runs k_idle, k_after, k_tw; /* the kernel's, at kn */
    uint64_t kn = 0;
    bool kern = false;

    if (bench_parsed(rc, bench_mem_usage) >= 0)
        return rc;
    bench_start(&o.c, &out, &runs, &cpu);
    memset(&k_idle, 0, sizeof k_idle);
    memset(&k_after, 0, sizeof k_after);
    memset(&k_tw, 0, sizeof k_tw);
    {
        char lines[512];
        snprintf(lines, sizeof lines,
                 "  ustack: live bytes through the allocator hooks, tables "
                 "included; %u runs each (each in a fresh process); "
                 "CPU %d\n"
                 "  kernel: slab growth (active objects x size) over "
                 "127.0.0.1, both ends in one process\n",
                 runs, cpu);
        bench_print_header(&out, "ustack bench mem: memory per connection",
                           lines);
    }
    /* The kernel's figures hardly depend on N (a socket is a few slab
     * objects); they are measured once, at the first N or the largest N
     * this process may open descriptors for, whichever is smaller. */
    if (o.c.kernel) {
        kn = kern_mem_max_n();
        if (kn > o.n[0])
            kn = o.n[0];
        kern = kn > 0;
    }
    /* Idle established endpoints, for each size. */
    for (s = 0; s < o.nn; s++) {
        bench_result r;
        mem_out m;
        char nm[16];
        kern_mem_out km;

        bench_fmt_count(nm, sizeof nm, o.n[s]);
        bench_result_init(&r, "mem", "", "bytes",
                          "per idle established endpoint, never a byte sent",
                          false);
        snprintf(r.name, sizeof r.name, "mem.endpoint.%s", nm);
        r.goal = BENCH_GOAL_AT_MOST;
        r.target = 192;
        memset(&km, 0, sizeof km);
        for (i = 0; i < runs; i++) {
            mem_arg a = { MEM_IDLE, o.n[s] };
            bench_run run;
            if ((e = bench_in_child(mem_child, &a, &m, sizeof m, false,
                                    NULL)) != NULL) {
                fprintf(stderr, "ustack bench mem: ustack, %s: %s\n", nm, e);
                return 1;
            }
            us_run(&m, &run);
            bench_runs_add(&r.us, &run);
            if (kern && s == 0) {
                kern_mem_arg ka = { kn };
                e = bench_in_child(kern_mem, &ka, &km, sizeof km, true,
                                   &netns);
                if (e) {
                    fprintf(stderr, "ustack bench mem: kernel, %s: %s\n", nm,
                            e);
                    kern = false;
                } else {
                    memset(&run, 0, sizeof run);
                    run.value = km.endpoint_bytes;
                    run.count = kn;
                    run.wall = km.wall;
                    run.cpu = km.cpu;
                    bench_runs_add(&k_idle, &run);
                    run.value = km.after_data_bytes;
                    bench_runs_add(&k_after, &run);
                    run.value = km.tw_bytes;
                    bench_runs_add(&k_tw, &run);
                }
            }
        }
        print_us_extra(&r, &m);
        if (k_idle.n) {
            char kns[16];
            r.kern = k_idle;
            bench_fmt_count(kns, sizeof kns, kn);
            if (s == 0)
                add_kern_extra(&r, &km, netns, "slab growth per socket");
            snprintf(r.note + strlen(r.note), sizeof r.note - strlen(r.note),
                     "; kernel measured with %s connections (2 descriptors "
                     "each, within RLIMIT_NOFILE)",
                     kns);
        }
        bench_print_result(&out, &r);
        if (o.n[s] >= 1000000) {
            bench_result c;
            bench_result_init(&c, "mem", "mem.established_connections",
                              "connections",
                              "established connections held in one process",
                              true);
            c.goal = BENCH_GOAL_AT_LEAST;
            c.target = 1e6;
            for (i = 0; i < r.us.n; i++) {
                bench_run run = r.us.r[i];
                run.value = (double)run.count;
                bench_runs_add(&c.us, &run);
            }
            snprintf(c.note, sizeof c.note,
                     "two stacks, %llu connections, both ends in this "
                     "process: set up in %.1f s",
                     (unsigned long long)o.n[s],
                     bench_runs_median(&r.us)->wall);
            bench_print_result(&out, &c);
        }
    }
    /* After one byte each way: the buffers are empty again. */
    {
        bench_result r;
        mem_out m;
        bench_result_init(&r, "mem", "mem.endpoint_after_data", "bytes",
                          "per idle endpoint after one byte each way, read "
                          "(empty buffers)",
                          false);
        r.goal = BENCH_GOAL_AT_MOST;
        r.target = 192;
        for (i = 0; i < runs; i++) {
            mem_arg a = { MEM_AFTER_DATA, o.data };
            bench_run run;
            if ((e = bench_in_child(mem_child, &a, &m, sizeof m, false,
                                    NULL)) != NULL) {
                fprintf(stderr, "ustack bench mem: ustack, after data: %s\n",
                        e);
                return 1;
            }
            us_run(&m, &run);
            bench_runs_add(&r.us, &run);
        }
        print_us_extra(&r, &m);
        if (k_after.n) {
            char nm[16];
            r.kern = k_after;
            bench_fmt_count(nm, sizeof nm, kn);
            snprintf(r.note + strlen(r.note), sizeof r.note - strlen(r.note),
                     "; kernel: slab growth per socket, %s connections",
                     nm);
        }
        bench_print_result(&out, &r);
    }
    /* TIME-WAIT entries. */
    {
        bench_result r;
        mem_out m;
        bench_result_init(&r, "mem", "mem.time_wait_entry", "bytes",
                          "per TIME-WAIT entry (the server closed first)",
                          false);
        r.goal = BENCH_GOAL_AT_MOST;
        r.target = 64;
        for (i = 0; i < runs; i++) {
            mem_arg a = { MEM_TIME_WAIT, o.tw };
            bench_run run;
            if ((e = bench_in_child(mem_child, &a, &m, sizeof m, false,
                                    NULL)) != NULL) {
                fprintf(stderr, "ustack bench mem: ustack, TIME-WAIT: %s\n",
                        e);
                return 1;
            }
            us_run(&m, &run);
            bench_runs_add(&r.us, &run);
        }
        print_us_extra(&r, &m);
        if (k_tw.n) {
            char nm[16];
            r.kern = k_tw;
            bench_fmt_count(nm, sizeof nm, kn);
            snprintf(r.note + strlen(r.note), sizeof r.note - strlen(r.note),
                     "; kernel: growth of its TIME-WAIT cache (tw_sock_TCP) "
                     "per entry, %s entries",
                     nm);
        }
        bench_print_result(&out, &r);
    }
    return 0;
}

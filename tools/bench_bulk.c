/* `ustack bench bulk`: one bulk stream between two ustack stacks in one
 * process, on one core, next to the same volume over a kernel TCP socket
 * pair on 127.0.0.1.
 *
 * ustack's side is the whole path an application pays for: ustk_send()
 * copies from the application's buffer into the send ring, the sender
 * builds each segment (copying from the ring, computing the TCP and IP
 * checksums), the frame goes over the zero-copy wire of bench_pair, the
 * receiver verifies both checksums and copies the payload into its receive
 * ring, and ustk_recv() copies it out to the application's buffer. The
 * clock is the real one (CLOCK_MONOTONIC), so timers behave as they would
 * in a deployment; nothing limits the rate but the stacks.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_common.h"
#include "bench_kern.h"
#include "bench_pair.h"

#define BULK_PORT 5001

typedef struct bulk_opts {
    bench_opts c;
    uint64_t bytes, buf, mtu, batch;
    bool ethernet, verify;
} bulk_opts;

typedef struct bulk_state {
    bench_pair p;
    int ch, sh;
    uint8_t *rbuf;
} bulk_state;

static const char *bulk_setup(const bulk_opts *o, bulk_state *b)
{
    bench_pair_cfg c;
    ustk_sockaddr to = { USTK_IP4(10, 0, 0, 2), BULK_PORT };
    int l;

    bench_pair_cfg_default(&c);
    c.max_sockets[0] = c.max_sockets[1] = 8;
    c.buf = (uint32_t)o->buf;
    c.mtu = (uint16_t)o->mtu;
    c.ethernet = o->ethernet;
    c.batch = (uint32_t)o->batch;
    memset(b, 0, sizeof *b);
    if (bench_pair_create(&b->p, &c, bench_usec()) < 0)
        return "could not create the stacks";
    if (!(b->rbuf = malloc(BENCH_CHUNK)))
        return "out of memory";
    if ((l = bench_pair_listen(&b->p, BULK_PORT, 1)) < 0)
        return "listen() failed";
    if ((b->ch = ustk_open(b->p.s[BENCH_CLIENT], USTK_PROTO_TCP)) < 0 ||
        ustk_connect(b->p.s[BENCH_CLIENT], b->ch, &to, b->p.now) !=
            USTK_EINPROGRESS)
        return "connect() failed";
    bench_pair_exchange(&b->p);
    if ((b->sh = ustk_accept(b->p.s[BENCH_SERVER], l, NULL)) < 0)
        return "the connection was not established";
    return NULL;
}

static void bulk_teardown(bulk_state *b)
{
    bench_pair_destroy(&b->p);
    free(b->rbuf);
}

static const char *us_bulk(const bulk_opts *o, bench_run *out)
{
    bulk_state b;
    const char *e;
    uint64_t segs0;
    bench_span sp;

    memset(out, 0, sizeof *out);
    e = bulk_setup(o, &b);
    if (!e) {
        /* Warm up: slow start, the rings touched once. */
        e = bench_pair_stream(&b.p, b.ch, b.sh, b.rbuf, 4u << 20, o->verify,
                              0);
    }
    if (!e) {
        segs0 = bench_pair_segs(&b.p);
        bench_span_begin(&sp);
        e = bench_pair_stream(&b.p, b.ch, b.sh, b.rbuf, o->bytes, o->verify,
                              4u << 20);
        bench_span_end(&sp);
        out->bytes = o->bytes;
        out->segments = bench_pair_segs(&b.p) - segs0;
        out->wall = sp.wall;
        out->cpu = sp.cpu;
        out->value = (double)o->bytes * 8.0 / sp.cpu / 1e9;
        out->count = b.p.waits;
    }
    bulk_teardown(&b);
    return e;
}

/* ---- command line ---------------------------------------------------------- */

void bench_bulk_usage(FILE *f)
{
    fputs("usage: ustack bench bulk [options]\n"
          "\n"
          "One bulk stream between two ustack stacks in this process, on one\n"
          "core: data copied in from and out to application buffers, every\n"
          "checksum computed and verified, MTU 1500, a zero-copy in-memory\n"
          "wire with no rate limit and no delay. The kernel's side: the same\n"
          "volume over a TCP socket pair on 127.0.0.1 (MTU 65536: 64 KB\n"
          "packets, no checksums on loopback), same core, in a network\n"
          "namespace of its own. Runs alternate between the two. Throughput\n"
          "is bytes over CPU time on the one core: the process's, plus, on\n"
          "the kernel's side, what its softirq thread on that core used (work\n"
          "the kernel deferred); on a shared machine this is steadier than\n"
          "wall time, which is printed too.\n"
          "\n"
          "options:\n"
          "  --bytes N      bytes per run (default 1073741824, 1 GiB)\n"
          "  --buf N        ustack's send and receive buffers (default 262144)\n"
          "  --mtu N        ustack's MTU, 576..65535 (default 1500)\n"
          "  --link KIND    ip (raw IP frames, default) or eth (Ethernet, ARP)\n"
          "  --batch N      frames the wire hands over at once, 1..64 (default\n"
          "                 64: a NIC's receive batch); 1 delivers each frame\n"
          "                 and its replies before the next\n"
          "  --verify       check every byte received (default: a sample of\n"
          "                 each read), both sides\n" BENCH_OPTS_USAGE,
          f);
}

static int parse(int argc, char **argv, bulk_opts *o)
{
    static const char *const links[] = { "ip", "eth", NULL };
    const char *v;
    args a;
    int rc, k;

    memset(o, 0, sizeof *o);
    bench_opts_default(&o->c);
    args_init(&a, "ustack bench bulk", argc, argv);
    while (args_next(&a)) {
        if (args_flag(&a, "--help") || args_flag(&a, "-h")) {
            bench_bulk_usage(stdout);
            return 0;
        } else if ((rc = bench_opts_parse(&a, &o->c)) != 0) {
            if (rc < 0)
                return 2;
        } else if ((rc = bench_opt_stream(&a, &o->bytes, &o->buf,
                                          &o->verify)) != 0) {
            if (rc < 0)
                return 2;
        } else if ((rc = args_value(&a, "--mtu", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 576, 65535, &o->mtu) < 0)
                return 2;
        } else if ((rc = args_value(&a, "--batch", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 1, 64, &o->batch) < 0)
                return 2;
        } else if ((rc = args_value(&a, "--link", &v)) != 0) {
            if (rc < 0 || args_choice(&a, v, links, &k) < 0)
                return 2;
            o->ethernet = k == 1;
        } else {
            args_unknown(&a);
            return 2;
        }
    }
    if (!o->bytes)
        o->bytes = o->c.quick ? 32u << 20 : 1u << 30;
    if (!o->buf)
        o->buf = 256 * 1024;
    if (!o->mtu)
        o->mtu = 1500;
    if (!o->batch)
        o->batch = 64;
    return -1;
}

int bench_bulk_main(int argc, char **argv)
{
    bulk_opts o;
    bench_out out;
    bench_result r;
    unsigned runs, i;
    int rc = parse(argc, argv, &o), cpu;
    bool netns = false;
    const char *e;

    if (bench_parsed(rc, bench_bulk_usage) >= 0)
        return rc;
    bench_start(&o.c, &out, &runs, &cpu);
    bench_pattern();
    {
        char lines[512];
        snprintf(lines, sizeof lines,
                 "  one stream of %llu bytes, %u runs each side, alternating; "
                 "pinned to CPU %d\n"
                 "  ustack: MTU %llu (%s), buffers %llu, zero-copy in-memory "
                 "wire; kernel: 127.0.0.1, MTU 65536\n",
                 (unsigned long long)o.bytes, runs, cpu,
                 (unsigned long long)o.mtu,
                 o.ethernet ? "Ethernet" : "raw IP",
                 (unsigned long long)o.buf);
        bench_print_header(&out, "ustack bench bulk: one stream, one core",
                           lines);
    }
    bench_result_init(&r, "bulk", "bulk.throughput", "Gbit/s",
                      "one stream on one core: Gbit/s per CPU second", true);
    r.goal = BENCH_GOAL_AT_LEAST;
    r.target = 32.0;
    r.ratio_goal = BENCH_GOAL_AT_LEAST;
    r.ratio_target = 1.0;
    for (i = 0; i < runs; i++) {
        bench_run run;
        if ((e = us_bulk(&o, &run)) != NULL) {
            fprintf(stderr, "ustack bench bulk: ustack: %s\n", e);
            return 1;
        }
        bench_runs_add(&r.us, &run);
        if (o.c.kernel) {
            kern_bulk_arg ka = { o.bytes, o.verify };
            e = bench_in_child(kern_bulk, &ka, &run, sizeof run, true, &netns);
            if (e)
                fprintf(stderr, "ustack bench bulk: kernel: %s\n", e);
            else
                bench_runs_add(&r.kern, &run);
        }
    }
    {
        const bench_run *m = bench_runs_median(&r.us);
        double wall_gbit = (double)m->bytes * 8 / m->wall / 1e9;
        double k_wall_gbit = 0;
        int n;
        if (r.kern.n) {
            const bench_run *k = bench_runs_median(&r.kern);
            k_wall_gbit = (double)k->bytes * 8 / k->wall / 1e9;
        }
        n = snprintf(r.extra_json, sizeof r.extra_json,
                     "\"mtu\":%llu,\"buf\":%llu,\"link\":\"%s\",\"cpu\":%d,"
                     "\"wall_gbit\":%.3f,\"ns_per_segment\":%.1f",
                     (unsigned long long)o.mtu, (unsigned long long)o.buf,
                     o.ethernet ? "eth" : "ip", cpu, wall_gbit,
                     m->segments ? m->cpu * 1e9 / (double)m->segments : 0.0);
        if (r.kern.n)
            snprintf(r.extra_json + n, sizeof r.extra_json - (size_t)n,
                     ",\"kernel_mtu\":65536,\"kernel_netns\":%s,"
                     "\"kernel_wall_gbit\":%.3f",
                     netns ? "true" : "false", k_wall_gbit);
        n = snprintf(r.note, sizeof r.note,
                     "by wall time (median runs): ustack %.2f Gbit/s",
                     wall_gbit);
        if (r.kern.n)
            n += snprintf(r.note + n, sizeof r.note - (size_t)n,
                          ", kernel %.2f Gbit/s", k_wall_gbit);
        snprintf(r.note + n, sizeof r.note - (size_t)n,
                 "; ustack %.0f ns CPU per segment (data and ACKs); "
                 "\"counted\" for ustack: times the stream waited for a "
                 "timer (%llu in the median run)",
                 m->segments ? m->cpu * 1e9 / (double)m->segments : 0.0,
                 (unsigned long long)m->count);
    }
    bench_print_result(&out, &r);
    return 0;
}

/* `ustack bench tap`: one bulk stream from ustack on a TAP device to a
 * Linux socket, next to the same stream from Linux to Linux over a veth
 * pair, with the veth's offloads off and on; all of it in network
 * namespaces the bench makes (root).
 *
 *   namespace ustkb-<pid>-rx               namespace ustkb-<pid>-tx
 *   (Linux's receiver: a listener, :5001)  (Linux's sender)
 *
 *   ustkt0 (TAP) 10.88.0.1 <-- its file descriptor: ustack, 10.88.0.2,
 *                              in this process
 *   ustkt1 (TAP, virtio-net    <-- the same with TSO and checksum
 *   headers) 10.88.3.1             offload: ustack, 10.88.3.2
 *   vr0 10.88.1.1 <------------- veth -------------- vt0 10.88.1.2
 *                                                    (offloads off)
 *   vr1 10.88.2.1 <------------- veth -------------- vt1 10.88.2.2
 *                                                    (offloads on)
 *
 * The receiving socket is Linux's in every case, in the same namespace;
 * the sender is ustack (through the TAP device) or Linux (through a veth
 * pair). Everything runs in this one process, in one thread, pinned to
 * one core, and a run costs what that core spent on it (see
 * bench_tap_stream.h). Runs go in turn: ustack, ustack with virtio-net
 * headers, veth with offloads off, veth with offloads on.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "bench_common.h"
#include "bench_pair.h"
#include "bench_tap_env.h"
#include "bench_tap_stream.h"
#include "link/tap.h"
#include "link/tun.h"

#define TAP_PORT 5001
/* Plain frames go to the device through io_uring, this many per
 * submission unless --uring says otherwise: about 6% less CPU per byte
 * than a write() each on a 2-core VM (kernel 6.18), where 64 to 1024
 * did the same. */
#define TAP_URING_DEFAULT 256
#define TAP_DEV "ustkt0"
#define VNET_DEV "ustkt1"
#define NS_RX 0
#define NS_TX 1

/* Linux's addresses and the senders' (10.88.0.0/16, a /24 per link). */
#define IP_TAP_LINUX USTK_IP4(10, 88, 0, 1)
#define IP_TAP_USTACK USTK_IP4(10, 88, 0, 2)
#define IP_OFF_RX USTK_IP4(10, 88, 1, 1)
#define IP_OFF_TX USTK_IP4(10, 88, 1, 2)
#define IP_ON_RX USTK_IP4(10, 88, 2, 1)
#define IP_ON_TX USTK_IP4(10, 88, 2, 2)
#define IP_VNET_LINUX USTK_IP4(10, 88, 3, 1)
#define IP_VNET_USTACK USTK_IP4(10, 88, 3, 2)

#define VNET_WHY                                                              \
    "this kernel's TAP driver takes no virtio-net header or no TSO and "      \
    "checksum offloads"

enum { V_US, V_VNET, V_OFF, V_ON, NVAR };

/* The names --only takes, in the order of the variants. */
static const char *const variant_names[NVAR] = { "plain", "vnet", "veth-off",
                                                 "veth-on" };

typedef struct tap_opts {
    bench_opts c;
    uint64_t bytes, buf, mtu;
    uint64_t uring;  /* frames per io_uring submission on ustkt0; 0: none */
    bool uring_set;  /* --uring given: no falling back to write() */
    bool verify;
    int only; /* -1: every variant; else the one to run (V_*) */
} tap_opts;

typedef struct variant {
    bool on;               /* measured */
    char why[320];         /* why not, when not */
    char offloads[2][96];  /* read back from both ends (veth) */
    bench_runs runs;
    tapb_extra x[BENCH_MAX_RUNS];
} variant;

typedef struct tap_bench {
    tap_opts o;
    bench_out out;
    int cpu;
    ustk_link *tap, *vtap;
    uint8_t mac[6];
    int lsock;
    int snmp_rx, snmp_tx;
    variant v[NVAR];
} tap_bench;

/* ---- command line -------------------------------------------------------- */

void bench_tap_usage(FILE *f)
{
    fputs("usage: ustack bench tap [options]\n"
          "\n"
          "One bulk stream from ustack on a TAP device to a Linux TCP socket,\n"
          "next to the same stream from Linux to Linux over a veth pair, with\n"
          "the veth's offloads off (TSO, GSO, GRO, checksums: what ethtool -K\n"
          "turns off) and on (the defaults). Needs root: the bench makes two\n"
          "network namespaces (ustkb-<pid>-rx, ustkb-<pid>-tx), puts the TAP\n"
          "device, the veth pairs' receiving ends and the Linux receiver in\n"
          "the first and Linux's sender in the second, and deletes them on\n"
          "every way out. Without root it says it skipped and exits 0.\n"
          "\n"
          "One process, one thread, one core: ustack writes its frames to the\n"
          "device (Linux's IP and TCP input run in those writes) and reads\n"
          "Linux's ACKs from it; the same loop reads the receiving socket.\n"
          "Throughput is bytes over the CPU time of that core (the process's,\n"
          "plus its softirq thread's), as in bench bulk; wall time, user and\n"
          "system time are printed too. MTU 1500 everywhere. ustack runs\n"
          "twice: plain frames (tap.throughput), and on a second TAP device\n"
          "with virtio-net headers (IFF_VNET_HDR), where it hands Linux TCP\n"
          "segments of up to 64 KB to cut (TSO) with partial checksums and\n"
          "takes coalesced ones (tap.vnet_hdr, against veth with offloads on).\n"
          "\n"
          "options:\n"
          "  --bytes N      bytes per run (default 1073741824, 1 GiB;\n"
          "                 with --quick 67108864, 64 MiB)\n"
          "  --buf N        ustack's send and receive buffers (default 262144)\n"
          "  --mtu N        the MTU of the TAP device, the veth pairs and\n"
          "                 ustack, 576..65521 (default 1500; 65521 is the\n"
          "                 largest a TAP device takes)\n"
          "  --verify       check every byte received (default: the ends of\n"
          "                 each read)\n"
          "  --uring N      ustack's plain frames go to the device through\n"
          "                 io_uring, N (a power of two up to 4096) per\n"
          "                 io_uring_enter(), in this thread, on this core (no\n"
          "                 SQPOLL); 0: one write() per frame (default 256,\n"
          "                 or 0 when the kernel has no io_uring)\n"
          "  --only V       run one variant alone: plain, vnet, veth-off or\n"
          "                 veth-on (for profiling it; its lines then show\n"
          "                 no ratio)\n" BENCH_OPTS_USAGE,
          f);
}

static int parse(int argc, char **argv, tap_opts *o)
{
    const char *v;
    args a;
    int rc;

    memset(o, 0, sizeof *o);
    o->only = -1;
    bench_opts_default(&o->c);
    args_init(&a, "ustack bench tap", argc, argv);
    while (args_next(&a)) {
        if (args_flag(&a, "--help") || args_flag(&a, "-h")) {
            bench_tap_usage(stdout);
            return 0;
        } else if ((rc = bench_opts_parse(&a, &o->c)) != 0) {
            if (rc < 0)
                return 2;
        } else if ((rc = bench_opt_stream(&a, &o->bytes, &o->buf,
                                          &o->verify)) != 0) {
            if (rc < 0)
                return 2;
        } else if ((rc = args_value(&a, "--uring", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 0, 4096, &o->uring) < 0)
                return 2;
            if (o->uring & (o->uring - 1)) {
                fprintf(stderr, "ustack bench tap: --uring takes 0 or a power "
                        "of two up to 4096\n");
                return 2;
            }
            o->uring_set = true;
        } else if ((rc = args_value(&a, "--only", &v)) != 0) {
            if (rc < 0)
                return 2;
            for (o->only = 0; o->only < NVAR; o->only++)
                if (strcmp(v, variant_names[o->only]) == 0)
                    break;
            if (o->only == NVAR) {
                fprintf(stderr, "ustack bench tap: --only takes plain, vnet, "
                        "veth-off or veth-on, not '%s'\n", v);
                return 2;
            }
        } else if ((rc = args_value(&a, "--mtu", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 576, 65521, &o->mtu) < 0)
                return 2;
        } else {
            args_unknown(&a);
            return 2;
        }
    }
    if (!o->bytes)
        o->bytes = o->c.quick ? 64u << 20 : 1u << 30;
    if (!o->buf)
        o->buf = 256 * 1024;
    if (!o->mtu)
        o->mtu = 1500;
    if (!o->uring_set)
        o->uring = TAP_URING_DEFAULT;
    return -1;
}

/* ---- the namespaces and devices ------------------------------------------ */

static char why[256];

static const char *errno_why(const char *what)
{
    snprintf(why, sizeof why, "%s: %s", what, strerror(errno));
    return why;
}

static int listener(void)
{
    struct sockaddr_in a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
                                          SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(TAP_PORT);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* In the receiver's namespace: the TAP device with Linux's address on
 * it, the listener, the counters. */
static const char *setup_rx(tap_bench *b)
{
    unsigned mtu = (unsigned)b->o.mtu;
    int rc;

    tapb_no_ipv6();
    if (tapb_lo_up(why, sizeof why) < 0)
        return why;
    /* Created by the driver (gone again when it is closed), in the
     * namespace the process is in now. */
    {
        ustk_tundev_opts o = { .name = TAP_DEV, .kind = USTK_LINK_ETHERNET,
                               .up = true, .mtu = (uint16_t)mtu,
                               .batch = (unsigned)b->o.uring };
        rc = ustk_tundev_open(&b->tap, &o, why, sizeof why);
        if (rc < 0 && o.batch && !b->o.uring_set) {
            /* The default on a kernel without io_uring: a write() each. */
            fprintf(stderr, "ustack bench tap: warning: %s; writing one frame "
                    "per write() instead\n", why);
            b->o.uring = o.batch = 0;
            rc = ustk_tundev_open(&b->tap, &o, why, sizeof why);
        }
        if (rc < 0)
            return why;
    }
    if (tapb_ifc_setup(TAP_DEV, IP_TAP_LINUX, 24, mtu, why, sizeof why) < 0)
        return why;
    /* Linux sends nothing on the device until it has taken in the
     * carrier (up to a second). */
    if ((rc = ustk_tundev_wait_running(b->tap, 3000)) < 0)
        fprintf(stderr, "ustack bench tap: warning: %s is not running yet "
                "(%s); going on\n", TAP_DEV, strerror(-rc));
    {
        /* The device with virtio-net headers; a kernel that cannot is a
         * reason for its line, not a failure. */
        ustk_tundev_opts o = { .name = VNET_DEV, .kind = USTK_LINK_ETHERNET,
                               .up = true, .vnet_hdr = true };
        char vwhy[200];
        if (ustk_tundev_open(&b->vtap, &o, vwhy, sizeof vwhy) < 0) {
            snprintf(b->v[V_VNET].why, sizeof b->v[V_VNET].why,
                     VNET_WHY " (%s)", vwhy);
        } else {
            if (tapb_ifc_setup(VNET_DEV, IP_VNET_LINUX, 24, mtu, why,
                               sizeof why) < 0)
                return why;
            if ((rc = ustk_tundev_wait_running(b->vtap, 3000)) < 0)
                fprintf(stderr, "ustack bench tap: warning: %s is not "
                        "running yet (%s); going on\n", VNET_DEV,
                        strerror(-rc));
            b->v[V_VNET].on = true;
        }
    }
    if ((b->lsock = listener()) < 0)
        return errno_why("Linux's listener");
    if ((b->snmp_rx = tapb_snmp_open()) < 0)
        return errno_why("/proc/net/snmp");
    return NULL;
}

/* The veth pairs: vr0/vt0 with offloads off, vr1/vt1 as they come. */
static const char *setup_veth(tap_bench *b)
{
    static const char *const rxn[2] = { "vr0", "vr1" },
                             *const txn[2] = { "vt0", "vt1" };
    static const uint32_t rxip[2] = { IP_OFF_RX, IP_ON_RX },
                          txip[2] = { IP_OFF_TX, IP_ON_TX };
    unsigned mtu = (unsigned)b->o.mtu;
    const char *e = NULL;
    char off_why[2][200];
    int side, k;

    if (tapb_ns_create(NS_TX, "tx", why, sizeof why) < 0)
        return why;
    for (k = 0; k < 2; k++)
        if (tapb_ip(why, sizeof why, "-n", tapb_ns_name(NS_RX), "link", "add",
                    rxn[k], "type", "veth", "peer", "name", txn[k], "netns",
                    tapb_ns_name(NS_TX), (const char *)NULL) < 0)
            return why;
    off_why[0][0] = off_why[1][0] = '\0';
    for (side = 0; side < 2 && !e; side++) {
        const char *const *names = side ? txn : rxn;
        const uint32_t *ips = side ? txip : rxip;
        if (tapb_ns_enter(side ? NS_TX : NS_RX) != 0)
            return errno_why("setns");
        tapb_no_ipv6();
        if (side && tapb_lo_up(why, sizeof why) < 0)
            e = why;
        for (k = 0; k < 2 && !e; k++)
            if (tapb_ifc_setup(names[k], ips[k], 24, mtu, why, sizeof why) < 0)
                e = why;
        if (!e)
            (void)tapb_offloads_off(names[0], off_why[side],
                                    sizeof off_why[side]);
        for (k = 0; k < 2 && !e; k++)
            tapb_offloads_describe(names[k],
                                   b->v[k ? V_ON : V_OFF].offloads[side],
                                   sizeof b->v[V_OFF].offloads[side]);
        if (!e && side && (b->snmp_tx = tapb_snmp_open()) < 0)
            e = errno_why("/proc/net/snmp");
        if (tapb_ns_leave() != 0)
            return errno_why("setns back");
    }
    if (e)
        return e;
    /* Both ends up: each pair has its carrier once Linux has taken it in
     * (and attached the queueing discipline, without which it drops). */
    for (side = 0; side < 2; side++) {
        const char *const *names = side ? txn : rxn;
        if (tapb_ns_enter(side ? NS_TX : NS_RX) != 0)
            return errno_why("setns");
        for (k = 0; k < 2; k++)
            if (tapb_ifc_wait_running(names[k], 3000) < 0)
                fprintf(stderr, "ustack bench tap: warning: %s is not "
                        "running yet; going on\n", names[k]);
        if (tapb_ns_leave() != 0)
            return errno_why("setns back");
    }
    b->v[V_ON].on = true;
    if (off_why[0][0] || off_why[1][0]) {
        snprintf(b->v[V_OFF].why, sizeof b->v[V_OFF].why, "%s",
                 off_why[0][0] ? off_why[0] : off_why[1]);
    } else {
        b->v[V_OFF].on = true;
    }
    return NULL;
}

/* ---- results ------------------------------------------------------------- */

static const tapb_extra *median_extra(const variant *v)
{
    const bench_run *m = bench_runs_median(&v->runs);
    return &v->x[m - v->runs.r];
}

static double wall_gbit(const bench_run *m)
{
    return m->wall > 0 ? (double)m->bytes * 8 / m->wall / 1e9 : 0;
}

/* Append to buf (of cap bytes, *n used) only what fits whole: a JSON
 * pair cut short would make the line unreadable. */
__attribute__((format(printf, 4, 5)))
static void append(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (*n >= cap)
        return;
    va_start(ap, fmt);
    k = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (k >= 0 && (size_t)k < cap - *n)
        *n += (size_t)k;
    else
        buf[*n] = '\0';
}

/* The JSON pairs and the table's note for one ustack-vs-kernel line. */
static void describe(const tap_bench *b, bench_result *r, int uv, int kv,
                     const char *more_json)
{
    const variant *us = &b->v[uv], *k = &b->v[kv];
    const bench_run *m = bench_runs_median(&us->runs);
    const tapb_extra *x = median_extra(us);
    size_t n = 0, t = 0;

    append(r->extra_json, sizeof r->extra_json, &n,
           "\"mtu\":%llu,\"buf\":%llu,\"cpu\":%d,\"wall_gbit\":%.3f,"
           "\"user_s\":%.3f,\"sys_s\":%.3f,\"softirq_s\":%.2f,"
           "\"frames_out\":%llu,\"refused\":%llu,\"retrans\":%llu,"
           "\"sleeps\":%llu",
           (unsigned long long)b->o.mtu, (unsigned long long)b->o.buf, b->cpu,
           wall_gbit(m), x->user, x->sys, x->softirq,
           (unsigned long long)x->frames_out, (unsigned long long)x->refused,
           (unsigned long long)x->retrans, (unsigned long long)x->sleeps);
    append(r->note, sizeof r->note, &t,
           "ustack's median run: %.3f s user (the stack, the loop), %.3f s "
           "system (TAP writes and reads, Linux's input and ACKs, the "
           "receiver's reads; %.2f s of it softirq, sampled), %.2f Gbit/s by "
           "wall time; %llu frames written, %llu refused, %llu "
           "retransmitted",
           x->user, x->sys, x->softirq, wall_gbit(m),
           (unsigned long long)x->frames_out,
           (unsigned long long)x->refused, (unsigned long long)x->retrans);
    if (uv == V_US)
        append(r->extra_json, sizeof r->extra_json, &n, ",\"uring\":%llu",
               (unsigned long long)b->o.uring);
    if (uv == V_VNET) {
        append(r->extra_json, sizeof r->extra_json, &n,
               ",\"tso_frames\":%llu,\"frames_in\":%llu,\"gso_in\":%llu",
               (unsigned long long)x->tso_frames,
               (unsigned long long)x->frames_in,
               (unsigned long long)x->gso_in);
        append(r->note, sizeof r->note, &t,
               " (%llu of them TSO segments); %llu read (%llu coalesced)",
               (unsigned long long)x->tso_frames,
               (unsigned long long)x->frames_in,
               (unsigned long long)x->gso_in);
    }
    if (k->runs.n) {
        const bench_run *km = bench_runs_median(&k->runs);
        const tapb_extra *kx = median_extra(k);
        append(r->extra_json, sizeof r->extra_json, &n,
               ",\"kernel_wall_gbit\":%.3f,\"kernel_user_s\":%.3f,"
               "\"kernel_sys_s\":%.3f,\"kernel_softirq_s\":%.2f,"
               "\"kernel_offloads\":\"%s\"",
               wall_gbit(km), kx->user, kx->sys, kx->softirq, k->offloads[1]);
        append(r->note, sizeof r->note, &t,
               "\n            kernel's: %.3f s user, %.3f s system (%.2f s "
               "of it softirq, sampled), %.2f Gbit/s by wall time; veth: %s",
               kx->user, kx->sys, kx->softirq, wall_gbit(km), k->offloads[1]);
    } else if (b->o.c.kernel) {
        const char *w = k->why[0] ? k->why : "every run failed";
        append(r->extra_json, sizeof r->extra_json, &n,
               ",\"kernel_why\":\"%s\"", w);
        append(r->note, sizeof r->note, &t,
               "\n            kernel: not measured: %s", w);
    }
    if (more_json)
        append(r->extra_json, sizeof r->extra_json, &n, ",%s", more_json);
}

/* One result line: variant us against variant kern; with a target, that
 * ustack's figure is at least the kernel's. */
static void print_pair(tap_bench *b, const char *name, const char *what,
                       int us, int kern, bool target)
{
    bench_result r;

    bench_result_init(&r, "tap", name, "Gbit/s", what, true);
    r.us = b->v[us].runs;
    r.kern = b->v[kern].runs;
    if (target) {
        r.ratio_goal = BENCH_GOAL_AT_LEAST;
        r.ratio_target = 1.0;
    }
    describe(b, &r, us, kern, NULL);
    bench_print_result(&b->out, &r);
}

static void print_results(tap_bench *b)
{
    print_pair(b, "tap.throughput",
               "ustack on TAP (plain frames) vs Linux over veth, offloads "
               "off: Gbit/s per CPU second",
               V_US, V_OFF, true);
    if (b->v[V_ON].runs.n)
        print_pair(b, "tap.throughput_offload",
                   "the same ustack runs vs Linux over veth, offloads on "
                   "(the defaults): Gbit/s per CPU second",
                   V_US, V_ON, false);
    if (b->v[V_VNET].runs.n) {
        print_pair(b, "tap.vnet_hdr",
                   "ustack on TAP with virtio-net headers (TSO, checksum "
                   "offload) vs Linux over veth, offloads on: Gbit/s per "
                   "CPU second",
                   V_VNET, V_ON, true);
        return;
    }

    /* Not a figure: no JSON line (every line's value is a number), the
     * reason on stderr instead. */
    if (b->out.json) {
        fprintf(stderr, "ustack bench tap: tap.vnet_hdr: not measured: %s\n",
                b->v[V_VNET].why);
        return;
    }
    fprintf(b->out.f,
            "\n  tap.vnet_hdr  ustack on TAP with virtio-net headers "
            "(IFF_VNET_HDR: TSO/GSO, checksum offload) vs Linux over veth, "
            "offloads on\n"
            "    ustack  not supported: %s\n"
            "    target  >= 1.00x the kernel (veth, offloads on): not "
            "measured\n", b->v[V_VNET].why);
    fflush(b->out.f);
}

/* With --only: the one variant's runs, plainly (no kernel to compare). */
static void print_only(const tap_bench *b)
{
    const variant *v = &b->v[b->o.only];
    unsigned i;

    if (!v->on) {
        fprintf(b->out.f, "  %s: not measured: %s\n",
                variant_names[b->o.only], v->why);
        return;
    }
    for (i = 0; i < v->runs.n; i++) {
        const bench_run *r = &v->runs.r[i];
        const tapb_extra *x = &v->x[i];
        fprintf(b->out.f,
                "  %s run %u: %.2f Gbit/s per CPU s, %.3f s CPU (%.3f user, "
                "%.3f system, %.3f ksoftirqd), %.3f s wall; %llu frames "
                "out, %llu in, %llu sleeps\n",
                variant_names[b->o.only], i + 1, r->value, r->cpu, x->user,
                x->sys, r->other_cpu, r->wall,
                (unsigned long long)x->frames_out,
                (unsigned long long)x->frames_in,
                (unsigned long long)x->sleeps);
    }
    fflush(b->out.f);
}

/* ---- the bench ----------------------------------------------------------- */

static bool wanted(const tap_bench *b, int v)
{
    return b->v[v].on && (b->o.only < 0 || b->o.only == v);
}

static const char *run_all(tap_bench *b, unsigned runs)
{
    tapb_us_cfg uc;
    tapb_kern_cfg kc;
    unsigned i;
    int kv;
    const char *e;

    memset(&uc, 0, sizeof uc);
    uc.tap = b->tap;
    memcpy(uc.mac, b->mac, 6);
    uc.ip = IP_TAP_USTACK;
    uc.peer = IP_TAP_LINUX;
    uc.prefix = 24;
    uc.mtu = (uint16_t)b->o.mtu;
    uc.buf = (uint32_t)b->o.buf;
    uc.lsock = b->lsock;
    uc.port = TAP_PORT;
    uc.bytes = b->o.bytes;
    uc.verify = b->o.verify;
    uc.cpu = b->cpu;
    memset(&kc, 0, sizeof kc);
    kc.tx_ns = NS_TX;
    kc.lsock = b->lsock;
    kc.port = TAP_PORT;
    kc.bytes = b->o.bytes;
    kc.verify = b->o.verify;
    kc.cpu = b->cpu;
    kc.snmp_tx = b->snmp_tx;
    kc.snmp_rx = b->snmp_rx;
    for (i = 0; i < runs; i++) {
        bench_run run;
        variant *v = &b->v[V_US];
        if (wanted(b, V_US)) {
            if ((e = tapb_us_stream(&uc, &run, &v->x[v->runs.n])) != NULL) {
                snprintf(why, sizeof why, "ustack: %s", e);
                return why;
            }
            bench_runs_add(&v->runs, &run);
        }
        v = &b->v[V_VNET];
        if (wanted(b, V_VNET)) {
            tapb_us_cfg vc = uc;
            vc.tap = b->vtap;
            vc.ip = IP_VNET_USTACK;
            vc.peer = IP_VNET_LINUX;
            vc.offload = true;
            if ((e = tapb_us_stream(&vc, &run, &v->x[v->runs.n])) != NULL) {
                snprintf(why, sizeof why, "ustack, virtio-net headers: %s", e);
                return why;
            }
            bench_runs_add(&v->runs, &run);
        }
        for (kv = V_OFF; kv <= V_ON; kv++) {
            v = &b->v[kv];
            if (!wanted(b, kv))
                continue;
            kc.dst = kv == V_OFF ? IP_OFF_RX : IP_ON_RX;
            e = tapb_kern_stream(&kc, &run, &v->x[v->runs.n]);
            if (e)
                fprintf(stderr, "ustack bench tap: kernel, offloads %s: %s\n",
                        kv == V_OFF ? "off" : "on", e);
            else
                bench_runs_add(&v->runs, &run);
        }
    }
    return NULL;
}

static void skip(const bench_out *out, const char *reason)
{
    bench_print_note(out, "\nustack bench tap: skipped: %s\n", reason);
}

int bench_tap_main(int argc, char **argv)
{
    tap_bench *b;
    unsigned runs;
    const char *e;
    int rc;

    b = calloc(1, sizeof *b);
    if (!b) {
        fprintf(stderr, "ustack bench tap: out of memory\n");
        return 1;
    }
    rc = parse(argc, argv, &b->o);
    if (bench_parsed(rc, bench_tap_usage) >= 0) {
        free(b);
        return rc;
    }
    b->out.json = b->o.c.json;
    b->out.f = stdout;
    b->lsock = b->snmp_rx = b->snmp_tx = -1;
    if ((e = tapb_skip_reason()) != NULL) {
        skip(&b->out, e);
        free(b);
        return 0;
    }
    runs = bench_opts_runs(&b->o.c);
    b->cpu = bench_pin(b->o.c.cpu);
    bench_malloc_setup(&b->o.c);
    bench_pattern();
    if (ustk_tap_random_mac(b->mac) < 0) {
        fprintf(stderr, "ustack bench tap: getrandom failed\n");
        free(b);
        return 1;
    }
    if (tapb_env_start(why, sizeof why) < 0) {
        fprintf(stderr, "ustack bench tap: %s\n", why);
        free(b);
        return 1;
    }
    rc = 1;
    /* A namespace that cannot be made is this machine's limit (a
     * container without CAP_SYS_ADMIN, say), not the bench's failure. */
    if (tapb_ns_create(NS_RX, "rx", why, sizeof why) < 0) {
        char r[300];
        snprintf(r, sizeof r, "cannot create a network namespace: %s", why);
        skip(&b->out, r);
        rc = 0;
        goto done;
    }
    if (tapb_ns_enter(NS_RX) != 0) {
        e = errno_why("setns into the receiver's namespace");
        goto fail;
    }
    e = setup_rx(b);
    if (tapb_ns_leave() != 0 && !e)
        e = errno_why("setns back");
    if (e)
        goto fail;
    b->v[V_US].on = true;
    if (b->o.c.kernel && (e = setup_veth(b)) != NULL)
        goto fail;
    {
        char lines[900], how[64];
        int n;

        if (b->o.uring)
            snprintf(how, sizeof how, "io_uring, %llu per submission",
                     (unsigned long long)b->o.uring);
        else
            snprintf(how, sizeof how, "a write() each");
        n = snprintf(lines, sizeof lines,
                         "  one stream of %llu bytes, %u runs each, in turn; "
                         "pinned to CPU %d; MTU %llu\n"
                         "  ustack: TAP %s in %s, buffers %llu, plain frames "
                         "(%s); "
                         "TAP %s, virtio-net headers, TSO and checksum "
                         "offload%s; Linux receives in the same namespace\n",
                         (unsigned long long)b->o.bytes, runs, b->cpu,
                         (unsigned long long)b->o.mtu, TAP_DEV,
                         tapb_ns_name(NS_RX), (unsigned long long)b->o.buf,
                         how, VNET_DEV, b->v[V_VNET].on ? "" : " (not available)");
        if (b->o.c.kernel && n > 0 && (size_t)n < sizeof lines)
            snprintf(lines + n, sizeof lines - (size_t)n,
                     "  kernel: veth pairs from %s; the sender's offloads: "
                     "off (%s), on (%s)\n",
                     tapb_ns_name(NS_TX),
                     b->v[V_OFF].on ? b->v[V_OFF].offloads[1]
                                    : b->v[V_OFF].why,
                     b->v[V_ON].offloads[1]);
        bench_print_header(&b->out,
                           "ustack bench tap: a stream to Linux over TAP, "
                           "vs Linux over veth",
                           lines);
    }
    if ((e = run_all(b, runs)) != NULL)
        goto fail;
    if (b->o.only >= 0)
        print_only(b);
    else
        print_results(b);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "ustack bench tap: %s\n", e);
done:
    ustk_link_destroy(b->tap); /* the device goes with it */
    ustk_link_destroy(b->vtap);
    if (b->lsock >= 0)
        close(b->lsock);
    if (b->snmp_rx >= 0)
        close(b->snmp_rx);
    if (b->snmp_tx >= 0)
        close(b->snmp_tx);
    tapb_env_finish();
    free(b);
    return rc;
}

/* The kernel's side of the benches, over 127.0.0.1. */
#include "bench_kern.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_pair.h"

static char kerr[160];

static const char *fail(const char *what)
{
    snprintf(kerr, sizeof kerr, "%s: %s", what, strerror(errno));
    return kerr;
}

/* A listener on 127.0.0.1:port (0: any); returns the fd and the port. */
static int listen_on(uint16_t port, int backlog, uint16_t *got)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        close(fd);
        return -1;
    }
    if (got)
        *got = ntohs(a.sin_port);
    return fd;
}

static int connect_to(uint16_t port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A counter of the Tcp: lines of /proc/net/snmp (this namespace's). */
static uint64_t snmp_tcp(const char *field)
{
    char head[1024], vals[1024];
    FILE *f = fopen("/proc/net/snmp", "r");
    uint64_t v = 0;

    if (!f)
        return 0;
    while (fgets(head, sizeof head, f)) {
        if (strncmp(head, "Tcp:", 4) != 0)
            continue;
        if (!fgets(vals, sizeof vals, f))
            break;
        {
            char *sh, *sv;
            char *h = strtok_r(head, " \n", &sh);
            char *x = strtok_r(vals, " \n", &sv);
            while (h && x) {
                if (strcmp(h, field) == 0) {
                    v = strtoull(x, NULL, 10);
                    break;
                }
                h = strtok_r(NULL, " \n", &sh);
                x = strtok_r(NULL, " \n", &sv);
            }
        }
        break;
    }
    fclose(f);
    return v;
}

/* CPU seconds ksoftirqd of cpu used since it read `before`. */
static double soft_delta(int cpu, double before)
{
    double now = bench_ksoftirqd_cpu(cpu);

    return before >= 0 && now >= before ? now - before : 0.0;
}

/* ---- bulk ------------------------------------------------------------------ */

const char *kern_bulk(void *argp, void *outp)
{
    const kern_bulk_arg *arg = argp;
    bench_run *out = outp;
    const uint8_t *pat = bench_pattern();
    uint8_t *rbuf = malloc(BENCH_CHUNK);
    uint64_t tx = 0, rx = 0, segs0;
    uint16_t port;
    int l, c, s, cpu = bench_current_cpu();
    double soft0;
    bench_span sp;

    memset(out, 0, sizeof *out);
    if (!rbuf)
        return "out of memory";
    if ((l = listen_on(0, 1, &port)) < 0)
        return fail("listen");
    if ((c = connect_to(port)) < 0)
        return fail("connect");
    if ((s = accept(l, NULL, NULL)) < 0)
        return fail("accept");
    fcntl(c, F_SETFL, O_NONBLOCK);
    fcntl(s, F_SETFL, O_NONBLOCK);
    segs0 = snmp_tcp("OutSegs");
    soft0 = bench_ksoftirqd_cpu(cpu);
    bench_span_begin(&sp);
    while (rx < arg->bytes) {
        bool moved = false;
        while (tx < arg->bytes) {
            size_t len = BENCH_CHUNK;
            ssize_t n;
            if (len > arg->bytes - tx)
                len = (size_t)(arg->bytes - tx);
            n = write(c, pat + tx % BENCH_PAT_LEN, len);
            if (n <= 0)
                break;
            tx += (uint64_t)n;
            moved = true;
        }
        for (;;) {
            ssize_t n = read(s, rbuf, BENCH_CHUNK);
            if (n <= 0)
                break;
            if (!bench_pattern_check(rbuf, (size_t)n, rx, arg->verify))
                return "the kernel's stream arrived damaged";
            rx += (uint64_t)n;
            moved = true;
        }
        if (!moved) {
            struct pollfd p[2] = { { c, POLLOUT, 0 }, { s, POLLIN, 0 } };
            if (poll(p, 2, 5000) == 0)
                return "the kernel's stream stalled";
        }
    }
    bench_span_end(&sp);
    out->bytes = rx;
    out->segments = snmp_tcp("OutSegs") - segs0;
    out->wall = sp.wall;
    out->other_cpu = soft_delta(cpu, soft0);
    out->cpu = sp.cpu + out->other_cpu;
    out->value = (double)rx * 8.0 / out->cpu / 1e9;
    close(c);
    close(s);
    close(l);
    free(rbuf);
    return NULL;
}

/* ---- connection churn ------------------------------------------------------ */

#define KPORT0 5001
#define KPORTS_MAX 16

static const char *churn(const int *l, unsigned ports, uint64_t i)
{
    char b = 'x';
    int c, s;

    if ((c = connect_to((uint16_t)(KPORT0 + i % ports))) < 0)
        return fail("connect");
    if ((s = accept(l[i % ports], NULL, NULL)) < 0)
        return fail("accept");
    if (write(c, &b, 1) != 1 || read(s, &b, 1) != 1 || write(s, &b, 1) != 1 ||
        read(c, &b, 1) != 1)
        return fail("one byte each way");
    close(s); /* the server closes first: its end goes to TIME-WAIT */
    if (read(c, &b, 1) != 0)
        return fail("the end of the stream");
    close(c);
    return NULL;
}

static uint64_t sockstat_tw(void)
{
    char line[256];
    unsigned long long tw = 0;
    FILE *f = fopen("/proc/net/sockstat", "r");

    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, " tw ");
        if (strncmp(line, "TCP:", 4) == 0 && p)
            tw = strtoull(p + 4, NULL, 10);
    }
    fclose(f);
    return tw;
}

const char *kern_conn(void *argp, void *outp)
{
    const kern_conn_arg *arg = argp;
    kern_conn_out *out = outp;
    unsigned ports = arg->ports ? arg->ports : 1, i;
    int l[KPORTS_MAX], cpu = bench_current_cpu();
    double soft0;
    uint64_t k, segs0;
    const char *e;
    bench_span sp;

    memset(out, 0, sizeof *out);
    if (ports > KPORTS_MAX)
        ports = KPORTS_MAX;
    /* Keep every TIME-WAIT entry, as ustack does, and give the client
     * as many ports as ustack's client has. Both settings belong to this
     * namespace only; in the machine's own they are left alone. */
    if (bench_in_own_netns()) {
        bench_sysctl_write("/proc/sys/net/ipv4/tcp_max_tw_buckets",
                           "16777216");
        bench_sysctl_write("/proc/sys/net/ipv4/ip_local_port_range",
                           "1024 65535");
    }
    for (i = 0; i < ports; i++)
        if ((l[i] = listen_on((uint16_t)(KPORT0 + i), 1024, NULL)) < 0)
            return fail("listen");
    for (k = 0; k < arg->prefill; k++)
        if ((e = churn(l, ports, k)) != NULL)
            return e;
    segs0 = snmp_tcp("OutSegs");
    soft0 = bench_ksoftirqd_cpu(cpu);
    bench_span_begin(&sp);
    for (k = 0; k < arg->count; k++)
        if ((e = churn(l, ports, arg->prefill + k)) != NULL)
            return e;
    bench_span_end(&sp);
    out->run.count = arg->count;
    out->run.segments = snmp_tcp("OutSegs") - segs0;
    out->run.wall = sp.wall;
    out->run.other_cpu = soft_delta(cpu, soft0);
    out->run.cpu = sp.cpu + out->run.other_cpu;
    out->run.value = (double)arg->count / out->run.cpu;
    out->tw_after = sockstat_tw();
    for (i = 0; i < ports; i++)
        close(l[i]);
    return NULL;
}

uint64_t kern_mem_max_n(void)
{
    struct rlimit rl;
    unsigned long long nr_open = 1048576;
    uint64_t hard, cap;
    FILE *f = fopen("/proc/sys/fs/nr_open", "r");

    if (f) {
        if (fscanf(f, "%llu", &nr_open) != 1)
            nr_open = 1048576;
        fclose(f);
    }
    /* Raising the hard limit needs CAP_SYS_RESOURCE; without it, the
     * hard limit is the ceiling. */
    hard = nr_open;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < hard) {
        struct rlimit up = rl;
        up.rlim_max = (rlim_t)nr_open;
        up.rlim_cur = rl.rlim_cur;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            setrlimit(RLIMIT_NOFILE, &rl);
        else
            hard = rl.rlim_max;
    }
    cap = hard > 128 ? (hard - 128) / 2 : 0;
    return cap < KPORTS_MAX * 25000ull ? cap : KPORTS_MAX * 25000ull;
}

/* ---- memory ---------------------------------------------------------------- */

/* Bytes in active slab objects, all caches (or, with only, one cache);
 * and two object sizes. */
static double slab_active_of(const char *only, double *tcp_obj,
                             double *tw_obj)
{
    char line[512];
    double total = 0;
    FILE *f = fopen("/proc/slabinfo", "r");

    if (!f)
        return -1.0;
    while (fgets(line, sizeof line, f)) {
        char name[64];
        unsigned long long active, num, objsize;
        if (line[0] == '#' || strncmp(line, "slabinfo", 8) == 0)
            continue;
        if (sscanf(line, "%63s %llu %llu %llu", name, &active, &num,
                   &objsize) != 4)
            continue;
        if (!only || strcmp(name, only) == 0)
            total += (double)active * (double)objsize;
        if (tcp_obj && strcmp(name, "TCP") == 0)
            *tcp_obj = (double)objsize;
        if (tw_obj && strcmp(name, "tw_sock_TCP") == 0)
            *tw_obj = (double)objsize;
    }
    fclose(f);
    return total;
}

static double slab_active(double *tcp_obj, double *tw_obj)
{
    return slab_active_of(NULL, tcp_obj, tw_obj);
}

static double meminfo_slab(void)
{
    char line[256];
    unsigned long long kb = 0;
    FILE *f = fopen("/proc/meminfo", "r");

    if (!f)
        return -1.0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Slab: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return (double)kb * 1024.0;
}

static void settle(void)
{
    /* Sockets, inodes and dentries are freed after an RCU grace period. */
    struct timespec t = { 0, 300 * 1000000L };
    nanosleep(&t, NULL);
}

const char *kern_mem(void *argp, void *outp)
{
    const kern_mem_arg *arg = argp;
    kern_mem_out *out = outp;
    uint64_t n = arg->n, i;
    struct rlimit rl;
    int *cf, *sf, l[KPORTS_MAX];
    unsigned nl = (unsigned)((n + 24999) / 25000), j;
    double s0, s1, m0, m1, tw0;
    bench_span sp;
    char b = 'x';

    memset(out, 0, sizeof *out);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * n + 64) {
        rl.rlim_cur = (rlim_t)(2 * n + 64);
        if (rl.rlim_max < rl.rlim_cur)
            rl.rlim_max = rl.rlim_cur;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            return fail("setrlimit(RLIMIT_NOFILE) for 2N descriptors");
    }
    cf = calloc(n, sizeof *cf);
    sf = calloc(n, sizeof *sf);
    if (!cf || !sf)
        return "out of memory";
    if (bench_in_own_netns()) {
        bench_sysctl_write("/proc/sys/net/ipv4/tcp_max_tw_buckets",
                           "16777216");
        bench_sysctl_write("/proc/sys/net/ipv4/ip_local_port_range",
                           "1024 65535");
    }
    /* 25,000 client ports per listener (fewer in the machine's own
     * namespace, whose port range is left alone). */
    if (nl > KPORTS_MAX)
        return "more connections than ports";
    for (j = 0; j < nl; j++)
        if ((l[j] = listen_on((uint16_t)(KPORT0 + j), 4096, NULL)) < 0)
            return fail("listen");
    settle();
    s0 = slab_active(&out->tcp_obj, &out->tw_obj);
    tw0 = slab_active_of("tw_sock_TCP", NULL, NULL);
    m0 = meminfo_slab();
    if (s0 < 0)
        return "/proc/slabinfo is not readable";
    bench_span_begin(&sp);
    for (i = 0; i < n; i++) {
        if ((cf[i] = connect_to((uint16_t)(KPORT0 + i / 25000))) < 0)
            return fail("connect");
        if ((sf[i] = accept(l[i / 25000], NULL, NULL)) < 0)
            return fail("accept");
    }
    bench_span_end(&sp);
    settle();
    s1 = slab_active(NULL, NULL);
    m1 = meminfo_slab();
    out->endpoint_bytes = (s1 - s0) / (2.0 * (double)n);
    out->endpoint_meminfo = (m1 - m0) / (2.0 * (double)n);
    out->wall = sp.wall;
    out->cpu = sp.cpu;
    for (i = 0; i < n; i++)
        if (write(cf[i], &b, 1) != 1 || read(sf[i], &b, 1) != 1 ||
            write(sf[i], &b, 1) != 1 || read(cf[i], &b, 1) != 1)
            return fail("one byte each way");
    settle();
    out->after_data_bytes = (slab_active(NULL, NULL) - s0) / (2.0 * (double)n);
    /* The server's ends close first and go to TIME-WAIT. */
    for (i = 0; i < n; i++)
        close(sf[i]);
    for (i = 0; i < n; i++) {
        if (read(cf[i], &b, 1) != 0)
            return "the client did not see the end of the stream";
        close(cf[i]);
    }
    settle();
    /* Freed sockets linger in the allocator's per-CPU slabs and are still
     * counted active for a while, so the whole-slab figure after a close
     * says little; the TIME-WAIT cache's growth is what the entries
     * hold. */
    out->tw_bytes = (slab_active_of("tw_sock_TCP", NULL, NULL) - tw0) /
                    (double)n;
    for (j = 0; j < nl; j++)
        close(l[j]);
    free(cf);
    free(sf);
    return NULL;
}

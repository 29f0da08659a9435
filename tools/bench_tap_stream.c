/* The streams of `ustack bench tap` (see bench_tap_stream.h). */
#include "bench_tap_stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_pair.h"
#include "bench_tap_env.h"
#include "ustack/ustack.h"

#define WARMUP_BYTES (4u << 20)
#define STALL_SEC 10.0     /* no byte moved for this long: give up */
#define FRAMES_IN_BATCH 256 /* frames read from the device per round */

static char serr[256];

__attribute__((format(printf, 1, 2)))
static const char *failf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(serr, sizeof serr, fmt, ap);
    va_end(ap);
    return serr;
}

static const char *fail_errno(const char *what)
{
    return failf("%s: %s", what, strerror(errno));
}

/* ---- what a run costs ---------------------------------------------------- */

typedef struct meter {
    int cpu;
    bench_span sp;
    struct rusage ru;
    double soft0;
    tapb_cpustat cs;
    bool cs_ok;
} meter;

static double tv_sec(const struct timeval *t)
{
    return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

static void meter_begin(meter *m, int cpu)
{
    m->cpu = cpu;
    m->cs_ok = tapb_cpustat_read(cpu, &m->cs) == 0;
    m->soft0 = bench_ksoftirqd_cpu(cpu);
    if (getrusage(RUSAGE_SELF, &m->ru) != 0)
        memset(&m->ru, 0, sizeof m->ru);
    bench_span_begin(&m->sp);
}

static void meter_end(meter *m, uint64_t bytes, bench_run *out, tapb_extra *x)
{
    struct rusage ru;
    tapb_cpustat cs;
    double soft;

    bench_span_end(&m->sp);
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        ru = m->ru;
    soft = bench_ksoftirqd_cpu(m->cpu);
    out->bytes = bytes;
    out->wall = m->sp.wall;
    out->other_cpu = m->soft0 >= 0 && soft >= m->soft0 ? soft - m->soft0 : 0;
    out->cpu = m->sp.cpu + out->other_cpu;
    out->value = out->cpu > 0 ? (double)bytes * 8.0 / out->cpu / 1e9 : 0;
    x->user = tv_sec(&ru.ru_utime) - tv_sec(&m->ru.ru_utime);
    x->sys = tv_sec(&ru.ru_stime) - tv_sec(&m->ru.ru_stime);
    if (m->cs_ok && tapb_cpustat_read(m->cpu, &cs) == 0) {
        x->softirq = cs.softirq - m->cs.softirq;
        x->busy = cs.busy - m->cs.busy;
    }
}

/* ---- the receiver -------------------------------------------------------- */

/* Read what Linux's socket has, checking it against the pattern. 1 when
 * bytes were read, 0 when none were there, -1 on error (serr set). */
static int linux_read(int fd, uint8_t *rbuf, uint64_t off, uint64_t *rx,
                      uint64_t want, bool verify)
{
    int got = 0;

    while (*rx < want) {
        ssize_t n = recv(fd, rbuf, BENCH_CHUNK, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            fail_errno("Linux's receiving socket");
            return -1;
        }
        if (n == 0) {
            failf("Linux's receiving socket saw the end of the stream "
                  "after %llu of %llu bytes", (unsigned long long)*rx,
                  (unsigned long long)want);
            return -1;
        }
        if (*rx + (uint64_t)n > want) {
            failf("Linux's receiving socket got more than was sent");
            return -1;
        }
        if (!bench_pattern_check(rbuf, (size_t)n, off + *rx, verify)) {
            failf("the stream arrived damaged at byte %llu",
                  (unsigned long long)(off + *rx));
            return -1;
        }
        *rx += (uint64_t)n;
        got = 1;
    }
    return got;
}

/* Take a connection from the listener, waiting for it when wait_ms > 0.
 * Returns the descriptor (non-blocking), -1 with EAGAIN when none is
 * there yet, or -1 with serr set. */
static int take_conn(int lsock, int wait_ms)
{
    for (;;) {
        int fd = accept4(lsock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            return fd;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            fail_errno("accept");
            return -1;
        }
        if (wait_ms <= 0) {
            errno = EAGAIN;
            return -1;
        }
        {
            struct pollfd p = { lsock, POLLIN, 0 };
            int rc = poll(&p, 1, wait_ms);
            if (rc < 0 && errno != EINTR) {
                fail_errno("poll");
                return -1;
            }
            if (rc == 0) {
                failf("Linux's listener got no connection");
                errno = ETIMEDOUT;
                return -1;
            }
        }
    }
}

/* ---- ustack on TAP ------------------------------------------------------- */

typedef struct us_conn {
    const tapb_us_cfg *c;
    ustk_stack *s;
    int sock;      /* ustack's */
    int lfd;       /* Linux's accepted end */
    int tapfd;
    uint8_t *frame, *rbuf;
    tapb_extra *x;
} us_conn;

/* Frames out to the device, then frames in from it. Returns whether any
 * moved; -1 on a device error (serr set). */
static int us_frames(us_conn *u, ustk_time now)
{
    size_t len;
    int moved = 0, rc, k;
    ustk_frame_meta m;
    ustk_frame_meta *mp = u->c->offload ? &m : NULL;

    for (;;) {
        /* Plain frames are built where the link writes them from (the
         * slot of a batched device); TSO segments need the big buffer. */
        size_t cap = USTK_LINK_FRAME_MAX;
        uint8_t *buf = mp ? NULL : ustk_link_tx_buf(u->c->tap, &cap);
        if (!buf) {
            buf = u->frame;
            cap = USTK_LINK_FRAME_MAX;
        }
        rc = ustk_poll_output_meta(u->s, now, buf, cap, &len, mp);
        if (rc == USTK_EINVAL && buf != u->frame)
            rc = ustk_poll_output_meta(u->s, now, buf = u->frame,
                                       USTK_LINK_FRAME_MAX, &len, mp);
        if (rc != 0)
            break;
        rc = ustk_link_send_meta(u->c->tap, now, buf, len, mp);
        if (rc < 0)
            u->x->refused++; /* lost, as on a wire; TCP sends it again */
        else
            u->x->frames_out++;
        moved = 1;
    }
    /* A batched device holds the frames until now; lost ones were
     * counted as errors by the link (TCP sends them again). */
    if (moved)
        (void)ustk_link_flush(u->c->tap, now);
    for (k = 0; k < FRAMES_IN_BATCH; k++) {
        rc = ustk_link_recv_meta(u->c->tap, now, u->frame,
                                 USTK_LINK_FRAME_MAX, &len, &m);
        if (rc == USTK_EAGAIN)
            break;
        if (rc < 0) {
            failf("reading the TAP device: %s", ustk_strerror(rc));
            return -1;
        }
        /* drops are counted */
        (void)ustk_input_meta(u->s, now, u->frame, len, &m);
        u->x->frames_in++;
        if (m.gso_type)
            u->x->gso_in++;
        moved = 1;
    }
    return moved;
}

/* Sleep until the device or Linux's socket has something, or ustack's
 * next timer, at most 100 ms. */
static const char *us_wait(us_conn *u, ustk_time now)
{
    struct pollfd p[2] = { { u->tapfd, POLLIN, 0 }, { u->lfd, POLLIN, 0 } };
    ustk_time due = ustk_next_deadline(u->s, now), wait;
    struct timespec ts;

    wait = due <= now ? 0 : due - now;
    if (wait > 100000)
        wait = 100000;
    ts.tv_sec = 0;
    ts.tv_nsec = (long)wait * 1000;
    if (ppoll(p, u->lfd >= 0 ? 2 : 1, &ts, NULL) < 0 && errno != EINTR)
        return fail_errno("ppoll");
    u->x->sleeps++;
    return NULL;
}

static int random_seed(uint64_t *seed)
{
    ssize_t n;

    do
        n = getrandom(seed, sizeof *seed, 0);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof *seed ? 0 : -1;
}

static const char *us_open(us_conn *u)
{
    const tapb_us_cfg *c = u->c;
    ustk_sockaddr to = { c->peer, c->port };
    ustk_config cfg;
    double t0 = bench_wall();
    size_t len;
    int rc;

    /* Frames left from the run before (its last ACKs): not for us. */
    while (ustk_link_recv(c->tap, bench_usec(), u->frame, USTK_LINK_FRAME_MAX,
                          &len) == 0)
        ;
    ustk_config_default(&cfg);
    cfg.link = USTK_LINK_ETHERNET;
    memcpy(cfg.mac, c->mac, 6);
    cfg.ip = c->ip;
    cfg.prefix_len = (uint8_t)c->prefix;
    cfg.mtu = c->mtu;
    cfg.max_sockets = 8;
    cfg.snd_buf = cfg.rcv_buf = c->buf;
    if (c->offload) {
        cfg.tso_max = 65535; /* as large as an IPv4 packet allows */
        cfg.tx_csum_offload = true;
    }
    /* The smallest shift that shows the peer the whole buffer, never
     * below the default (as bench_pair does). */
    while (cfg.wscale < 14 && ((uint32_t)65535 << cfg.wscale) < c->buf)
        cfg.wscale++;
    /* A stack on a real device gets a random seed (config.h). */
    if (random_seed(&cfg.seed) < 0)
        return fail_errno("getrandom");
    if ((rc = ustk_stack_create(&u->s, &cfg, bench_usec())) < 0)
        return failf("cannot create the stack: %s", ustk_strerror(rc));
    if ((u->sock = ustk_open(u->s, USTK_PROTO_TCP)) < 0)
        return failf("ustk_open: %s", ustk_strerror(u->sock));
    rc = ustk_connect(u->s, u->sock, &to, bench_usec());
    if (rc != USTK_EINPROGRESS && rc != 0)
        return failf("ustk_connect: %s", ustk_strerror(rc));
    /* ARP, the handshake, Linux's accept. */
    for (;;) {
        ustk_time now = bench_usec();
        int ev, moved;
        const char *e;
        if ((moved = us_frames(u, now)) < 0)
            return serr;
        if (u->lfd < 0 && (u->lfd = take_conn(c->lsock, 0)) < 0 &&
            errno != EAGAIN)
            return serr;
        ev = ustk_sock_poll(u->s, u->sock);
        if (ev < 0 || (ev & USTK_ERROR))
            return failf("ustack could not connect to Linux: %s",
                         ustk_strerror(ev < 0 ? ev
                                              : ustk_sock_error(u->s,
                                                                u->sock)));
        if ((ev & USTK_WRITABLE) && u->lfd >= 0)
            return NULL;
        if (bench_wall() - t0 > 5.0)
            return failf("ustack could not connect to Linux in 5 s");
        if (!moved && (e = us_wait(u, now)) != NULL)
            return e;
    }
}

static void us_close(us_conn *u)
{
    if (u->s) {
        ustk_time now = bench_usec();
        size_t len;
        if (u->sock >= 0)
            ustk_abort(u->s, u->sock, now); /* a RST: Linux forgets it too */
        while (ustk_poll_output(u->s, now, u->frame, USTK_LINK_FRAME_MAX,
                                &len) == 0)
            (void)ustk_link_send(u->c->tap, now, u->frame, len);
        (void)ustk_link_flush(u->c->tap, now);
        ustk_stack_destroy(u->s);
        u->s = NULL;
    }
    if (u->lfd >= 0)
        close(u->lfd);
    u->lfd = -1;
}

/* Move `bytes` of the pattern (from stream offset off) from ustack's
 * socket to Linux's. */
static const char *us_pump(us_conn *u, uint64_t bytes, uint64_t off)
{
    const uint8_t *pat = bench_pattern();
    uint64_t tx = 0, rx = 0;
    double last = bench_wall();

    while (rx < bytes) {
        ustk_time now = bench_usec();
        bool moved = false;
        int rc;

        while (tx < bytes) {
            size_t len = BENCH_CHUNK;
            ptrdiff_t n;
            if (len > bytes - tx)
                len = (size_t)(bytes - tx);
            n = ustk_send(u->s, u->sock, pat + (off + tx) % BENCH_PAT_LEN,
                          len, now);
            if (n <= 0) {
                if (n != USTK_EAGAIN)
                    return failf("ustk_send: %s", ustk_strerror((int)n));
                break;
            }
            tx += (uint64_t)n;
            moved = true;
        }
        if ((rc = us_frames(u, now)) < 0)
            return serr;
        moved |= rc > 0;
        if ((rc = linux_read(u->lfd, u->rbuf, off, &rx, bytes,
                             u->c->verify)) < 0)
            return serr;
        moved |= rc > 0;
        if (moved) {
            last = bench_wall();
            continue;
        }
        if (bench_wall() - last > STALL_SEC) {
            ustk_tcp_info ti;
            if (ustk_tcp_info_get(u->s, u->sock, &ti) == 0)
                return failf("the stream stalled after %llu bytes (ustack "
                             "in %s, %u bytes in flight)",
                             (unsigned long long)rx,
                             ustk_tcp_state_name(ti.state),
                             (unsigned)ti.bytes_in_flight);
            return failf("the stream stalled after %llu bytes",
                         (unsigned long long)rx);
        }
        {
            const char *e = us_wait(u, now);
            if (e)
                return e;
        }
    }
    return NULL;
}

const char *tapb_us_stream(const tapb_us_cfg *c, bench_run *out,
                           tapb_extra *x)
{
    us_conn u;
    ustk_stack_stats st0, st1;
    tapb_extra dummy;
    const char *e;
    meter m;

    memset(out, 0, sizeof *out);
    memset(x, 0, sizeof *x);
    memset(&u, 0, sizeof u);
    memset(&dummy, 0, sizeof dummy);
    u.c = c;
    u.sock = u.lfd = -1;
    u.tapfd = c->tap->ops->fd ? c->tap->ops->fd(c->tap) : -1;
    u.x = &dummy;
    u.frame = malloc(USTK_LINK_FRAME_MAX);
    u.rbuf = malloc(BENCH_CHUNK);
    if (!u.frame || !u.rbuf) {
        e = "out of memory";
        goto out;
    }
    if ((e = us_open(&u)) != NULL)
        goto out;
    if ((e = us_pump(&u, WARMUP_BYTES, 0)) != NULL)
        goto out;
    u.x = x;
    ustk_stack_stats_get(u.s, &st0);
    meter_begin(&m, c->cpu);
    e = us_pump(&u, c->bytes, WARMUP_BYTES);
    meter_end(&m, c->bytes, out, x);
    ustk_stack_stats_get(u.s, &st1);
    out->segments = (st1.tcp_segs_out - st0.tcp_segs_out) +
                    (st1.tcp_segs_in - st0.tcp_segs_in);
    x->retrans = st1.tcp_retransmits - st0.tcp_retransmits;
    x->tso_frames = st1.tcp_tso_frames - st0.tcp_tso_frames;
out:
    us_close(&u);
    free(u.frame);
    free(u.rbuf);
    return e;
}

/* ---- Linux over veth ----------------------------------------------------- */

static const char *kern_pump(int c, int s, uint8_t *rbuf, uint64_t bytes,
                             uint64_t off, bool verify, tapb_extra *x)
{
    const uint8_t *pat = bench_pattern();
    uint64_t tx = 0, rx = 0;
    double last = bench_wall();

    while (rx < bytes) {
        bool moved = false;
        int rc;

        while (tx < bytes) {
            size_t len = BENCH_CHUNK;
            ssize_t n;
            if (len > bytes - tx)
                len = (size_t)(bytes - tx);
            n = send(c, pat + (off + tx) % BENCH_PAT_LEN, len,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                return fail_errno("Linux's sending socket");
            }
            tx += (uint64_t)n;
            moved = true;
        }
        if ((rc = linux_read(s, rbuf, off, &rx, bytes, verify)) < 0)
            return serr;
        moved |= rc > 0;
        if (moved) {
            last = bench_wall();
            continue;
        }
        if (bench_wall() - last > STALL_SEC)
            return failf("the kernel's stream stalled after %llu bytes",
                         (unsigned long long)rx);
        {
            /* Writable matters only while there is something to write:
             * else poll would return at once and the loop would spin
             * against the softirq thread it waits for. */
            struct pollfd p[2] = { { c, tx < bytes ? POLLOUT : 0, 0 },
                                   { s, POLLIN, 0 } };
            if (poll(p, 2, 100) < 0 && errno != EINTR)
                return fail_errno("poll");
            x->sleeps++;
        }
    }
    return NULL;
}

const char *tapb_kern_stream(const tapb_kern_cfg *k, bench_run *out,
                             tapb_extra *x)
{
    struct sockaddr_in a;
    tapb_extra dummy;
    uint8_t *rbuf = malloc(BENCH_CHUNK);
    uint64_t out0 = 0, in0 = 0, re0 = 0;
    const char *e = NULL;
    int c = -1, s = -1;
    meter m;

    memset(out, 0, sizeof *out);
    memset(x, 0, sizeof *x);
    memset(&dummy, 0, sizeof dummy);
    if (!rbuf)
        return "out of memory";
    /* The sender's socket belongs to the sender's namespace. */
    if (tapb_ns_enter(k->tx_ns) != 0) {
        e = fail_errno("setns into the sender's namespace");
        goto out;
    }
    c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0)
        e = fail_errno("socket");
    if (tapb_ns_leave() != 0 && !e)
        e = fail_errno("setns back");
    if (e)
        goto out;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(k->dst);
    a.sin_port = htons(k->port);
    if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) {
        e = fail_errno("connect over the veth pair");
        goto out;
    }
    if ((s = take_conn(k->lsock, 5000)) < 0) {
        e = serr;
        goto out;
    }
    if (fcntl(c, F_SETFL, O_NONBLOCK) != 0) {
        e = fail_errno("fcntl");
        goto out;
    }
    if ((e = kern_pump(c, s, rbuf, WARMUP_BYTES, 0, k->verify, &dummy)) !=
        NULL)
        goto out;
    out0 = tapb_snmp_tcp(k->snmp_tx, "OutSegs");
    in0 = tapb_snmp_tcp(k->snmp_rx, "OutSegs");
    re0 = tapb_snmp_tcp(k->snmp_tx, "RetransSegs");
    meter_begin(&m, k->cpu);
    e = kern_pump(c, s, rbuf, k->bytes, WARMUP_BYTES, k->verify, x);
    meter_end(&m, k->bytes, out, x);
    out->segments = (tapb_snmp_tcp(k->snmp_tx, "OutSegs") - out0) +
                    (tapb_snmp_tcp(k->snmp_rx, "OutSegs") - in0);
    x->retrans = tapb_snmp_tcp(k->snmp_tx, "RetransSegs") - re0;
out:
    if (c >= 0)
        close(c);
    if (s >= 0)
        close(s);
    free(rbuf);
    return e;
}

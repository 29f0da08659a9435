/* Two stacks joined by a zero-copy, zero-delay wire. */
#include "bench_pair.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void bench_pair_cfg_default(bench_pair_cfg *c)
{
    memset(c, 0, sizeof *c);
}

static int make_stack(bench_pair *p, const bench_pair_cfg *c, int i)
{
    ustk_config cfg;

    ustk_config_default(&cfg);
    cfg.link = c->ethernet ? USTK_LINK_ETHERNET : USTK_LINK_IP;
    cfg.ip = USTK_IP4(10, 0, 0, i + 1);
    cfg.prefix_len = 24;
    cfg.mac[0] = 0x02;
    cfg.mac[5] = (uint8_t)(i + 1);
    cfg.seed = 0x6265ull + (uint64_t)i;
    if (c->mtu)
        cfg.mtu = c->mtu;
    if (c->max_sockets[i])
        cfg.max_sockets = c->max_sockets[i];
    if (c->max_time_wait[i])
        cfg.max_time_wait = c->max_time_wait[i];
    if (c->buf) {
        cfg.snd_buf = c->buf;
        cfg.rcv_buf = c->buf;
        /* The smallest shift that lets the peer see the whole buffer
         * (RFC 7323 §2.3), never below the default. */
        while (cfg.wscale < 14 && ((uint32_t)65535 << cfg.wscale) < c->buf)
            cfg.wscale++;
    }
    if (c->eph_lo) {
        cfg.ephemeral_lo = c->eph_lo;
        cfg.ephemeral_hi = c->eph_hi;
    }
    if (c->backlog) {
        cfg.max_backlog = c->backlog;
        cfg.max_half_open = c->backlog;
    }
    if (c->count_mem)
        bench_mem_hook(&cfg, &p->mem[i]);
    return ustk_stack_create(&p->s[i], &cfg, p->now);
}

int bench_pair_create(bench_pair *p, const bench_pair_cfg *c, ustk_time now)
{
    int rc, i;

    memset(p, 0, sizeof *p);
    p->now = now;
    for (i = 0; i < 2; i++)
        if ((rc = make_stack(p, c, i)) < 0) {
            bench_pair_destroy(p);
            return rc;
        }
    p->frame_cap = ustk_stack_frame_max(p->s[0]);
    if (ustk_stack_frame_max(p->s[1]) > p->frame_cap)
        p->frame_cap = ustk_stack_frame_max(p->s[1]);
    for (i = 0; i < 2; i++)
        if (!(p->frame[i] = malloc(p->frame_cap))) {
            bench_pair_destroy(p);
            return USTK_ENOMEM;
        }
    p->batch = c->batch > 1 ? c->batch : 1;
    if (p->batch > 1 && (!(p->bframe = malloc(p->frame_cap * p->batch)) ||
                         !(p->blen = malloc(sizeof *p->blen * p->batch)))) {
        bench_pair_destroy(p);
        return USTK_ENOMEM;
    }
    return 0;
}

void bench_pair_destroy(bench_pair *p)
{
    int i;

    for (i = 0; i < 2; i++) {
        if (p->s[i])
            ustk_stack_destroy(p->s[i]);
        free(p->frame[i]);
        p->s[i] = NULL;
        p->frame[i] = NULL;
    }
    free(p->bframe);
    free(p->blen);
    p->bframe = NULL;
    p->blen = NULL;
}

uint64_t bench_pair_push(bench_pair *p, int from, uint64_t max)
{
    ustk_stack *a = p->s[from], *b = p->s[!from];
    uint8_t *fa = p->frame[from], *fb = p->frame[!from];
    size_t cap = p->frame_cap, len;
    ustk_time now = p->now;
    uint64_t k = 0, back = 0;

    while (k < max && ustk_poll_output(a, now, fa, cap, &len) == 0) {
        (void)ustk_input(b, now, fa, len);
        k++;
        while (ustk_poll_output(b, now, fb, cap, &len) == 0) {
            (void)ustk_input(a, now, fb, len);
            back++;
        }
    }
    return k + back;
}

uint64_t bench_pair_push_batch(bench_pair *p, int from, uint64_t max)
{
    ustk_stack *a = p->s[from], *b = p->s[!from];
    uint8_t *fb = p->frame[!from];
    size_t cap = p->frame_cap, len;
    ustk_time now = p->now;
    uint64_t k = 0, back = 0;
    uint32_t n, i;

    if (p->batch <= 1)
        return bench_pair_push(p, from, max);
    for (;;) {
        for (n = 0; n < p->batch && k + n < max; n++)
            if (ustk_poll_output(a, now, p->bframe + (size_t)n * cap, cap,
                                 &p->blen[n]) != 0)
                break;
        if (n == 0)
            break;
        for (i = 0; i < n; i++)
            (void)ustk_input(b, now, p->bframe + (size_t)i * cap, p->blen[i]);
        k += n;
        while (ustk_poll_output(b, now, fb, cap, &len) == 0) {
            (void)ustk_input(a, now, fb, len);
            back++;
        }
        if (k >= max)
            break;
    }
    return k + back;
}

uint64_t bench_pair_exchange(bench_pair *p)
{
    uint64_t total = 0, m;

    do {
        m = bench_pair_push(p, BENCH_CLIENT, UINT64_MAX);
        m += bench_pair_push(p, BENCH_SERVER, UINT64_MAX);
        total += m;
    } while (m);
    return total;
}

int bench_pair_listen(bench_pair *p, uint16_t port, int backlog)
{
    ustk_stack *s = p->s[BENCH_SERVER];
    ustk_sockaddr a = { 0, port };
    int l = ustk_open(s, USTK_PROTO_TCP), rc;

    if (l < 0)
        return l;
    if ((rc = ustk_bind(s, l, &a)) < 0 || (rc = ustk_listen(s, l, backlog)) < 0)
        return rc;
    return l;
}

const char *bench_pair_establish(bench_pair *p, uint32_t n, const int *lsock,
                                 unsigned nl, uint16_t port0, int *csock,
                                 int *ssock)
{
    ustk_stack *c = p->s[BENCH_CLIENT], *s = p->s[BENCH_SERVER];
    const ustk_config *cc = ustk_stack_config(c);
    uint32_t span = (uint32_t)cc->ephemeral_hi - cc->ephemeral_lo + 1;
    uint32_t batch = ustk_stack_config(s)->max_backlog;
    uint32_t done = 0;

    if (batch > ustk_stack_config(s)->max_half_open)
        batch = ustk_stack_config(s)->max_half_open;
    if (batch > 1024)
        batch = 1024;
    if ((uint64_t)n > (uint64_t)span * nl)
        return "more connections than ports (ephemeral range x listeners)";
    while (done < n) {
        uint32_t i, end = done + batch < n ? done + batch : n;
        unsigned li = done / span;
        /* One listener per batch: a batch never spans two of them, so the
         * accept loop below knows where to look. */
        if ((end - 1) / span != li)
            end = (li + 1) * span;
        for (i = done; i < end; i++) {
            ustk_sockaddr to = { USTK_IP4(10, 0, 0, 2),
                                 (uint16_t)(port0 + li) };
            int h = ustk_open(c, USTK_PROTO_TCP), rc;
            if (h < 0)
                return "the client ran out of sockets";
            rc = ustk_connect(c, h, &to, p->now);
            if (rc != USTK_EINPROGRESS)
                return "connect() failed";
            if (csock)
                csock[i] = h;
        }
        bench_pair_exchange(p);
        for (i = done; i < end; i++) {
            int h = ustk_accept(s, lsock[li], NULL);
            if (h < 0)
                return "a connection was not established";
            if (ssock)
                ssock[i] = h;
        }
        done = end;
    }
    return NULL;
}

const char *bench_pair_churn_one(bench_pair *p, int lsock, uint16_t port)
{
    ustk_stack *c = p->s[BENCH_CLIENT], *s = p->s[BENCH_SERVER];
    ustk_sockaddr to = { USTK_IP4(10, 0, 0, 2), port };
    uint8_t b = 'x';
    int ch, sh;

    if ((ch = ustk_open(c, USTK_PROTO_TCP)) < 0)
        return "the client ran out of sockets";
    if (ustk_connect(c, ch, &to, p->now) != USTK_EINPROGRESS)
        return "connect() failed";
    bench_pair_exchange(p);
    if ((sh = ustk_accept(s, lsock, NULL)) < 0)
        return "the server's stack could not take the connection";
    if (ustk_send(c, ch, &b, 1, p->now) != 1)
        return "the client could not send";
    bench_pair_exchange(p);
    if (ustk_recv(s, sh, &b, 1, p->now) != 1)
        return "the server received nothing";
    if (ustk_send(s, sh, &b, 1, p->now) != 1)
        return "the server could not send";
    bench_pair_exchange(p);
    if (ustk_recv(c, ch, &b, 1, p->now) != 1)
        return "the client received nothing";
    /* The server closes first: its end goes to TIME-WAIT. */
    ustk_close(s, sh, p->now);
    bench_pair_exchange(p);
    if (ustk_recv(c, ch, &b, 1, p->now) != 0)
        return "the client did not see the end of the stream";
    ustk_close(c, ch, p->now);
    bench_pair_exchange(p);
    return NULL;
}

uint64_t bench_pair_segs(const bench_pair *p)
{
    ustk_stack_stats a, b;

    ustk_stack_stats_get(p->s[0], &a);
    ustk_stack_stats_get(p->s[1], &b);
    return a.tcp_segs_out + b.tcp_segs_out;
}

/* Frames the sender puts on the wire before the applications get a turn
 * (the receiver's replies are handed back in between). */
#define BENCH_BURST 64

/* Move `bytes` from the client's application to the server's. */
const char *bench_pair_stream(bench_pair *p, int ch, int sh, uint8_t *rbuf,
                              uint64_t bytes, bool verify, uint64_t stream_off)
{
    ustk_stack *cs = p->s[BENCH_CLIENT], *ss = p->s[BENCH_SERVER];
    const uint8_t *pat = bench_pattern();
    uint64_t tx = 0, rx = 0;

    while (rx < bytes) {
        uint64_t moved;
        bool app = false;
        ptrdiff_t n;

        p->now = bench_usec();
        while (tx < bytes) {
            size_t len = BENCH_CHUNK;
            if (len > bytes - tx)
                len = (size_t)(bytes - tx);
            n = ustk_send(cs, ch, pat + (stream_off + tx) % BENCH_PAT_LEN,
                          len, p->now);
            if (n <= 0) {
                if (n != USTK_EAGAIN)
                    return "send() failed";
                break;
            }
            tx += (uint64_t)n;
            app = true;
        }
        moved = bench_pair_push_batch(p, BENCH_CLIENT, BENCH_BURST);
        for (;;) {
            n = ustk_recv(ss, sh, rbuf, BENCH_CHUNK, p->now);
            if (n <= 0) {
                if (n != USTK_EAGAIN)
                    return "recv() failed";
                break;
            }
            if (!bench_pattern_check(rbuf, (size_t)n, stream_off + rx,
                                     verify))
                return "the stream arrived damaged";
            rx += (uint64_t)n;
            app = true;
        }
        moved += bench_pair_push(p, BENCH_SERVER, UINT64_MAX);
        if (!moved && !app) {
            /* Nothing to do until a timer: sleep until then, as an event
             * loop would, so that the wait costs no CPU. (It happens at
             * the end of a stream: the last, short segment is held by
             * Nagle until the ACK of the one before, which the receiver
             * delays.) */
            ustk_time t = ustk_next_deadline(cs, p->now);
            ustk_time u = ustk_next_deadline(ss, p->now);
            if (u < t)
                t = u;
            if (t == USTK_TIME_NEVER)
                return "the stream stalled: nothing to send, no timer";
            if (t > p->now) {
                ustk_time d = t - p->now;
                struct timespec ts;
                if (d > 100000)
                    d = 100000;
                ts.tv_sec = 0;
                ts.tv_nsec = (long)d * 1000;
                nanosleep(&ts, NULL);
                p->waits++;
                p->wait_us += d;
            }
        }
    }
    return NULL;
}

/* ---- the byte stream ------------------------------------------------------- */

static uint8_t pattern[BENCH_PAT_LEN + BENCH_CHUNK];
static bool pattern_ready;

const uint8_t *bench_pattern(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t i;

    if (pattern_ready)
        return pattern;
    for (i = 0; i < BENCH_PAT_LEN; i += 8) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        memcpy(pattern + i, &z, 8);
    }
    memcpy(pattern + BENCH_PAT_LEN, pattern, BENCH_CHUNK);
    pattern_ready = true;
    return pattern;
}

bool bench_pattern_check(const uint8_t *buf, size_t len, uint64_t off,
                         bool full)
{
    const uint8_t *pat = bench_pattern();

    while (len) {
        size_t o = (size_t)(off % BENCH_PAT_LEN);
        size_t n = len < BENCH_CHUNK ? len : BENCH_CHUNK;
        if (full) {
            if (memcmp(buf, pat + o, n) != 0)
                return false;
        } else {
            size_t k = n < 8 ? n : 8;
            if (memcmp(buf, pat + o, k) != 0 ||
                memcmp(buf + n - k, pat + o + n - k, k) != 0)
                return false;
        }
        buf += n;
        off += n;
        len -= n;
    }
    return true;
}

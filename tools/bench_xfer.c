/* One bulk transfer for the benches. */
#include "bench_xfer.h"

#include <stdlib.h>
#include <string.h>

#define XFER_PORT 5001
#define PAT_LEN 65536u /* the stream repeats this many pseudo-random bytes */

typedef struct xfer {
    const xfer_params *p;
    xfer_result *r;
    ustk_stack *stack[2]; /* client (sender), server (receiver) */
    ustk_link *link[2];
    ustk_time now;
    int csock, lsock, ssock;
    bool connected;
    uint64_t tx, rx;
    uint32_t ssthresh; /* the sender's, as last traced */
    uint8_t pat[PAT_LEN];
    uint8_t buf[PAT_LEN];
} xfer;

void xfer_params_default(xfer_params *p)
{
    memset(p, 0, sizeof *p);
    p->cc = USTK_CC_NEWRENO;
    p->sack = true;
    p->latency = USTK_MS(10);
    p->rate_bps = 100000000u;
    p->queue_limit = 4096;
    p->buf = 4u << 20;
    p->mtu = 1500;
    p->bytes = 10000000;
    p->seed = 1;
    p->limit = USTK_SEC(3600);
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The smallest window shift that lets the peer see the whole buffer
 * (RFC 7323 §2.3), and never less than the stack's default. */
static uint8_t wscale_for(uint32_t buf, uint8_t dflt)
{
    uint8_t s = 0;

    while (s < 14 && ((uint32_t)65535 << s) < buf)
        s++;
    return s > dflt ? s : dflt;
}

/* The sender's trace: only timeouts and congestion-window changes. */
static void on_trace(void *ctx, const ustk_trace_event *ev)
{
    xfer *x = ctx;

    if (ev->kind == USTK_TRACE_TIMER && ev->timer == USTK_TIMER_RTX)
        x->r->rto_fired++;
    if (ev->kind == USTK_TRACE_CWND) {
        if (ev->ssthresh < x->ssthresh)
            x->r->ssthresh_cuts++;
        x->ssthresh = ev->ssthresh;
    }
}

static int make_stack(xfer *x, int i)
{
    const xfer_params *p = x->p;
    ustk_config cfg;

    ustk_config_default(&cfg);
    cfg.link = USTK_LINK_IP;
    cfg.ip = USTK_IP4(10, 0, 0, i + 1);
    cfg.prefix_len = 24;
    cfg.mtu = p->mtu;
    cfg.seed = p->seed * 2 + (uint64_t)i;
    cfg.max_sockets = 8;
    cfg.snd_buf = p->buf;
    cfg.rcv_buf = p->buf;
    cfg.wscale = wscale_for(p->buf, cfg.wscale);
    cfg.cc = (uint8_t)p->cc;
    cfg.opt_sack = p->sack;
    if (i == 0) {
        cfg.trace = on_trace;
        cfg.trace_ctx = x;
    }
    return ustk_stack_create(&x->stack[i], &cfg, x->now);
}

static int setup(xfer *x)
{
    const xfer_params *p = x->p;
    ustk_sockaddr srv = { USTK_IP4(10, 0, 0, 2), XFER_PORT };
    ustk_sim_params sp;
    uint64_t st = p->seed ^ 0x5eedull;
    size_t i;
    int rc;

    for (i = 0; i < PAT_LEN; i += 8) {
        uint64_t w = splitmix64(&st);
        memcpy(x->pat + i, &w, 8);
    }
    ustk_sim_params_default(&sp);
    sp.kind = USTK_LINK_IP;
    sp.latency = p->latency;
    sp.rate_bps = p->rate_bps;
    sp.queue_limit = p->queue_limit;
    sp.seed = p->seed;
    sp.loss = p->loss;
    if ((rc = ustk_sim_pair_create(&x->link[0], &x->link[1], &sp)) < 0 ||
        (rc = make_stack(x, 0)) < 0 || (rc = make_stack(x, 1)) < 0)
        return rc;
    if ((rc = x->lsock = ustk_open(x->stack[1], USTK_PROTO_TCP)) < 0 ||
        (rc = ustk_bind(x->stack[1], x->lsock, &srv)) < 0 ||
        (rc = ustk_listen(x->stack[1], x->lsock, 1)) < 0 ||
        (rc = x->csock = ustk_open(x->stack[0], USTK_PROTO_TCP)) < 0)
        return rc;
    rc = ustk_connect(x->stack[0], x->csock, &srv, x->now);
    return rc == USTK_EINPROGRESS ? 0 : rc;
}

/* The client keeps the send buffer full. */
static void send_some(xfer *x)
{
    ustk_stack *s = x->stack[0];
    ptrdiff_t n;

    if (!x->connected) {
        int ev = ustk_sock_poll(s, x->csock);
        if (ev < 0 || (ev & USTK_ERROR)) {
            x->r->why = "connect() failed";
            return;
        }
        if (!(ev & USTK_WRITABLE))
            return;
        x->connected = true;
    }
    while (x->tx < x->p->bytes) {
        size_t off = (size_t)(x->tx % PAT_LEN), len = PAT_LEN - off;
        if (len > x->p->bytes - x->tx)
            len = (size_t)(x->p->bytes - x->tx);
        n = ustk_send(s, x->csock, x->pat + off, len, x->now);
        if (n == USTK_EAGAIN)
            break;
        if (n < 0) {
            x->r->why = "send() failed";
            return;
        }
        x->tx += (uint64_t)n;
    }
}

/* The server reads everything there is and checks it against the
 * pattern. */
static void recv_some(xfer *x)
{
    ustk_stack *s = x->stack[1];
    ptrdiff_t n;

    if (x->ssock < 0) {
        int rc = ustk_accept(s, x->lsock, NULL);
        if (rc == USTK_EAGAIN)
            return;
        if (rc < 0) {
            x->r->why = "accept() failed";
            return;
        }
        x->ssock = rc;
    }
    for (;;) {
        size_t done = 0;
        n = ustk_recv(s, x->ssock, x->buf, sizeof x->buf, x->now);
        if (n == USTK_EAGAIN)
            return;
        if (n <= 0) {
            x->r->why = n == 0 ? "the sender closed early" : "recv() failed";
            return;
        }
        while (done < (size_t)n) {
            size_t off = (size_t)((x->rx + done) % PAT_LEN);
            size_t len = PAT_LEN - off;
            if (len > (size_t)n - done)
                len = (size_t)n - done;
            if (memcmp(x->buf + done, x->pat + off, len) != 0)
                x->r->intact = false;
            done += len;
        }
        x->rx += (uint64_t)n;
    }
}

static void run(xfer *x)
{
    ustk_sim_node nodes[2] = { { x->stack[0], x->link[0] },
                               { x->stack[1], x->link[1] } };
    xfer_result *r = x->r;

    for (;;) {
        send_some(x);
        recv_some(x);
        if (r->why)
            return;
        if (x->rx >= x->p->bytes) {
            r->done = x->rx == x->p->bytes;
            if (!r->done)
                r->why = "more bytes arrived than were sent";
            return;
        }
        if (x->now >= x->p->limit) {
            r->why = "out of virtual time";
            return;
        }
        if (!ustk_sim_step(nodes, 2, &x->now, x->p->limit)) {
            r->why = "stalled: no frame in flight, no timer armed";
            return;
        }
    }
}

int xfer_run(const xfer_params *p, xfer_result *r)
{
    xfer *x = calloc(1, sizeof *x);
    int rc, i;

    memset(r, 0, sizeof *r);
    if (!x)
        return USTK_ENOMEM;
    x->p = p;
    x->r = r;
    x->csock = x->lsock = x->ssock = -1;
    x->ssthresh = UINT32_MAX;
    r->intact = true;
    rc = setup(x);
    if (rc == 0) {
        run(x);
        r->bytes = x->rx;
        r->duration = x->now;
        if (x->now > 0)
            r->goodput_bps = (double)x->rx * 8e6 / (double)x->now;
        (void)ustk_tcp_info_get(x->stack[0], x->csock, &r->snd);
        ustk_sim_stats_get(x->link[0], &r->wire);
    }
    for (i = 0; i < 2; i++) {
        if (x->stack[i])
            ustk_stack_destroy(x->stack[i]);
        if (x->link[i])
            ustk_link_destroy(x->link[i]);
    }
    free(x);
    return rc;
}

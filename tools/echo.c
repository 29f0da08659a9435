/* The demo's echo client and server over the non-blocking socket API. */
#include "echo.h"

#include <stdarg.h>
#include <string.h>

#define ECHO_CHUNK 16384

static void note(echo *e, int side, const char *text)
{
    if (e->note)
        e->note(e->note_ctx, e->now, side, text);
}

/* Record the first reason the demo failed; later ones are consequences. */
__attribute__((format(printf, 2, 3)))
static void fail(echo *e, const char *fmt, ...)
{
    va_list ap;

    if (e->failed)
        return;
    e->failed = true;
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof e->why, fmt, ap);
    va_end(ap);
}

#define FAIL_RETURN(...)                                                      \
    do {                                                                      \
        fail(__VA_ARGS__);                                                    \
        return;                                                               \
    } while (0)

/* ---- the byte stream and its hash -------------------------------------- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The client's stream: the greeting, then pseudo-random bytes that any
 * offset can regenerate, so 100 MB never have to sit in memory. */
static void stream_fill(const echo *e, uint8_t *buf, uint64_t off, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++, off++) {
        if (off < ECHO_GREETING_LEN) {
            buf[i] = (uint8_t)ECHO_GREETING[off];
        } else {
            uint64_t q = off - ECHO_GREETING_LEN;
            uint64_t w = splitmix64(e->seed * 0x100000001b3ull + q / 8);
            buf[i] = (uint8_t)(w >> (8 * (q % 8)));
        }
    }
}

/* FNV-1a, 64 bits: enough to tell two streams apart in a demo. */
static void fnv1a(uint64_t *h, const uint8_t *p, size_t n)
{
    while (n--) {
        *h ^= *p++;
        *h *= 0x100000001b3ull;
    }
}

/* ---- the applications -------------------------------------------------- */

static void snapshot(echo *e, int side)
{
    int sock = side == ECHO_CLIENT ? e->csock : e->ssock;

    if (sock >= 0 &&
        ustk_tcp_info_get(e->stack[side], sock, &e->info[side]) == 0)
        e->have_info[side] = true;
}

static void do_close(echo *e, int side)
{
    int *sock = side == ECHO_CLIENT ? &e->csock : &e->ssock;
    int rc;

    snapshot(e, side);
    note(e, side, "close()");
    rc = ustk_close(e->stack[side], *sock, e->now);
    if (rc < 0)
        fail(e, "close() failed: %s", ustk_strerror(rc));
    *sock = -1;
    if (side == ECHO_CLIENT)
        e->c_closed = true;
    else
        e->s_closed = true;
}

static void client_io(echo *e)
{
    ustk_stack *s = e->stack[ECHO_CLIENT];
    uint8_t buf[ECHO_CHUNK];
    ptrdiff_t r;

    /* Bytes are made when there is room for them, kept until sent. */
    while (e->tx < e->total) {
        if (e->t_len == 0) {
            uint64_t left = e->total - e->tx;
            e->t_len = left < sizeof e->tbuf ? (size_t)left : sizeof e->tbuf;
            e->t_off = 0;
            stream_fill(e, e->tbuf, e->tx, e->t_len);
        }
        r = ustk_send(s, e->csock, e->tbuf + e->t_off, e->t_len, e->now);
        if (r == USTK_EAGAIN)
            break;
        if (r < 0)
            FAIL_RETURN(e, "client send() failed: %s", ustk_strerror((int)r));
        fnv1a(&e->h_tx, e->tbuf + e->t_off, (size_t)r);
        e->t_off += (size_t)r;
        e->t_len -= (size_t)r;
        e->tx += (uint64_t)r;
    }
    while (!e->c_eof) {
        r = ustk_recv(s, e->csock, buf, sizeof buf, e->now);
        if (r == USTK_EAGAIN)
            break;
        if (r < 0)
            FAIL_RETURN(e, "client recv() failed: %s", ustk_strerror((int)r));
        if (r == 0) {
            e->c_eof = true;
            break;
        }
        fnv1a(&e->h_rx, buf, (size_t)r);
        e->rx += (uint64_t)r;
        if (e->rx > e->total)
            FAIL_RETURN(e, "%s", "the server sent more bytes than it got");
        if (e->rx == e->total)
            e->t_done = e->now;
    }
}

static void client_step(echo *e)
{
    int ev, err;

    if (e->c_closed)
        return;
    ev = ustk_sock_poll(e->stack[ECHO_CLIENT], e->csock);
    if (ev < 0)
        FAIL_RETURN(e, "client poll failed: %s", ustk_strerror(ev));
    if (ev & USTK_ERROR) {
        err = ustk_sock_error(e->stack[ECHO_CLIENT], e->csock);
        if (err < 0)
            FAIL_RETURN(e, e->connected ? "client connection failed: %s"
                                        : "connect() failed: %s",
                        ustk_strerror(err));
    }
    if (!e->connected) {
        if (!(ev & USTK_WRITABLE))
            return;
        e->connected = true;
    }
    client_io(e);
    if (e->failed)
        return;
    if (e->c_eof && e->rx < e->total)
        FAIL_RETURN(e, "%s", "the server closed before echoing everything");
    if (e->close == DEMO_CLOSE_SERVER ? e->c_eof : e->rx == e->total) {
        do_close(e, ECHO_CLIENT);
        /* Simultaneous close: the server closes at the same instant. */
        if (e->close == DEMO_CLOSE_BOTH && e->ssock >= 0)
            do_close(e, ECHO_SERVER);
    }
}

static void server_echo(echo *e)
{
    ustk_stack *s = e->stack[ECHO_SERVER];
    ptrdiff_t r;

    for (;;) {
        if (e->e_len) {
            r = ustk_send(s, e->ssock, e->ebuf + e->e_off, e->e_len, e->now);
            if (r == USTK_EAGAIN)
                break;
            if (r < 0)
                FAIL_RETURN(e, "server send() failed: %s",
                            ustk_strerror((int)r));
            e->e_off += (size_t)r;
            e->e_len -= (size_t)r;
            continue;
        }
        if (e->s_eof)
            break;
        r = ustk_recv(s, e->ssock, e->ebuf, sizeof e->ebuf, e->now);
        if (r == USTK_EAGAIN)
            break;
        if (r < 0)
            FAIL_RETURN(e, "server recv() failed: %s", ustk_strerror((int)r));
        if (r == 0) {
            e->s_eof = true;
            break;
        }
        e->e_off = 0;
        e->e_len = (size_t)r;
        e->s_rx += (uint64_t)r;
    }
}

static void server_step(echo *e)
{
    ustk_stack *s = e->stack[ECHO_SERVER];
    int r;

    if (e->ssock < 0 && !e->s_closed) {
        r = ustk_accept(s, e->lsock, NULL);
        if (r == USTK_EAGAIN)
            return;
        if (r < 0)
            FAIL_RETURN(e, "accept() failed: %s", ustk_strerror(r));
        e->ssock = r;
        note(e, ECHO_SERVER, "accept()");
        /* One connection is all this server takes. */
        ustk_close(s, e->lsock, e->now);
        e->lsock = -1;
    }
    if (e->s_closed)
        return;
    r = ustk_sock_poll(s, e->ssock);
    if (r < 0)
        FAIL_RETURN(e, "server poll failed: %s", ustk_strerror(r));
    if (r & USTK_ERROR) {
        int err = ustk_sock_error(s, e->ssock);
        if (err < 0)
            FAIL_RETURN(e, "server connection failed: %s", ustk_strerror(err));
    }
    server_echo(e);
    if (e->failed || e->e_len)
        return;
    if ((e->close == DEMO_CLOSE_CLIENT && e->s_eof) ||
        (e->close == DEMO_CLOSE_SERVER && e->s_rx == e->total))
        do_close(e, ECHO_SERVER);
}

int echo_start(echo *e, ustk_time now)
{
    ustk_stack *cs = e->stack[ECHO_CLIENT], *ss = e->stack[ECHO_SERVER];
    char to[40];
    int rc;

    e->now = now;
    e->csock = e->lsock = e->ssock = -1;
    e->h_tx = e->h_rx = 0xcbf29ce484222325ull; /* FNV-1a offset basis */
    if ((rc = e->lsock = ustk_open(ss, USTK_PROTO_TCP)) < 0 ||
        (rc = ustk_bind(ss, e->lsock, &e->server_addr)) < 0 ||
        (rc = ustk_listen(ss, e->lsock, 1)) < 0 ||
        (rc = e->csock = ustk_open(cs, USTK_PROTO_TCP)) < 0 ||
        (rc = ustk_bind(cs, e->csock, &e->client_addr)) < 0) {
        fail(e, "setting up the sockets failed: %s", ustk_strerror(rc));
        return rc;
    }
    snprintf(to, sizeof to, "connect() to %u.%u.%u.%u:%u",
             e->server_addr.addr >> 24, (e->server_addr.addr >> 16) & 255,
             (e->server_addr.addr >> 8) & 255, e->server_addr.addr & 255,
             e->server_addr.port);
    note(e, ECHO_CLIENT, to);
    rc = ustk_connect(cs, e->csock, &e->server_addr, now);
    if (rc < 0 && rc != USTK_EINPROGRESS) {
        fail(e, "connect() failed: %s", ustk_strerror(rc));
        return rc;
    }
    return 0;
}

void echo_step(echo *e, ustk_time now)
{
    e->now = now;
    client_step(e);
    server_step(e);
    snapshot(e, ECHO_CLIENT);
    snapshot(e, ECHO_SERVER);
}

bool echo_closed(const echo *e)
{
    return e->c_closed && e->s_closed;
}

bool echo_intact(const echo *e)
{
    return e->tx == e->total && e->rx == e->total && e->h_tx == e->h_rx;
}

/* After a failure: what an open connection was doing, for whoever debugs. */
static void explain(const echo *e, FILE *f, int side, int sock)
{
    ustk_tcp_info ti;

    if (sock < 0 || ustk_tcp_info_get(e->stack[side], sock, &ti) < 0)
        return;
    fprintf(f,
            "  %s: %s, snd_una %u snd_nxt %u snd_wnd %u, %u bytes to send, "
            "%u to read, rto %u ms, backoff %u, %u retransmits\n",
            side == ECHO_CLIENT ? "client" : "server",
            ustk_tcp_state_name(ti.state), ti.snd_una - ti.iss,
            ti.snd_nxt - ti.iss, ti.snd_wnd, ti.snd_queued, ti.rcv_queued,
            ti.rto_us / 1000, ti.backoff, ti.retransmits);
}


void echo_explain(const echo *e, FILE *f)
{
    explain(e, f, ECHO_CLIENT, e->csock);
    explain(e, f, ECHO_SERVER, e->ssock);
}

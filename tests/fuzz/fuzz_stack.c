/* Fuzz target: two stacks in one process, talking TCP (and some UDP) over
 * an in-memory wire whose frames the input mutates in flight.
 *
 * The first bytes of the input choose the setup: link kind, TCP options,
 * buffer sizes, MTU, how many connections, how they close, tracing, small
 * tables, failing allocations, how much each client sends. The rest is a
 * tape read one entry per frame a stack sends: pass it, drop it, send it
 * twice, hold it back (reordering), cut its end, or change some of its
 * bytes. Some changes come with the IPv4 header and TCP, UDP or ICMP
 * checksums made right again afterwards, so that they get past the
 * checksums and into the state machines; the others must be dropped there.
 * An exhausted tape passes every frame.
 *
 * Invariants, besides no crash and no sanitizer report:
 *  - the run ends: virtual time and steps are bounded, and a stack that
 *    says it has work at `now` does it (no spinning at one instant);
 *  - a frame whose bytes changed and whose checksums still hold "taints"
 *    the run; in a run without taint every byte stream read is a prefix of
 *    what was sent, byte for byte, and the end of a stream (FIN) comes
 *    only after all of it; UDP datagrams arrive whole;
 *  - once every handle is closed and the longest TCP timer has run out,
 *    no connection block or TIME-WAIT record is left;
 *  - every byte the stacks allocated through the config's hooks is freed
 *    by the time they are destroyed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "ustack/ustack.h"

#define SETUP_BYTES 5
#define MAX_CONN 4
#define WIRE_SLOTS 256
#define FRAME_CAP (4000 + 14)
#define RUN_LIMIT USTK_SEC(120)      /* the conversation */
#define SETTLE_LIMIT USTK_SEC(400)   /* then everything closed and quiet */
#define MAX_STEPS 40000
#define CHUNK 4096
#define SERVER_PORT 80
#define UDP_PORT 53
#define UDP_COUNT 3

/* Memory handed out through a stack's hooks: a header before each block
 * holds its size. */
typedef struct fz_mem {
    size_t live_bytes, live_blocks;
    uint64_t calls;
    uint64_t fail_every; /* 0 = never fail; else every n-th call fails */
    bool failing;        /* failures start after the setup */
} fz_mem;

typedef union fz_hdr {
    size_t size;
    max_align_t align;
} fz_hdr;

static void *fz_alloc(void *ctx, size_t size)
{
    fz_mem *m = ctx;
    fz_hdr *h;

    m->calls++;
    if (m->failing && m->fail_every && m->calls % m->fail_every == 0)
        return NULL;
    if (!(h = malloc(sizeof *h + size)))
        return NULL;
    h->size = size;
    m->live_bytes += size;
    m->live_blocks++;
    return h + 1;
}

static void fz_free(void *ctx, void *ptr)
{
    fz_mem *m = ctx;
    fz_hdr *h;

    if (!ptr)
        return;
    h = (fz_hdr *)ptr - 1;
    FUZZ_CHECK(m->live_blocks > 0 && m->live_bytes >= h->size);
    m->live_bytes -= h->size;
    m->live_blocks--;
    free(h);
}

typedef struct fz_frame {
    ustk_time at;
    uint64_t order; /* ties at one instant go in the order sent */
    int to;         /* 0 = client stack, 1 = server stack */
    size_t len;
    uint8_t data[FRAME_CAP];
} fz_frame;

typedef struct fz_conn {
    int c, s;              /* client and server handles, -1 when none */
    ustk_time start;       /* when the client connects */
    bool started;
    uint16_t port;         /* the client's port */
    size_t total;          /* bytes the client sends */
    size_t sent, srv_got, cli_got;
    size_t echoed;         /* bytes the server's sends took */
    uint8_t pend[CHUNK];   /* read by the server, not yet echoed */
    size_t pend_len, pend_off;
    bool cli_eof, srv_eof, cli_done, srv_done, aborted, shut;
    bool srv_bad, cli_bad; /* a byte read differs from the pattern */
    int cli_err, srv_err;  /* the error that ended a side, if any */
} fz_conn;

typedef struct fz {
    /* Setup */
    bool eth, echo, udp, small_tables;
    bool step_poll;     /* after each frame in, one frame out of each */
    bool deliver_first; /* at each instant, frames in before timers run */
    int close_mode, nconn;
    uint16_t mtu;
    ustk_time latency;  /* one way */
    /* The tape */
    const uint8_t *tape;
    size_t tape_len, tape_pos;
    /* The world */
    ustk_stack *st[2];
    fz_mem mem[2];
    ustk_time now;
    fz_frame wire[WIRE_SLOTS];
    int nwire;
    uint64_t order;
    uint8_t out[FRAME_CAP], orig[FRAME_CAP];
    bool tainted;
    int listener, udp_c, udp_s;
    int udp_sent, udp_got;
    fz_conn conn[MAX_CONN];
    uint64_t traced;
} fz;

static fz world;

static uint8_t pattern(int k, size_t i)
{
    return (uint8_t)(i * 131u + (i >> 8) * 7u + (unsigned)k * 37u + 1u);
}

static unsigned take(fz *f)
{
    return f->tape_pos < f->tape_len ? f->tape[f->tape_pos++] : 0;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* RFC 1071, written out here rather than taken from the library, so that
 * a fault in the library's checksum cannot hide itself. */
static uint16_t sum16(uint32_t start, const uint8_t *p, size_t n)
{
    uint64_t s = start;

    for (size_t i = 0; i + 1 < n; i += 2)
        s += rd16(p + i);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint32_t pseudo(const uint8_t *ip, uint8_t proto, size_t len)
{
    return rd16(ip + 12) + rd16(ip + 14) + rd16(ip + 16) + rd16(ip + 18) +
           proto + (uint32_t)len;
}

/* The IPv4 packet in a frame: its offset and the bytes there are. */
static bool find_ip(const fz *f, const uint8_t *fr, size_t len, size_t *off)
{
    if (!f->eth) {
        *off = 0;
        return true;
    }
    if (len < 14 || rd16(fr + 12) != 0x0800)
        return false;
    *off = 14;
    return true;
}

/* Make a changed frame's checksums right again: the IPv4 header's (Total
 * Length cut to the bytes there are), then TCP's, UDP's (Length too) or
 * ICMP's, unless the packet is a fragment. */
static void fix_frame(const fz *f, uint8_t *fr, size_t len)
{
    size_t off, n, ihl, total;
    uint8_t *ip;

    if (!find_ip(f, fr, len, &off))
        return;
    ip = fr + off;
    n = len - off;
    if (n < 20 || ip[0] >> 4 != 4)
        return;
    ihl = (size_t)(ip[0] & 15) * 4;
    if (ihl < 20 || ihl > n)
        return;
    total = rd16(ip + 2);
    if (total > n || total < ihl)
        total = n;
    wr16(ip + 2, (uint16_t)total);
    wr16(ip + 10, 0);
    wr16(ip + 10, (uint16_t)~sum16(0, ip, ihl));
    if (rd16(ip + 6) & 0x3fff)
        return;
    uint8_t *p = ip + ihl;
    size_t plen = total - ihl;
    switch (ip[9]) {
    case 6:
        if (plen < 20)
            return;
        wr16(p + 16, 0);
        wr16(p + 16, (uint16_t)~sum16(pseudo(ip, 6, plen), p, plen));
        break;
    case 17: {
        if (plen < 8)
            return;
        size_t ulen = rd16(p + 4);
        if (ulen < 8 || ulen > plen)
            wr16(p + 4, (uint16_t)(ulen = plen));
        wr16(p + 6, 0);
        uint16_t c = (uint16_t)~sum16(pseudo(ip, 17, ulen), p, ulen);
        wr16(p + 6, c ? c : 0xffff);
        break;
    }
    case 1:
        if (plen < 8)
            return;
        wr16(p + 2, 0);
        wr16(p + 2, (uint16_t)~sum16(0, p, plen));
        break;
    default:
        break;
    }
}

/* Could the receiving stack take this frame's contents for real? Frames
 * that fail a check it must make (IPv4 header, TCP, UDP or ICMP checksum)
 * cannot; anything else is given the benefit of the doubt (ARP and the
 * Ethernet header have no checksum; a fragment's payload is checked only
 * after reassembly). */
static bool could_pass(const fz *f, const uint8_t *fr, size_t len)
{
    size_t off, n, ihl, total;
    const uint8_t *ip;

    if (f->eth && len >= 14 && rd16(fr + 12) == 0x0806)
        return true;
    if (!find_ip(f, fr, len, &off))
        return false;
    ip = fr + off;
    n = len - off;
    if (n < 20 || ip[0] >> 4 != 4)
        return false;
    ihl = (size_t)(ip[0] & 15) * 4;
    total = rd16(ip + 2);
    if (ihl < 20 || ihl > n || total < ihl || total > n)
        return false;
    if (sum16(0, ip, ihl) != 0xffff)
        return false;
    if (rd16(ip + 6) & 0x3fff)
        return true;
    const uint8_t *p = ip + ihl;
    size_t plen = total - ihl;
    switch (ip[9]) {
    case 6:
        return plen >= 20 && sum16(pseudo(ip, 6, plen), p, plen) == 0xffff;
    case 17: {
        if (plen < 8)
            return false;
        size_t ulen = rd16(p + 4);
        if (ulen < 8 || ulen > plen)
            return false;
        return rd16(p + 6) == 0 ||
               sum16(pseudo(ip, 17, ulen), p, ulen) == 0xffff;
    }
    case 1:
        return plen >= 8 && sum16(0, p, plen) == 0xffff;
    default:
        return true;
    }
}

static void wire_put(fz *f, int to, const uint8_t *data, size_t len,
                     ustk_time at)
{
    fz_frame *w;

    /* A full wire loses the frame, as a full queue would. */
    if (f->nwire == WIRE_SLOTS || len > FRAME_CAP)
        return;
    w = &f->wire[f->nwire++];
    w->at = at;
    w->order = f->order++;
    w->to = to;
    w->len = len;
    memcpy(w->data, data, len);
}

/* A frame `from` sent: what the tape says happens to it. */
static void transmit(fz *f, int from, uint8_t *fr, size_t len)
{
    unsigned op = take(f);
    ustk_time at = f->now + f->latency;
    int to = !from;

    if (op < 0x80) {
        wire_put(f, to, fr, len, at);
        return;
    }
    if (op < 0x90)
        return; /* lost */
    if (op < 0xa0) {
        wire_put(f, to, fr, len, at);
        wire_put(f, to, fr, len, at + (op & 15) * 100u);
        return;
    }
    if (op < 0xb0) {
        /* Held back a little (reordering), or for long enough that a
         * retransmission timer runs out first. */
        unsigned n = op & 15;
        wire_put(f, to, fr, len,
                 at + (n < 8 ? (n + 1) * 300u : (n - 7) * USTK_MS(250)));
        return;
    }
    memcpy(f->orig, fr, len);
    size_t olen = len;
    bool fix;
    if (op < 0xc0) {
        /* Cut 1..256 bytes off the end; keep at least one. */
        size_t cut = take(f) + 1u;
        len = cut < len ? len - cut : 1;
        fix = (op & 8) != 0;
    } else {
        /* 1..8 edits: replace or XOR a byte anywhere, in the first 64
         * bytes of the IPv4 header and what follows (TCP header and
         * options), or in the transport header's first 20 bytes. */
        unsigned edits = (op & 7) + 1, mode = (op >> 3) & 3;
        size_t ipoff = 0;
        fix = (op & 0x20) != 0;
        (void)find_ip(f, fr, len, &ipoff);
        for (unsigned i = 0; i < edits; i++) {
            unsigned hi = take(f), lo = take(f), val = take(f);
            size_t pos;
            switch (mode) {
            case 0:
            case 1:
                pos = ((size_t)hi << 8 | lo) % len;
                break;
            case 2:
                pos = (ipoff + lo % 64u) % len;
                break;
            default:
                pos = (ipoff + 20 + lo % 20u) % len;
                break;
            }
            if (mode == 1)
                fr[pos] ^= (uint8_t)(val ? val : 1);
            else
                fr[pos] = (uint8_t)val;
        }
    }
    if (fix)
        fix_frame(f, fr, len);
    bool changed = len != olen || memcmp(fr, f->orig, len) != 0;
    if (changed && could_pass(f, fr, len))
        f->tainted = true;
    wire_put(f, to, fr, len, at);
}

/* Up to max frames stack i wants to send now. Returns how many. */
static int poll_stack(fz *f, int i, int max)
{
    int moved = 0;
    size_t len;

    while (moved < max && ustk_poll_output(f->st[i], f->now, f->out,
                                           sizeof f->out, &len) == 0) {
        FUZZ_CHECK(len > 0 && len <= ustk_stack_frame_max(f->st[i]));
        transmit(f, i, f->out, len);
        moved++;
    }
    return moved;
}

/* Every frame both stacks want to send now. */
static int poll_out(fz *f)
{
    return poll_stack(f, 0, INT32_MAX) + poll_stack(f, 1, INT32_MAX);
}

/* Deliver the frames due by now, earliest first. Returns how many. */
static int deliver(fz *f)
{
    int moved = 0;

    for (;;) {
        int best = -1;
        for (int i = 0; i < f->nwire; i++)
            if (f->wire[i].at <= f->now &&
                (best < 0 || f->wire[i].at < f->wire[best].at ||
                 (f->wire[i].at == f->wire[best].at &&
                  f->wire[i].order < f->wire[best].order)))
                best = i;
        if (best < 0)
            return moved;
        fz_frame *w = &f->wire[best];
        int to = w->to;
        (void)ustk_input(f->st[to], f->now, w->data, w->len);
        *w = f->wire[--f->nwire];
        moved++;
        /* What the frame causes goes out before the next one comes in:
         * all of it, or (as a link that takes turns would) one frame of
         * each stack, the rest after. */
        if (f->step_poll)
            moved += poll_stack(f, to, 1) + poll_stack(f, !to, 1);
        else
            moved += poll_out(f);
    }
}

static void check_stream(int k, const uint8_t *buf, size_t off, size_t n,
                         bool *bad)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] != pattern(k, off + i))
            *bad = true;
}

static bool is_err(ptrdiff_t rc)
{
    return rc < 0 && rc != USTK_EAGAIN;
}

static void client_close(fz *f, fz_conn *c)
{
    if (c->c >= 0)
        (void)ustk_close(f->st[0], c->c, f->now);
    c->c = -1;
    c->cli_done = true;
}

static void server_close(fz *f, fz_conn *c)
{
    if (c->s >= 0)
        (void)ustk_close(f->st[1], c->s, f->now);
    c->s = -1;
    c->srv_done = true;
}

/* The client of connection k: send the pattern, read the echo, close as
 * the close mode says. */
static int client_step(fz *f, int k)
{
    fz_conn *c = &f->conn[k];
    ustk_stack *s = f->st[0];
    uint8_t buf[CHUNK];
    int acted = 0;
    ptrdiff_t rc;

    if (c->c < 0)
        return 0;
    if (!c->started) {
        ustk_sockaddr to = { USTK_IP4(10, 0, 0, 2), SERVER_PORT };
        if (f->now < c->start)
            return 0;
        c->started = true;
        int rc0 = ustk_connect(s, c->c, &to, f->now);
        if (rc0 != USTK_EINPROGRESS) {
            c->cli_err = rc0;
            client_close(f, c);
        }
        return 1;
    }
    while (c->sent < c->total) {
        size_t n = c->total - c->sent;
        if (n > sizeof buf)
            n = sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(k, c->sent + i);
        rc = ustk_send(s, c->c, buf, n, f->now);
        if (rc == USTK_EAGAIN || rc == USTK_ENOBUFS)
            break;
        if (rc < 0) {
            c->cli_err = (int)rc;
            client_close(f, c);
            return 1;
        }
        FUZZ_CHECK(rc > 0 && (size_t)rc <= n);
        c->sent += (size_t)rc;
        acted = 1;
    }
    if (f->close_mode == 3 && c->srv_got >= c->total / 2) {
        /* The abortive close, once the server has half the stream. */
        (void)ustk_abort(s, c->c, f->now);
        c->c = -1;
        c->aborted = c->cli_done = true;
        return 1;
    }
    for (;;) {
        rc = ustk_recv(s, c->c, buf, sizeof buf, f->now);
        if (rc == 0) {
            if (!c->cli_eof)
                acted = 1;
            c->cli_eof = true;
            break;
        }
        if (rc < 0) {
            if (is_err(rc)) {
                c->cli_err = (int)rc;
                client_close(f, c);
                return 1;
            }
            break;
        }
        FUZZ_CHECK((size_t)rc <= sizeof buf);
        check_stream(k, buf, c->cli_got, (size_t)rc, &c->cli_bad);
        c->cli_got += (size_t)rc;
        acted = 1;
    }
    bool all_sent = c->sent == c->total;
    bool all_back = !f->echo || c->cli_got >= c->total;
    switch (f->close_mode) {
    case 0: /* the client closes first, once it has everything */
        if (all_sent && all_back) {
            client_close(f, c);
            acted = 1;
        }
        break;
    case 1: /* the server closes first: the client closes on its FIN */
        if (c->cli_eof) {
            client_close(f, c);
            acted = 1;
        }
        break;
    case 2: /* half-close: shut down sending, read until the FIN */
        if (all_sent && !c->shut) {
            (void)ustk_shutdown(s, c->c, USTK_SHUT_WR, f->now);
            c->shut = true;
            acted = 1;
        }
        if (c->cli_eof) {
            client_close(f, c);
            acted = 1;
        }
        break;
    default:
        break;
    }
    return acted;
}

static int server_step(fz *f, int k)
{
    fz_conn *c = &f->conn[k];
    ustk_stack *s = f->st[1];
    uint8_t buf[CHUNK];
    int acted = 0;
    ptrdiff_t rc;

    if (c->s < 0)
        return 0;
    for (;;) {
        /* The echo of what was read before, first. */
        while (c->pend_off < c->pend_len) {
            rc = ustk_send(s, c->s, c->pend + c->pend_off,
                           c->pend_len - c->pend_off, f->now);
            if (rc == USTK_EAGAIN || rc == USTK_ENOBUFS)
                return acted;
            if (rc < 0) {
                c->srv_err = (int)rc;
                server_close(f, c);
                return 1;
            }
            c->pend_off += (size_t)rc;
            c->echoed += (size_t)rc;
            acted = 1;
        }
        c->pend_off = c->pend_len = 0;
        if (c->srv_eof)
            break;
        rc = ustk_recv(s, c->s, buf, sizeof buf, f->now);
        if (rc == 0) {
            c->srv_eof = true;
            acted = 1;
            break;
        }
        if (rc < 0) {
            if (is_err(rc)) {
                c->srv_err = (int)rc;
                server_close(f, c);
                return 1;
            }
            break;
        }
        FUZZ_CHECK((size_t)rc <= sizeof buf);
        check_stream(k, buf, c->srv_got, (size_t)rc, &c->srv_bad);
        c->srv_got += (size_t)rc;
        if (f->echo) {
            memcpy(c->pend, buf, (size_t)rc);
            c->pend_len = (size_t)rc;
        }
        acted = 1;
    }
    bool echoed = c->pend_len == 0;
    if (echoed && (c->srv_eof || (f->close_mode == 1 &&
                                  c->srv_got >= c->total))) {
        server_close(f, c);
        acted = 1;
    }
    return acted;
}

static int accept_step(fz *f)
{
    ustk_sockaddr peer;
    int acted = 0, h;

    if (f->listener < 0)
        return 0;
    while ((h = ustk_accept(f->st[1], f->listener, &peer)) >= 0) {
        int k;
        for (k = 0; k < f->nconn; k++)
            if (f->conn[k].port == peer.port && f->conn[k].s < 0 &&
                !f->conn[k].srv_done)
                break;
        if (k == f->nconn) {
            (void)ustk_abort(f->st[1], h, f->now);
            continue;
        }
        f->conn[k].s = h;
        acted = 1;
    }
    return acted;
}

static int udp_step(fz *f)
{
    uint8_t buf[1500];
    ustk_sockaddr from;
    int acted = 0;

    if (f->udp_c >= 0 && f->udp_sent < UDP_COUNT) {
        size_t n = 1 + (size_t)f->udp_sent * 300;
        ustk_sockaddr to = { USTK_IP4(10, 0, 0, 2), UDP_PORT };
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(f->udp_sent + 7, i);
        buf[0] = (uint8_t)f->udp_sent;
        ptrdiff_t rc = ustk_sendto(f->st[0], f->udp_c, buf, n, &to, f->now);
        if (rc != USTK_EAGAIN) {
            f->udp_sent++;
            acted = 1;
        }
    }
    if (f->udp_s >= 0) {
        ptrdiff_t rc;
        while ((rc = ustk_recvfrom(f->st[1], f->udp_s, buf, sizeof buf,
                                   &from, f->now)) >= 0) {
            size_t n = (size_t)rc;
            FUZZ_CHECK(n <= sizeof buf);
            f->udp_got++;
            acted = 1;
            if (f->tainted)
                continue;
            FUZZ_CHECK(n >= 1 && buf[0] < UDP_COUNT);
            FUZZ_CHECK(n == 1 + (size_t)buf[0] * 300);
            for (size_t i = 1; i < n; i++)
                FUZZ_CHECK(buf[i] == pattern(buf[0] + 7, i));
            FUZZ_CHECK(from.addr == USTK_IP4(10, 0, 0, 1));
        }
    }
    return acted;
}

/* What a connection says of itself holds together (RFC 9293 §3.3.1:
 * SND.UNA <= SND.NXT), and agrees with what its application did. */
static void check_info(const fz *f, int side, int h, const fz_conn *c)
{
    const ustk_config *cfg = ustk_stack_config(f->st[side]);
    ustk_tcp_info ti;

    if (h < 0 || ustk_tcp_info_get(f->st[side], h, &ti) != 0)
        return;
    FUZZ_CHECK(ti.state >= 0 && ti.state < USTK_TCP__STATE_COUNT);
    FUZZ_CHECK((int32_t)(ti.snd_nxt - ti.snd_una) >= 0);
    /* In flight: the buffered bytes, and a SYN and a FIN. */
    FUZZ_CHECK(ti.bytes_in_flight <= (uint64_t)ti.snd_queued + 2);
    FUZZ_CHECK(ti.snd_queued <= cfg->snd_buf);
    FUZZ_CHECK(ti.rcv_queued <= cfg->rcv_buf);
    FUZZ_CHECK(ti.sacked_out <= ti.bytes_in_flight);
    FUZZ_CHECK(ti.lost_out <= ti.bytes_in_flight);
    if (side == 0) {
        FUZZ_CHECK(ti.bytes_sent <= c->sent);
        FUZZ_CHECK(ti.bytes_received == c->cli_got + ti.rcv_queued);
    } else {
        FUZZ_CHECK(ti.bytes_sent <= c->echoed);
        FUZZ_CHECK(ti.bytes_received == c->srv_got + ti.rcv_queued);
    }
}

static int apps(fz *f)
{
    int acted = accept_step(f);

    for (int k = 0; k < f->nconn; k++) {
        acted |= client_step(f, k);
        acted |= server_step(f, k);
        check_info(f, 0, f->conn[k].c, &f->conn[k]);
        check_info(f, 1, f->conn[k].s, &f->conn[k]);
    }
    if (f->udp)
        acted |= udp_step(f);
    return acted;
}

static void sink(void *ctx, const ustk_trace_event *ev)
{
    fz *f = ctx;

    FUZZ_CHECK(ev->now <= f->now);
    f->traced++;
}

/* Run until nothing is left to do, the limit passes or the steps run out.
 * With run_apps the applications act between steps. */
static void run(fz *f, ustk_time limit, bool run_apps, uint64_t *steps)
{
    int idle_at_now = 0;

    while (*steps < MAX_STEPS) {
        int moved = 0;
        (*steps)++;
        if (run_apps)
            moved += apps(f);
        if (!f->deliver_first)
            moved += poll_out(f);
        moved += deliver(f);
        if (run_apps)
            moved += apps(f);
        moved += poll_out(f);

        ustk_time next = USTK_TIME_NEVER;
        for (int i = 0; i < 2; i++) {
            ustk_time d = ustk_next_deadline(f->st[i], f->now);
            if (d < next)
                next = d;
        }
        for (int i = 0; i < f->nwire; i++)
            if (f->wire[i].at < next)
                next = f->wire[i].at;
        for (int k = 0; run_apps && k < f->nconn; k++)
            if (f->conn[k].c >= 0 && !f->conn[k].started &&
                f->conn[k].start < next)
                next = f->conn[k].start;
        if (next == USTK_TIME_NEVER || next > limit)
            return;
        if (next > f->now) {
            f->now = next;
            idle_at_now = 0;
        } else if (!moved) {
            /* A deadline at or before now may be a timer that finds
             * nothing due, once; a stack that keeps saying so without
             * doing anything would spin an event loop. */
            FUZZ_CHECK(++idle_at_now < 16);
        }
    }
}

/* The setup bytes, bit by bit:
 *   d[0]: 0 Ethernet (else IP), 1 window scale, 2 SACK, 3 timestamps,
 *         4 RACK, 5 TLP, 6 no header prediction, 7 CUBIC (else NewReno)
 *   d[1]: 0-1 buffers (default, 1K, 4K, 16K), 2-3 MTU (1500, 576, 1280,
 *         4000), 4-5 close mode (client first, server first, half-close,
 *         client abort), 6 echo, 7 UDP datagrams too
 *   d[2]: 0-1 connections - 1, 2 trace the server, 3 trace the client,
 *         4 small tables on the server, 5 no delayed ACK, 6 NODELAY,
 *         7 failing allocations (every 11th to 26th call, by d[3])
 *   d[3]: bytes the first client sends / 97 (each next one half as many)
 *   d[4]: 0-1 latency (500 us, 0, 5 ms, 50 ms), 2 one frame out per frame
 *         in, 3 frames in before timers, 4-5 connection starts apart (0,
 *         100 ms, 1 s, 3 s) */
static int setup(fz *f, const uint8_t *d)
{
    static const uint32_t bufs[4] = { 0, 1024, 4096, 16384 };
    static const uint16_t mtus[4] = { 1500, 576, 1280, 4000 };
    static const ustk_time lat[4] = { 500, 0, 5000, 50000 };
    static const ustk_time stagger[4] = { 0, USTK_MS(100), USTK_SEC(1),
                                          USTK_SEC(3) };
    ustk_config cfg;

    f->latency = lat[d[4] & 3];
    f->step_poll = (d[4] & 4) != 0;
    f->deliver_first = (d[4] & 8) != 0;
    f->eth = d[0] & 1;
    f->mtu = mtus[(d[1] >> 2) & 3];
    f->close_mode = (d[1] >> 4) & 3;
    f->echo = (d[1] & 0x40) != 0;
    f->udp = (d[1] & 0x80) != 0;
    f->nconn = (d[2] & 3) + 1;
    f->small_tables = (d[2] & 0x10) != 0;
    f->listener = f->udp_c = f->udp_s = -1;

    for (int i = 0; i < 2; i++) {
        ustk_config_default(&cfg);
        cfg.link = f->eth ? USTK_LINK_ETHERNET : USTK_LINK_IP;
        cfg.ip = USTK_IP4(10, 0, 0, i + 1);
        cfg.prefix_len = 24;
        cfg.mac[0] = 0x02;
        cfg.mac[5] = (uint8_t)(i + 1);
        cfg.seed = 0x66757a7aull + (uint64_t)i;
        cfg.mtu = f->mtu;
        cfg.opt_wscale = (d[0] & 2) != 0;
        cfg.opt_sack = (d[0] & 4) != 0;
        cfg.opt_timestamps = (d[0] & 8) != 0;
        cfg.tcp_rack = (d[0] & 0x10) != 0;
        cfg.tcp_tlp = (d[0] & 0x20) != 0;
        cfg.tcp_predict = (d[0] & 0x40) == 0;
        cfg.cc = (d[0] & 0x80) ? USTK_CC_CUBIC : USTK_CC_NEWRENO;
        if (bufs[d[1] & 3]) {
            cfg.snd_buf = bufs[d[1] & 3];
            cfg.rcv_buf = bufs[d[1] & 3];
        }
        if (d[2] & 0x20)
            cfg.delack = 0;
        cfg.nodelay = (d[2] & 0x40) != 0;
        /* Short timers, so that every ending comes soon. */
        cfg.msl = USTK_SEC(1);
        cfg.rto_max = USTK_SEC(4);
        cfg.syn_retries = 3;
        cfg.synack_retries = 3;
        cfg.data_retries = 4;
        cfg.fin_wait2_timeout = USTK_SEC(5);
        cfg.frag_timeout = USTK_SEC(5);
        if (f->small_tables && i == 1) {
            cfg.max_sockets = 3;
            cfg.max_time_wait = 1;
            cfg.max_half_open = 1;
            cfg.max_backlog = 1;
        }
        if (d[2] & (i ? 0x04 : 0x08)) {
            cfg.trace = sink;
            cfg.trace_ctx = f;
        }
        f->mem[i].fail_every = (d[2] & 0x80) ? 11 + (d[3] & 15) : 0;
        cfg.alloc = fz_alloc;
        cfg.free = fz_free;
        cfg.alloc_ctx = &f->mem[i];
        if (ustk_stack_create(&f->st[i], &cfg, f->now) != 0)
            return -1;
    }

    ustk_stack *srv = f->st[1], *cli = f->st[0];
    ustk_sockaddr any = { 0, SERVER_PORT };
    if ((f->listener = ustk_open(srv, USTK_PROTO_TCP)) < 0 ||
        ustk_bind(srv, f->listener, &any) != 0 ||
        ustk_listen(srv, f->listener, 4) != 0)
        return -1;
    if (f->udp) {
        ustk_sockaddr u = { 0, UDP_PORT };
        if ((f->udp_s = ustk_open(srv, USTK_PROTO_UDP)) < 0 ||
            ustk_bind(srv, f->udp_s, &u) != 0 ||
            (f->udp_c = ustk_open(cli, USTK_PROTO_UDP)) < 0)
            return -1;
    }
    for (int k = 0; k < f->nconn; k++) {
        fz_conn *c = &f->conn[k];
        ustk_sockaddr me = { 0, (uint16_t)(40000 + k) };
        c->s = -1;
        c->port = me.port;
        c->total = ((size_t)d[3] * 97u) >> k;
        c->start = f->now + (ustk_time)k * stagger[(d[4] >> 4) & 3];
        if ((c->c = ustk_open(cli, USTK_PROTO_TCP)) < 0 ||
            ustk_bind(cli, c->c, &me) != 0)
            return -1;
    }
    f->mem[0].failing = f->mem[1].failing = true;
    return 0;
}

/* Close whatever the conversation left open. */
static void close_all(fz *f)
{
    for (int k = 0; k < f->nconn; k++) {
        client_close(f, &f->conn[k]);
        server_close(f, &f->conn[k]);
    }
    if (f->listener >= 0)
        (void)ustk_close(f->st[1], f->listener, f->now);
    if (f->udp_s >= 0)
        (void)ustk_close(f->st[1], f->udp_s, f->now);
    if (f->udp_c >= 0)
        (void)ustk_close(f->st[0], f->udp_c, f->now);
    f->listener = f->udp_s = f->udp_c = -1;
}

static void check_streams(const fz *f)
{
    if (f->tainted)
        return;
    for (int k = 0; k < f->nconn; k++) {
        const fz_conn *c = &f->conn[k];
        FUZZ_CHECK(!c->srv_bad && !c->cli_bad);
        FUZZ_CHECK(c->srv_got <= c->sent && c->cli_got <= c->echoed);
        FUZZ_CHECK(c->echoed <= c->srv_got);
        /* The end of a stream comes after all of it: all that the other
         * side's sends took before it closed. */
        if (c->srv_eof)
            FUZZ_CHECK(c->srv_got == c->sent);
        if (c->cli_eof && f->echo)
            FUZZ_CHECK(c->cli_got == c->echoed);
        if (c->cli_eof && !f->echo)
            FUZZ_CHECK(c->cli_got == 0);
    }
}

/* What became of the conversation, for a person replaying one input. */
static void report(const fz *f, uint64_t steps)
{
    fprintf(stderr, "  %s link, MTU %u, %d connection(s), close mode %d, "
            "%s%s; tape %zu/%zu used\n", f->eth ? "Ethernet" : "IP",
            f->mtu, f->nconn, f->close_mode, f->echo ? "echo" : "one way",
            f->udp ? ", UDP" : "", f->tape_pos, f->tape_len);
    fprintf(stderr, "  at %.3f s after %llu steps%s: %zu and %zu bytes "
            "held\n", (double)f->now / 1e6, (unsigned long long)steps,
            f->tainted ? " (tainted)" : "", f->mem[0].live_bytes,
            f->mem[1].live_bytes);
    for (int k = 0; k < f->nconn; k++) {
        const fz_conn *c = &f->conn[k];
        fprintf(stderr, "  conn %d: sent %zu/%zu, server got %zu%s, echoed "
                "%zu, client got %zu%s%s\n", k, c->sent, c->total,
                c->srv_got, c->srv_eof ? " + FIN" : "", c->echoed, c->cli_got,
                c->cli_eof ? " + FIN" : "", c->aborted ? ", aborted" : "");
        fprintf(stderr, "    client %s (%s), server %s (%s)\n",
                c->c >= 0 ? "open" : "closed", ustk_strerror(c->cli_err),
                c->s >= 0 ? "open" : c->srv_done ? "closed" : "never accepted",
                ustk_strerror(c->srv_err));
    }
    if (f->udp)
        fprintf(stderr, "  UDP: %d sent, %d received\n", f->udp_sent,
                f->udp_got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz *f = &world;
    uint64_t steps = 0;

    if (size < SETUP_BYTES || size > FUZZ_MAX_INPUT)
        return 0;
    memset(f, 0, offsetof(fz, wire));
    memset(f->conn, 0, sizeof f->conn);
    f->nwire = 0;
    f->order = 0;
    f->tainted = false;
    f->udp_sent = f->udp_got = 0;
    f->traced = 0;
    f->now = USTK_SEC(1);
    f->tape = data + SETUP_BYTES;
    f->tape_len = size - SETUP_BYTES;

    if (setup(f, data) == 0) {
        run(f, f->now + RUN_LIMIT, true, &steps);
        check_streams(f);
        if (getenv("USTK_FUZZ_VERBOSE"))
            report(f, steps);
        close_all(f);
        run(f, f->now + SETTLE_LIMIT, false, &steps);
        for (int i = 0; i < 2; i++) {
            ustk_stack_stats st;
            ustk_stack_trim(f->st[i]);
            ustk_stack_stats_get(f->st[i], &st);
            /* Every handle is closed and every TCP timer (TIME-WAIT,
             * FIN-WAIT-2, retries) ran out long ago: nothing is left of
             * any connection, unless the steps ran out first. */
            if (steps < MAX_STEPS)
                FUZZ_CHECK(st.tcp_connections == 0 && st.tcp_time_wait == 0);
            /* The output path's self-check turns an inconsistent
             * connection into a reset, which a mutating wire could pass
             * off as an outcome: it must never have fired. */
            FUZZ_CHECK(st.tcp_self_check == 0);
        }
        if (getenv("USTK_FUZZ_VERBOSE"))
            fprintf(stderr, "  settled at %.3f s after %llu steps: %zu and "
                    "%zu bytes held\n", (double)f->now / 1e6,
                    (unsigned long long)steps, f->mem[0].live_bytes,
                    f->mem[1].live_bytes);
    }
    for (int i = 0; i < 2; i++) {
        if (f->st[i])
            ustk_stack_destroy(f->st[i]);
        f->st[i] = NULL;
        /* Everything the stack took through its hooks came back. */
        FUZZ_CHECK(f->mem[i].live_blocks == 0 && f->mem[i].live_bytes == 0);
    }
    return 0;
}

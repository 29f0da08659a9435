/* ustack — software segmentation and checksums (see gso.h). */
#include "gso.h"

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "wire/checksum.h"

typedef struct gso_link {
    ustk_link link; /* first, so a ustk_link * is a gso_link * */
    ustk_link *inner;
    ustk_gso_stats st;
    uint8_t buf[USTK_LINK_FRAME_MAX];
} gso_link;

static int gso_send(ustk_link *l, ustk_time now, const uint8_t *f, size_t n)
{
    return ustk_link_send(((gso_link *)l)->inner, now, f, n);
}

static int gso_recv(ustk_link *l, ustk_time now, uint8_t *b, size_t cap,
                    size_t *n)
{
    return ustk_link_recv(((gso_link *)l)->inner, now, b, cap, n);
}

static int gso_recv_meta(ustk_link *l, ustk_time now, uint8_t *b, size_t cap,
                         size_t *n, ustk_frame_meta *m)
{
    memset(m, 0, sizeof(*m));
    return gso_recv(l, now, b, cap, n);
}

static ustk_time gso_next_arrival(const ustk_link *l, ustk_time now)
{
    return ustk_link_next_arrival(((const gso_link *)l)->inner, now);
}

static int gso_fd(const ustk_link *l)
{
    const ustk_link *in = ((const gso_link *)l)->inner;
    return in->ops->fd ? in->ops->fd(in) : -1;
}

static int gso_flush(ustk_link *l, ustk_time now)
{
    return ustk_link_flush(((gso_link *)l)->inner, now);
}

static void gso_destroy(ustk_link *l)
{
    gso_link *g = (gso_link *)l;
    ustk_link_destroy(g->inner);
    free(g);
}

/* Store the checksum of f[start, len) at start + off, whose field holds
 * the pseudo-header sum (RFC 1071: the sum over the field then gives the
 * checksum). */
static void complete(uint8_t *f, size_t len, size_t start, size_t off)
{
    ustk_store_be16(f + start + off,
                    ustk_csum_finish(ustk_csum_add(0, f + start, len - start)));
}

/* Cut the TSO frame f into segments, each sent on inner. The headers are
 * f's first hdr bytes: the link header, IPv4 at ip, TCP at tcp. */
static int cut(gso_link *g, ustk_time now, const uint8_t *f, size_t n,
               const ustk_frame_meta *m)
{
    size_t ip = g->link.kind == USTK_LINK_ETHERNET ? 14 : 0;
    size_t tcp = m->csum_start;
    if (n < tcp + 20 || tcp < ip + 20 || m->gso_size == 0)
        return -1;
    size_t hdr = tcp + (size_t)(f[tcp + 12] >> 4) * 4;
    if (hdr > n || hdr < tcp + 20)
        return -1;
    uint16_t id = ustk_load_be16(f + ip + 4);
    uint32_t seq = ustk_load_be32(f + tcp + 4);
    uint8_t flags = f[tcp + 13];
    size_t payload = n - hdr, off = 0;
    int rc = 0;
    g->st.tso_in++;
    for (uint32_t i = 0; off < payload; i++) {
        size_t take = payload - off < m->gso_size ? payload - off
                                                  : m->gso_size;
        bool last = off + take == payload;
        uint8_t *o = g->buf;
        memcpy(o, f, hdr);
        memcpy(o + hdr, f + hdr + off, take);
        size_t len = hdr + take;
        ustk_store_be16(o + ip + 2, (uint16_t)(len - ip));
        ustk_store_be16(o + ip + 4, (uint16_t)(id + i));
        ustk_store_be16(o + ip + 10, 0);
        ustk_store_be16(o + ip + 10,
                        ustk_csum_finish(ustk_csum_add(0, o + ip, tcp - ip)));
        ustk_store_be32(o + tcp + 4, seq + (uint32_t)off);
        uint8_t fl = flags;
        if (!last)
            fl &= (uint8_t)~(USTK_TCP_FIN | USTK_TCP_PSH);
        if (i > 0)
            fl &= (uint8_t)~USTK_TCP_CWR;
        o[tcp + 13] = fl;
        uint32_t src = ustk_load_be32(o + ip + 12);
        uint32_t dst = ustk_load_be32(o + ip + 16);
        ustk_store_be16(o + tcp + 16, 0);
        uint32_t sum = ustk_csum_pseudo(0, src, dst, 6, (uint16_t)(len - tcp));
        sum = ustk_csum_add(sum, o + tcp, len - tcp);
        ustk_store_be16(o + tcp + 16, ustk_csum_finish(sum));
        int r = ustk_link_send(g->inner, now, o, len);
        if (r < 0 && rc == 0)
            rc = r;
        g->st.segs_out++;
        off += take;
    }
    return rc;
}

static int gso_send_meta(ustk_link *l, ustk_time now, const uint8_t *f,
                         size_t n, const ustk_frame_meta *m)
{
    gso_link *g = (gso_link *)l;
    if (!m || !(m->flags & USTK_META_NEEDS_CSUM))
        return ustk_link_send(g->inner, now, f, n);
    if (!f || n == 0 || n > USTK_LINK_FRAME_MAX ||
        (size_t)m->csum_start + m->csum_offset + 2 > n) {
        g->st.bad++;
        return USTK_EINVAL;
    }
    if (m->gso_type == USTK_GSO_TCPV4) {
        if (cut(g, now, f, n, m) == -1) {
            g->st.bad++;
            return USTK_EINVAL;
        }
        g->st.csum++;
        return 0;
    }
    memcpy(g->buf, f, n);
    complete(g->buf, n, m->csum_start, m->csum_offset);
    g->st.csum++;
    return ustk_link_send(g->inner, now, g->buf, n);
}

static const ustk_link_ops gso_ops = {
    .send = gso_send,
    .recv = gso_recv,
    .next_arrival = gso_next_arrival,
    .fd = gso_fd,
    .destroy = gso_destroy,
    .send_meta = gso_send_meta,
    .recv_meta = gso_recv_meta,
    .flush = gso_flush,
};

int ustk_gso_link_create(ustk_link **out, ustk_link *inner)
{
    gso_link *g = calloc(1, sizeof(*g));
    if (!g)
        return USTK_ENOMEM;
    g->link.ops = &gso_ops;
    g->link.kind = inner->kind;
    g->inner = inner;
    *out = &g->link;
    return 0;
}

void ustk_gso_stats_get(const ustk_link *l, ustk_gso_stats *out)
{
    if (l && l->ops == &gso_ops)
        *out = ((const gso_link *)l)->st;
    else
        memset(out, 0, sizeof(*out));
}

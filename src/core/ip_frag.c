/* IPv4 reassembly (RFC 791 §3.2, RFC 1122 §3.3.2).
 *
 * A datagram under reassembly is found by (source, destination, ID,
 * protocol) in a small keyed hash table, and is on a list by age: the
 * timeout is fixed from its first fragment, so the oldest is always the
 * first to expire and the next deadline is the list's head. Its data goes
 * into one buffer at its offset, with room in front for the largest IPv4
 * header, where fragment 0's header is kept; the received ranges are a
 * sorted array of disjoint [start, end) runs, adjacent ones merged.
 *
 * Bounds: cfg.frag_max datagrams at once, and cfg.frag_mem bytes for all
 * of them (each charges its record, its buffer and its run array). A
 * fragment that would go beyond either is dropped and, when it belongs to a
 * datagram already held, that datagram is given up: it can never be whole.
 * Every fragment that is thrown away, now or with its datagram later, is
 * counted once. */
#include <string.h>

#include "stack_priv.h"
#include "util/siphash.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define HDR_ROOM 60u /* the largest IPv4 header (IHL 15) */
/* RFC 791 §3.1: Total Length counts the header too, and is 16 bits. */
#define PAYLOAD_MAX (0xffffu - USTK_IPV4_HDR_LEN)

struct ustk_reasm {
    ustk_reasm *hnext;          /* frag_tab chain */
    ustk_reasm *older, *newer;  /* the list by age */
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    bool have_last;             /* the fragment without MF came */
    ustk_time expires;
    uint32_t nfrags;            /* fragments held */
    uint32_t total;             /* payload length, once have_last */
    uint32_t high;              /* the highest end received */
    ustk_ipv4_hdr first;        /* fragment 0's header (hdr_len 0: not yet) */
    uint8_t *buf;               /* HDR_ROOM bytes, then the payload */
    uint32_t cap;               /* payload room in buf */
    uint32_t (*runs)[2];        /* received [start, end), sorted, apart */
    uint32_t nruns, runs_cap;
    size_t mem;                 /* charged to s->frag_used */
};

enum { FRAG_NEW, FRAG_DUP, FRAG_OVERLAP };

int ustk__frag_init(ustk_stack *s)
{
    uint32_t n = ustk__pow2_at_least(s->cfg.frag_max, 16);
    s->frag_tab = ustk__alloc_zero(s, sizeof(*s->frag_tab) * n);
    if (!s->frag_tab)
        return USTK_ENOMEM;
    s->frag_mask = n - 1;
    s->frag_oldest = s->frag_newest = NULL;
    s->nfrag = 0;
    s->frag_used = 0;
    return 0;
}

static uint32_t frag_slot(const ustk_stack *s, uint32_t src, uint32_t dst,
                          uint16_t id, uint8_t proto)
{
    /* Keyed, like the connection table: the sender picks all four. */
    uint8_t k[11];
    memcpy(k, &src, 4);
    memcpy(k + 4, &dst, 4);
    memcpy(k + 8, &id, 2);
    k[10] = proto;
    return (uint32_t)ustk_siphash24(s->hash_key, k, sizeof(k)) & s->frag_mask;
}

static ustk_reasm *reasm_find(ustk_stack *s, const ustk_ipv4_hdr *h)
{
    uint32_t i = frag_slot(s, h->src, h->dst, h->id, h->proto);
    for (ustk_reasm *r = s->frag_tab[i]; r; r = r->hnext)
        if (r->id == h->id && r->src == h->src && r->dst == h->dst &&
            r->proto == h->proto)
            return r;
    return NULL;
}

static bool charge(ustk_stack *s, ustk_reasm *r, size_t more)
{
    if (more > s->cfg.frag_mem || s->frag_used > s->cfg.frag_mem - more)
        return false;
    s->frag_used += more;
    if (r)
        r->mem += more;
    return true;
}

static ustk_reasm *reasm_new(ustk_stack *s, ustk_time now,
                             const ustk_ipv4_hdr *h)
{
    if (!charge(s, NULL, sizeof(ustk_reasm)))
        return NULL;
    ustk_reasm *r = ustk__alloc(s, sizeof(*r));
    if (!r) {
        s->frag_used -= sizeof(ustk_reasm);
        return NULL;
    }
    memset(r, 0, sizeof(*r));
    r->mem = sizeof(*r);
    r->src = h->src;
    r->dst = h->dst;
    r->id = h->id;
    r->proto = h->proto;
    /* RFC 1122 §3.3.2: the reassembly timeout MUST be a fixed value, not
     * one taken from the TTL. */
    r->expires = now + s->cfg.frag_timeout;
    uint32_t i = frag_slot(s, h->src, h->dst, h->id, h->proto);
    r->hnext = s->frag_tab[i];
    s->frag_tab[i] = r;
    r->older = s->frag_newest;
    if (s->frag_newest)
        s->frag_newest->newer = r;
    else
        s->frag_oldest = r;
    s->frag_newest = r;
    s->nfrag++;
    return r;
}

/* Take it out of the table and the age list. */
static void reasm_unlink(ustk_stack *s, ustk_reasm *r)
{
    uint32_t i = frag_slot(s, r->src, r->dst, r->id, r->proto);
    for (ustk_reasm **pp = &s->frag_tab[i]; *pp; pp = &(*pp)->hnext)
        if (*pp == r) {
            *pp = r->hnext;
            break;
        }
    if (r->older)
        r->older->newer = r->newer;
    else
        s->frag_oldest = r->newer;
    if (r->newer)
        r->newer->older = r->older;
    else
        s->frag_newest = r->older;
    s->nfrag--;
}

static void reasm_release(ustk_stack *s, ustk_reasm *r)
{
    s->frag_used -= r->mem;
    ustk__free(s, r->buf);
    ustk__free(s, r->runs);
    ustk__free(s, r);
}

static void reasm_free(ustk_stack *s, ustk_reasm *r)
{
    reasm_unlink(s, r);
    reasm_release(s, r);
}

/* Give the datagram up: each fragment it held is a drop. (One that never
 * held any was only just made for the fragment in hand.) */
static void reasm_discard(ustk_stack *s, ustk_reasm *r, int reason)
{
    for (uint32_t i = 0; i < r->nfrags; i++)
        ustk__drop(s, reason, NULL, NULL, 0);
    if (r->nfrags)
        s->stats.ip_reasm_failed++;
    reasm_free(s, r);
}

void ustk__frag_fini(ustk_stack *s)
{
    while (s->frag_oldest)
        reasm_free(s, s->frag_oldest);
    ustk__free(s, s->frag_tab);
    s->frag_tab = NULL;
}

ustk_time ustk__frag_deadline(const ustk_stack *s)
{
    return s->frag_oldest ? s->frag_oldest->expires : USTK_TIME_NEVER;
}

void ustk__frag_timers(ustk_stack *s, ustk_time now)
{
    ustk_reasm *r;
    while ((r = s->frag_oldest) != NULL && r->expires <= now) {
        /* RFC 1122 §3.3.2 (and RFC 792): time exceeded, code 1, to the
         * source, when fragment zero came, quoting it. */
        if (r->first.hdr_len)
            ustk__icmp_error(s, now, &r->first,
                             r->buf + HDR_ROOM - r->first.hdr_len,
                             USTK_ICMP_TIME_EXCEEDED,
                             USTK_ICMP_REASM_EXCEEDED, false);
        reasm_discard(s, r, USTK_DROP_IP_FRAG_TIMEOUT);
    }
}

/* RFC 5722 §4 (written for IPv6, applied here to IPv4): when a fragment
 * overlaps one received before, the whole datagram is discarded, so that
 * no later fragment can rewrite what an earlier one (a transport header
 * that a filter looked at, say) said. A fragment that lies wholly inside
 * what we have, with the same bytes, rewrites nothing: it is a copy the
 * network made (RFC 8200 §4.5 lets exact copies be dropped alone; Linux
 * drops any fragment inside a received run so), and is dropped alone. */
static int runs_check(const ustk_reasm *r, uint32_t off, uint32_t end,
                      const uint8_t *data)
{
    for (uint32_t i = 0; i < r->nruns; i++) {
        uint32_t a = r->runs[i][0], b = r->runs[i][1];
        if (end <= a || off >= b)
            continue;
        if (off >= a && end <= b &&
            memcmp(r->buf + HDR_ROOM + off, data, end - off) == 0)
            return FRAG_DUP;
        return FRAG_OVERLAP;
    }
    return FRAG_NEW;
}

/* Record [off, end), which touches no run, joining the runs it meets. */
static void runs_insert(ustk_reasm *r, uint32_t off, uint32_t end)
{
    uint32_t i = 0;
    while (i < r->nruns && r->runs[i][0] < off)
        i++;
    bool join_prev = i > 0 && r->runs[i - 1][1] == off;
    bool join_next = i < r->nruns && r->runs[i][0] == end;
    if (join_prev && join_next) {
        r->runs[i - 1][1] = r->runs[i][1];
        memmove(&r->runs[i], &r->runs[i + 1],
                sizeof(*r->runs) * (r->nruns - i - 1));
        r->nruns--;
    } else if (join_prev) {
        r->runs[i - 1][1] = end;
    } else if (join_next) {
        r->runs[i][0] = off;
    } else {
        memmove(&r->runs[i + 1], &r->runs[i],
                sizeof(*r->runs) * (r->nruns - i));
        r->runs[i][0] = off;
        r->runs[i][1] = end;
        r->nruns++;
    }
}

/* Room for one more run and for payload up to end; false when the memory
 * budget (or the allocator) says no. Growth doubles, so a datagram that
 * arrives in order is copied O(log n) times. The new block is charged in
 * full before it is allocated and the old one refunded once freed, so the
 * budget bounds what is live even while both exist. */
static bool reasm_room(ustk_stack *s, ustk_reasm *r, uint32_t end)
{
    if (r->nruns == r->runs_cap) {
        uint32_t ncap = r->runs_cap ? r->runs_cap * 2 : 4;
        size_t size = sizeof(*r->runs) * ncap;
        if (!charge(s, r, size))
            return false;
        uint32_t(*runs)[2] = ustk__alloc(s, size);
        if (!runs) {
            s->frag_used -= size;
            r->mem -= size;
            return false;
        }
        if (r->nruns)
            memcpy(runs, r->runs, sizeof(*r->runs) * r->nruns);
        ustk__free(s, r->runs);
        s->frag_used -= sizeof(*r->runs) * r->runs_cap;
        r->mem -= sizeof(*r->runs) * r->runs_cap;
        r->runs = runs;
        r->runs_cap = ncap;
    }
    if (end <= r->cap)
        return true;
    uint32_t ncap = r->have_last ? r->total : 2 * r->cap;
    if (ncap > PAYLOAD_MAX)
        ncap = PAYLOAD_MAX;
    if (ncap < end)
        ncap = end;
    if (!charge(s, r, HDR_ROOM + (size_t)ncap)) {
        /* Doubling asked for more than we have; the exact size may fit. */
        ncap = end;
        if (!charge(s, r, HDR_ROOM + (size_t)ncap))
            return false;
    }
    uint8_t *buf = ustk__alloc(s, HDR_ROOM + (size_t)ncap);
    if (!buf) {
        s->frag_used -= HDR_ROOM + (size_t)ncap;
        r->mem -= HDR_ROOM + (size_t)ncap;
        return false;
    }
    if (r->buf) {
        memcpy(buf, r->buf, HDR_ROOM + (size_t)r->cap);
        ustk__free(s, r->buf);
        s->frag_used -= HDR_ROOM + (size_t)r->cap;
        r->mem -= HDR_ROOM + (size_t)r->cap;
    }
    r->buf = buf;
    r->cap = ncap;
    return true;
}

/* The datagram is whole: give it its own header back (fragment 0's, with
 * the full length and no fragment fields) and deliver it like any other. */
static void reasm_complete(ustk_stack *s, ustk_time now, ustk_reasm *r)
{
    ustk_ipv4_hdr h = r->first;
    if ((size_t)h.hdr_len + r->total > 0xffffu) {
        /* Fragment 0's options made it longer than IPv4 allows. */
        reasm_discard(s, r, USTK_DROP_IP_FRAG_TOO_BIG);
        return;
    }
    uint8_t *pkt = r->buf + HDR_ROOM - h.hdr_len;
    h.total_len = (uint16_t)(h.hdr_len + r->total);
    h.frag = 0;
    ustk_ipv4_rewrite(pkt, h.hdr_len, h.total_len, h.frag);
    s->stats.ip_reassembled++;
    /* Out of the table before delivery, which never comes back here (the
     * datagram is no fragment); its memory goes after. */
    reasm_unlink(s, r);
    ustk__ip_deliver(s, now, &h, pkt, false);
    reasm_release(s, r);
}

/* Drop the fragment in hand for reason, giving up its datagram (if held)
 * with it. */
static void frag_fail(ustk_stack *s, ustk_reasm *r, int reason)
{
    if (r)
        reasm_discard(s, r, reason);
    ustk__drop(s, reason, NULL, NULL, 0);
}

void ustk__frag_input(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *h,
                      const uint8_t *pkt)
{
    /* A datagram whose time is up takes no more fragments. */
    if (ustk__frag_deadline(s) <= now)
        ustk__frag_timers(s, now);
    uint32_t off = ustk_ipv4_frag_offset(h);
    uint32_t len = (uint32_t)h->total_len - h->hdr_len;
    uint32_t end = off + len;
    bool more = (h->frag & USTK_IPV4_MF) != 0;
    const uint8_t *data = pkt + h->hdr_len;
    /* RFC 791 §3.2: every fragment but the last carries a multiple of 8
     * bytes (offsets count 8-byte blocks); an empty one carries nothing. */
    if (len == 0 || (more && (len & 7u))) {
        ustk__drop(s, USTK_DROP_IP_FRAG_BAD, NULL, NULL, 0);
        return;
    }
    ustk_reasm *r = reasm_find(s, h);
    /* The "ping of death": fragments that reach past what Total Length
     * can describe. */
    if ((size_t)end + h->hdr_len > 0xffffu) {
        frag_fail(s, r, USTK_DROP_IP_FRAG_TOO_BIG);
        return;
    }
    if (!r) {
        if (s->nfrag >= s->cfg.frag_max) {
            ustk__drop(s, USTK_DROP_IP_FRAG_TABLE_FULL, NULL, NULL, 0);
            return;
        }
        r = reasm_new(s, now, h);
        if (!r) {
            ustk__drop(s, USTK_DROP_IP_FRAG_NO_MEMORY, NULL, NULL, 0);
            return;
        }
    }
    /* The last fragment fixes the length; nothing may lie beyond it, and
     * two last fragments must agree. */
    if (more ? (r->have_last && end > r->total)
             : ((r->have_last && r->total != end) || r->high > end)) {
        frag_fail(s, r, USTK_DROP_IP_FRAG_BAD);
        return;
    }
    int k = runs_check(r, off, end, data);
    if (k == FRAG_DUP) {
        ustk__drop(s, USTK_DROP_IP_FRAG_DUP, NULL, NULL, 0);
        return;
    }
    if (k == FRAG_OVERLAP) {
        frag_fail(s, r, USTK_DROP_IP_FRAG_OVERLAP);
        return;
    }
    if (!reasm_room(s, r, end)) {
        frag_fail(s, r, USTK_DROP_IP_FRAG_NO_MEMORY);
        return;
    }
    memcpy(r->buf + HDR_ROOM + off, data, len);
    if (off == 0) {
        memcpy(r->buf + HDR_ROOM - h->hdr_len, pkt, h->hdr_len);
        r->first = *h;
    }
    runs_insert(r, off, end);
    r->nfrags++;
    if (end > r->high)
        r->high = end;
    if (!more) {
        r->have_last = true;
        r->total = end;
    }
    if (r->have_last && r->nruns == 1 && r->runs[0][0] == 0 &&
        r->runs[0][1] == r->total)
        reasm_complete(s, now, r);
}

/* A ladder diagram of one TCP conversation, drawn as terminal text.
 *
 *     time ms       client │                                              │ server
 *      10.004     SYN-SENT │──[SYN] seq=0 win=65535 mss=1460 ws=7 sackOK ─▶│ LISTEN
 *
 * Every row shows both sides' TCP states, so a reader sees each change where
 * it happens. A state change is held back for a moment: when the same side
 * sends a segment at the same instant (SYN-RECEIVED and its SYN-ACK), one
 * row shows both, the new state highlighted; otherwise it gets a row of its
 * own ("LISTEN -> SYN-RECEIVED").
 */
#include "ladder.h"

#include <stdlib.h>
#include <string.h>

#include "ladder_priv.h"

/* Duplicate ACKs and SACK-carrying segments shown one by one in a row
 * before the rest of them are folded like data. */
#define DUP_SHOWN 3

void ladder_opts_default(ladder_opts *o)
{
    memset(o, 0, sizeof *o);
    o->out = stdout;
    o->collapse_head = 8;
    o->collapse_tail = 4;
    o->detail_budget = 40;
}

bool ladder_utf8_locale(void)
{
    const char *v = getenv("LC_ALL");

    if (!v || !*v)
        v = getenv("LC_CTYPE");
    if (!v || !*v)
        v = getenv("LANG");
    return v && (strstr(v, "UTF-8") || strstr(v, "utf-8") ||
                 strstr(v, "UTF8") || strstr(v, "utf8"));
}

/* ---- segments ---------------------------------------------------------- */

/* Learn a side's ISN and window-scale offer from a SYN it sent. */
static void learn_syn(side *s, const ustk_trace_seg *g)
{
    if (!(g->flags & USTK_TCP_SYN) || s->end.have_isn)
        return;
    s->end.have_isn = true;
    s->end.isn = g->seq;
    s->end.wscale = (g->opts & USTK_OPT_WSCALE) ? g->wscale : -1;
}

/* What a segment side i sends says about loss recovery: a duplicate ACK
 * (RFC 5681 §2: no data, no SYN or FIN, the same ACK number and window as
 * the ACK before), SACK blocks, or the first ACK that moves on after either
 * (the hole is filled: the recovery). The first DUP_SHOWN duplicates or
 * SACK-carrying segments of a run, and the ACK that ends it, are minor
 * rows; the rest of a long run is folded like data. */
static int ack_level(side *s, const ustk_trace_seg *g, unsigned *marks)
{
    bool pure = g->len == 0 &&
                !(g->flags & (USTK_TCP_SYN | USTK_TCP_FIN | USTK_TCP_RST));
    bool sacks = (g->opts & USTK_OPT_SACK) && g->nsack > 0;
    int level = ROW_PLAIN;

    if (!(g->flags & USTK_TCP_ACK))
        return level;
    if (s->have_ack && g->ack == s->last_ack) {
        if (pure && g->wnd == s->last_wnd) {
            *marks |= LD_MARK_DUPACK;
            if (++s->dup_run <= DUP_SHOWN)
                level = ROW_MINOR;
        }
    } else if (s->have_ack && (s->dup_run || s->sack_run)) {
        s->dup_run = s->sack_run = 0;
        level = ROW_MINOR;
    }
    if (sacks && ++s->sack_run <= DUP_SHOWN)
        level = ROW_MINOR;
    s->have_ack = true;
    s->last_ack = g->ack;
    s->last_wnd = g->wnd;
    return level;
}

static void draw_seg(ladder *l, int i, ustk_time now, const ustk_trace_seg *g,
                     unsigned marks)
{
    side *s = &l->s[i];
    const char *tint = (g->flags & USTK_TCP_RST) ? LD_RED
                       : i == LADDER_LEFT        ? LD_CYAN
                                                 : LD_MAGENTA;
    char lab[200];
    row_info ri = { .seg = true, .dir = i, .len = g->len };
    int acks;
    ld_line ln;

    if (g->rtx)
        marks |= LD_MARK_RTX;
    lr_flush_state(l);
    learn_syn(s, g);
    if ((g->flags & USTK_TCP_SYN) && !s->isn_told) {
        char msg[96];
        s->isn_told = true;
        snprintf(msg, sizeof msg, "%s ISN %u (seq shown relative to it)",
                 s->name, s->end.isn);
        lr_note_row(l, now, i, msg, ROW_MAJOR);
    }
    /* A segment that never arrived tells the peer nothing: it does not
     * count among the ACKs the peer saw. */
    acks = (marks & (LD_MARK_LOST | LD_MARK_UNSENT)) ? ROW_PLAIN
                                                    : ack_level(s, g, &marks);
    ri.rtx = (marks & LD_MARK_RTX) != 0;
    ri.lost = (marks & (LD_MARK_LOST | LD_MARK_UNSENT)) != 0;
    /* A state change has a row of its own (lr_flush_state above). */
    if (g->flags & (USTK_TCP_SYN | USTK_TCP_FIN | USTK_TCP_RST))
        ri.level = ROW_MAJOR;
    else if (marks & ~(unsigned)LD_MARK_DUPACK)
        ri.level = ROW_MINOR;
    else
        ri.level = acks;
    ld_seg_label(g, &s->end, &l->s[1 - i].end, lab, sizeof lab);
    lr_begin(l, &ln, now, true);
    ld_arrow(&l->st, &ln, i, lab, tint, marks);
    lr_end(l, &ln, true);
    lr_emit(l, &ln, &ri);
}

static void draw_arp(ladder *l, ustk_time now, int from, int op,
                     const uint8_t sha[6], ustk_ip4 spa, ustk_ip4 tpa,
                     unsigned marks)
{
    char lab[96], a[20], b[20];
    ld_line ln;

    lr_flush_state(l);
    ld_addr(a, sizeof a, spa, 0);
    ld_addr(b, sizeof b, tpa, 0);
    if (op == 1 && spa == tpa) /* RFC 5227 §3: an announcement */
        snprintf(lab, sizeof lab, "ARP announce %s (gratuitous)", a);
    else if (op == 1)
        snprintf(lab, sizeof lab, "ARP who-has %s? tell %s", b, a);
    else
        snprintf(lab, sizeof lab, "ARP %s is-at %02x:%02x:%02x:%02x:%02x:%02x",
                 a, sha[0], sha[1], sha[2], sha[3], sha[4], sha[5]);
    lr_begin(l, &ln, now, true);
    ld_arrow(&l->st, &ln, from, lab, LD_BLUE, marks);
    lr_end(l, &ln, true);
    lr_emit(l, &ln, &(row_info){ .level = ROW_MAJOR });
}

/* A change of a side's cwnd or ssthresh, as a small note in its column.
 * Growth is folded like data; a cut (a loss response, the end of a
 * recovery, a restart after idle) belongs to the story of a loss. */
static void draw_cwnd(ladder *l, int i, const ustk_trace_event *ev)
{
    side *s = &l->s[i];
    bool cut = s->have_cwnd &&
               (ev->cwnd < s->cwnd || ev->ssthresh != s->ssthresh);
    char msg[64];

    s->have_cwnd = true;
    s->cwnd = ev->cwnd;
    s->ssthresh = ev->ssthresh;
    /* ssthresh starts "arbitrarily high" (RFC 5681 §3.1). */
    if (ev->ssthresh >= 0x40000000u)
        snprintf(msg, sizeof msg, "cwnd %u", ev->cwnd);
    else
        snprintf(msg, sizeof msg, "cwnd %u ssthresh %u", ev->cwnd,
                 ev->ssthresh);
    lr_note_row(l, ev->now, i, msg, cut ? ROW_MINOR : ROW_PLAIN);
}

/* What the wire did to a frame, as arrow markers. */
static unsigned fate_marks(unsigned fate)
{
    return ((fate & LADDER_FATE_LOST) ? LD_MARK_LOST : 0u) |
           ((fate & LADDER_FATE_DUPLICATED) ? LD_MARK_TWICE : 0u) |
           ((fate & LADDER_FATE_DELAYED) ? LD_MARK_LATE : 0u) |
           ((fate & LADDER_FATE_CORRUPTED) ? LD_MARK_CORRUPT : 0u);
}

/* ---- public ------------------------------------------------------------ */

int ladder_create(ladder **out, const ladder_opts *o, const char *left_name,
                  ustk_ip4 left_ip, const char *right_name, ustk_ip4 right_ip)
{
    ladder *l = calloc(1, sizeof *l);
    int i;

    if (!l)
        return USTK_ENOMEM;
    l->o = *o;
    if (!l->o.out)
        l->o.out = stdout;
    if (l->o.collapse_tail) {
        l->tail = calloc(l->o.collapse_tail, sizeof *l->tail);
        if (!l->tail) {
            free(l);
            return USTK_ENOMEM;
        }
    }
    l->st.color = o->color;
    l->st.utf8 = o->utf8;
    snprintf(l->s[0].name, sizeof l->s[0].name, "%s", left_name);
    snprintf(l->s[1].name, sizeof l->s[1].name, "%s", right_name);
    l->s[0].ip = left_ip;
    l->s[1].ip = right_ip;
    for (i = 0; i < 2; i++) {
        l->s[i].conn_state = -1;
        l->s[i].listen_state = -1;
        l->s[i].end.wscale = -1;
    }
    *out = l;
    return 0;
}

void ladder_destroy(ladder *l)
{
    if (!l)
        return;
    ladder_flush(l);
    free(l->tail);
    free(l);
}

void ladder_set_port(ladder *l, int i, uint16_t port)
{
    if (i == LADDER_LEFT || i == LADDER_RIGHT)
        l->s[i].port = port;
}

void ladder_flush(ladder *l)
{
    int i;

    /* Traced segments whose frame never left (the neighbour never
     * answered ARP, say). */
    for (i = 0; i < 2; i++) {
        side *s = &l->s[i];
        unsigned k, n = s->qn;
        s->qn = 0;
        for (k = 0; k < n; k++)
            draw_seg(l, i, s->q[k].now, &s->q[k].seg, LD_MARK_UNSENT);
    }
    lr_flush_state(l);
    lr_end_run(l);
    fflush(l->o.out);
}

/* Is this the connection side i's column follows? The first event with a
 * remote port picks it. */
static bool follows(ladder *l, int i, uint16_t lport, uint16_t rport)
{
    side *s = &l->s[i], *peer = &l->s[1 - i];

    if (rport == 0)
        return false;
    if (!s->have_conn) {
        s->have_conn = true;
        s->lport = lport;
        s->rport = rport;
        if (!s->port)
            s->port = lport;
        if (!peer->port)
            peer->port = rport;
    }
    return lport == s->lport && rport == s->rport;
}

static void on_state(ladder *l, int i, const ustk_trace_event *ev)
{
    side *s = &l->s[i];

    if (ev->rport == 0) {
        /* A listener: shown until this side has a connection. */
        if (s->have_conn || ev->state == s->listen_state)
            return;
        lr_flush_state(l);
        s->listen_state = ev->state;
    } else {
        if (!follows(l, i, ev->lport, ev->rport))
            return;
        lr_flush_state(l);
        s->conn_state = ev->state;
    }
    s->changed = true;
    l->pend = true;
    l->pend_side = i;
    l->pend_now = ev->now;
    l->pend_old = ev->old_state;
    l->pend_new = ev->state;
}

static void on_seg_out(ladder *l, int i, const ustk_trace_event *ev)
{
    side *s = &l->s[i];

    if (!follows(l, i, ev->lport, ev->rport))
        return;
    if (!l->o.wire_driven) {
        draw_seg(l, i, ev->now, &ev->seg, 0);
        return;
    }
    learn_syn(s, &ev->seg);
    if (s->qn == WAIT_MAX) {
        /* Nothing reports the wire: draw the oldest as traced. */
        draw_seg(l, i, s->q[0].now, &s->q[0].seg, 0);
        memmove(s->q, s->q + 1, (WAIT_MAX - 1) * sizeof s->q[0]);
        s->qn--;
    }
    s->q[s->qn].now = ev->now;
    s->q[s->qn].seg = ev->seg;
    s->qn++;
}

static void on_arp(ladder *l, int i, const ustk_trace_event *ev)
{
    int peer = 1 - i;

    if (l->o.wire_driven)
        return;
    if (ev->arp_sent) {
        draw_arp(l, ev->now, i, ev->arp_op, ev->arp_mac, ev->laddr, ev->raddr,
                 0);
    } else if (l->o.untraced & (1u << peer)) {
        draw_arp(l, ev->now, peer, ev->arp_op, ev->arp_mac, ev->raddr,
                 ev->laddr, 0);
    }
}

void ladder_event(ladder *l, int i, const ustk_trace_event *ev)
{
    char msg[96];

    if (i != LADDER_LEFT && i != LADDER_RIGHT)
        return;
    switch (ev->kind) {
    case USTK_TRACE_STATE:
        on_state(l, i, ev);
        break;
    case USTK_TRACE_SEG_OUT:
        on_seg_out(l, i, ev);
        break;
    case USTK_TRACE_SEG_IN:
        /* Drawn when sent, unless the sender is not traced. */
        if (!follows(l, i, ev->lport, ev->rport))
            break;
        if (!l->o.wire_driven && (l->o.untraced & (1u << (1 - i))))
            draw_seg(l, 1 - i, ev->now, &ev->seg, 0);
        else
            learn_syn(&l->s[1 - i], &ev->seg);
        break;
    case USTK_TRACE_TIMER:
        if (follows(l, i, ev->lport, ev->rport))
            lr_note_row(l, ev->now, i, ld_timer_name(ev->timer),
                        ev->timer == USTK_TIMER_DELACK       ? ROW_PLAIN
                        : ev->timer == USTK_TIMER_TIME_WAIT ? ROW_MAJOR
                                                            : ROW_MINOR);
        break;
    case USTK_TRACE_DROP:
        /* A drop is part of a loss's story (a corrupted frame, say);
         * one that is no fault (ustk_drop_benign) is "ignored". */
        snprintf(msg, sizeof msg, "%s: %s",
                 ustk_drop_benign(ev->reason) ? "ignored" : "dropped",
                 ustk_drop_str(ev->reason));
        lr_note_row(l, ev->now, i, msg, ROW_MINOR);
        /* ARP gave up on the packets it held: the oldest traced segment
         * still waiting for its frame is one of them. */
        if (ev->reason == USTK_DROP_ARP_UNRESOLVED && l->s[i].qn) {
            waiting w = l->s[i].q[0];
            memmove(l->s[i].q, l->s[i].q + 1,
                    --l->s[i].qn * sizeof l->s[i].q[0]);
            draw_seg(l, i, ev->now, &w.seg, LD_MARK_UNSENT);
        }
        break;
    case USTK_TRACE_ARP:
        on_arp(l, i, ev);
        break;
    case USTK_TRACE_CWND:
        if (follows(l, i, ev->lport, ev->rport))
            draw_cwnd(l, i, ev);
        break;
    default:
        break;
    }
}

int ladder_side_of(const ladder *l, ustk_ip4 ip)
{
    return ip == l->s[0].ip ? LADDER_LEFT : ip == l->s[1].ip ? LADDER_RIGHT : -1;
}

void ladder_trace(void *ctx, const ustk_trace_event *ev)
{
    ladder *l = ctx;

    ladder_event(l, ladder_side_of(l, ev->laddr), ev);
}

void ladder_arp(ladder *l, ustk_time now, int from, int op,
                const uint8_t sha[6], ustk_ip4 spa, ustk_ip4 tpa, unsigned fate)
{
    if (from == LADDER_LEFT || from == LADDER_RIGHT)
        draw_arp(l, now, from, op, sha, spa, tpa, fate_marks(fate));
}

void ladder_wire_tcp(ladder *l, ustk_time now, int from, uint16_t sport,
                     uint16_t dport, const ustk_trace_seg *seg, unsigned fate)
{
    unsigned marks = fate_marks(fate);
    side *s;
    unsigned k;

    if (from != LADDER_LEFT && from != LADDER_RIGHT)
        return;
    s = &l->s[from];
    if (!follows(l, from, sport, dport))
        return;
    if (!l->o.wire_driven) {
        if (fate & LADDER_FATE_LOST)
            draw_seg(l, from, now, seg, marks);
        return;
    }
    /* The latest match: an earlier copy of the same segment is one whose
     * frame was never sent. */
    for (k = s->qn; k-- > 0;) {
        const ustk_trace_seg *g = &s->q[k].seg;
        if (g->seq == seg->seq && g->ack == seg->ack &&
            g->flags == seg->flags && g->len == seg->len)
            break;
    }
    if (k >= s->qn) {
        draw_seg(l, from, now, seg, marks);
        return;
    }
    {
        /* Frames leave in the order they were traced, so the ones traced
         * before this one never will (ARP gave up on them, say). */
        waiting q[WAIT_MAX];
        unsigned i, n = s->qn;
        memcpy(q, s->q, n * sizeof q[0]);
        s->qn = 0;
        for (i = k + 1; i < n; i++)
            s->q[s->qn++] = q[i];
        for (i = 0; i < k; i++)
            draw_seg(l, from, q[i].now, &q[i].seg, LD_MARK_UNSENT);
        draw_seg(l, from, now, &q[k].seg, marks);
    }
}

void ladder_note(ladder *l, ustk_time now, int i, const char *msg)
{
    lr_note_row(l, now, i, msg, ROW_MAJOR);
}

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

#include "ladder_draw.h"

#define WAIT_MAX 32 /* traced segments waiting for their frame, per side */

typedef struct waiting {
    ustk_time now;
    ustk_trace_seg seg;
} waiting;

typedef struct side {
    char name[16];
    ustk_ip4 ip;
    uint16_t port;
    bool have_conn; /* the connection this column follows */
    uint16_t lport, rport;
    int conn_state;   /* -1 until known */
    int listen_state; /* a listener's state, shown until a connection */
    bool changed;     /* state changed since a row last showed it */
    ld_end end; /* its ISN and window scale, for labels */
    bool isn_told;
    waiting q[WAIT_MAX];
    unsigned qn;
} side;

/* How much a row matters when a long conversation is summarised. */
enum {
    ROW_MAJOR, /* handshake, teardown, state changes, ARP, notes: always */
    ROW_MINOR, /* losses, retransmissions, their timers: until the budget */
    ROW_PLAIN  /* data and ACKs: a run shows its first and last rows */
};

/* What a row stands for, to count it when it is folded away. */
typedef struct row_info {
    int level;
    bool seg, rtx, lost;
    int dir;
    uint32_t len;
} row_info;

typedef struct held {
    ld_line ln;
    row_info ri;
} held;

struct ladder {
    ladder_opts o;
    ld_style st;
    side s[2];
    bool header_done;
    /* The state change held back (see the top of this file). */
    bool pend;
    int pend_side;
    ustk_time pend_now;
    int pend_old, pend_new;
    /* The run of plain rows being collapsed: the first collapse_head are
     * printed, the last collapse_tail held, the rest only counted. */
    unsigned run;
    held *tail;
    unsigned tail_first, tail_n;
    uint64_t hid_rows, hid_segs, hid_rtx, hid_lost, hid_bytes[2];
    unsigned minor_shown;
};

void ladder_opts_default(ladder_opts *o)
{
    memset(o, 0, sizeof *o);
    o->out = stdout;
    o->collapse_head = 8;
    o->collapse_tail = 4;
    o->detail_budget = 40;
}

/* ---- rows -------------------------------------------------------------- */

static int side_state(const side *s)
{
    return s->have_conn ? s->conn_state : s->listen_state;
}

static void state_cell(const ladder *l, ld_line *ln, int i, bool hl)
{
    int st = side_state(&l->s[i]);
    const char *name = st >= 0 ? ustk_tcp_state_name(st) : "";
    char tmp[32];

    hl = hl && l->s[i].changed;
    snprintf(tmp, sizeof tmp, "%*s", i == LADDER_LEFT ? LD_STATE_W : 0, name);
    if (hl)
        ld_color(&l->st, ln, LD_GREEN);
    ld_text(ln, tmp);
    if (hl)
        ld_color(&l->st, ln, LD_RESET);
}

/* Time, left state and lifeline: up to the middle. `hl` highlights states
 * that changed since the last row that showed them. */
static void begin(const ladder *l, ld_line *ln, ustk_time now, bool hl)
{
    char t[32], tmp[48];

    ld_clear(ln);
    ld_time(t, sizeof t, now);
    snprintf(tmp, sizeof tmp, "%*s ", LD_TIME_W, t);
    ld_text(ln, tmp);
    state_cell(l, ln, LADDER_LEFT, hl);
    ld_text(ln, " ");
    ld_glyph(&l->st, ln, LD_VBAR);
}

static void end(ladder *l, ld_line *ln, bool hl)
{
    ld_pad(ln, LD_MID_START + LD_MID_W);
    ld_glyph(&l->st, ln, LD_VBAR);
    if (side_state(&l->s[LADDER_RIGHT]) >= 0) {
        ld_text(ln, " ");
        state_cell(l, ln, LADDER_RIGHT, hl);
    }
    if (hl)
        l->s[0].changed = l->s[1].changed = false;
}

static void header(ladder *l)
{
    char addr[2][32];
    int i;

    l->header_done = true;
    for (i = 0; i < 2; i++)
        ld_addr(addr[i], sizeof addr[i], l->s[i].ip, l->s[i].port);
    ld_header(&l->st, l->o.out, l->s[0].name, addr[0], l->s[1].name, addr[1]);
}

static void out(ladder *l, const ld_line *ln)
{
    if (!l->header_done)
        header(l);
    fprintf(l->o.out, "%s\n", ln->buf);
}

static void hide(ladder *l, const row_info *ri)
{
    l->hid_rows++;
    if (ri->seg) {
        l->hid_segs++;
        l->hid_rtx += ri->rtx;
        l->hid_lost += ri->lost;
        l->hid_bytes[ri->dir] += ri->len;
    }
}

static void end_run(ladder *l)
{
    unsigned cap = l->o.collapse_tail;

    if (l->hid_rows) {
        ld_line ln;
        ld_collapsed(&l->st, &ln, l->hid_segs, l->hid_bytes, l->hid_lost,
                     l->hid_rtx);
        out(l, &ln);
    }
    while (l->tail_n) {
        out(l, &l->tail[l->tail_first].ln);
        l->tail_first = (l->tail_first + 1) % cap;
        l->tail_n--;
    }
    l->tail_first = 0;
    l->run = 0;
    l->hid_rows = l->hid_segs = l->hid_rtx = l->hid_lost = 0;
    l->hid_bytes[0] = l->hid_bytes[1] = 0;
}

/* Print a row, or fold it into the current run of plain rows. */
static void emit(ladder *l, const ld_line *ln, const row_info *ri)
{
    unsigned cap = l->o.collapse_tail;
    bool plain = ri->level == ROW_PLAIN;
    held *h;

    /* Minor rows are shown until the budget is spent, then folded. */
    if (ri->level == ROW_MINOR)
        plain = l->o.detail_budget && l->minor_shown >= l->o.detail_budget;
    if (!plain || l->o.collapse_head == 0) {
        l->minor_shown += ri->level == ROW_MINOR;
        end_run(l);
        out(l, ln);
        return;
    }
    if (l->run++ < l->o.collapse_head) {
        out(l, ln);
        return;
    }
    if (cap == 0) {
        hide(l, ri);
        return;
    }
    if (l->tail_n == cap) {
        hide(l, &l->tail[l->tail_first].ri);
        l->tail_first = (l->tail_first + 1) % cap;
        l->tail_n--;
    }
    h = &l->tail[(l->tail_first + l->tail_n) % cap];
    h->ln = *ln;
    h->ri = *ri;
    l->tail_n++;
}

static void flush_state(ladder *l)
{
    char msg[64];
    ld_line ln;

    if (!l->pend)
        return;
    l->pend = false;
    snprintf(msg, sizeof msg, "%s %s %s",
             l->pend_old >= 0 ? ustk_tcp_state_name(l->pend_old) : "?",
             l->st.utf8 ? "\xe2\x86\x92" : "->",
             ustk_tcp_state_name(l->pend_new));
    begin(l, &ln, l->pend_now, true);
    ld_note(&l->st, &ln, l->pend_side, msg);
    end(l, &ln, true);
    emit(l, &ln, &(row_info){ .level = ROW_MAJOR });
}

static void note_row(ladder *l, ustk_time now, int i, const char *msg,
                     int level)
{
    ld_line ln;

    flush_state(l);
    begin(l, &ln, now, false);
    ld_note(&l->st, &ln, i, msg);
    end(l, &ln, false);
    emit(l, &ln, &(row_info){ .level = level });
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

static void draw_seg(ladder *l, int i, ustk_time now, const ustk_trace_seg *g,
                     unsigned marks)
{
    side *s = &l->s[i];
    const char *tint = (g->flags & USTK_TCP_RST) ? LD_RED
                       : i == LADDER_LEFT        ? LD_CYAN
                                                 : LD_MAGENTA;
    char lab[200];
    row_info ri = { .seg = true, .dir = i, .len = g->len };
    ld_line ln;

    if (g->rtx)
        marks |= LD_MARK_RTX;
    if (l->pend && l->pend_side == i && l->pend_now == now)
        l->pend = false; /* this row shows the new state */
    else
        flush_state(l);
    learn_syn(s, g);
    if ((g->flags & USTK_TCP_SYN) && !s->isn_told) {
        char msg[96];
        s->isn_told = true;
        snprintf(msg, sizeof msg, "%s ISN %u (seq shown relative to it)",
                 s->name, s->end.isn);
        note_row(l, now, i, msg, ROW_MAJOR);
    }
    ri.rtx = (marks & LD_MARK_RTX) != 0;
    ri.lost = (marks & (LD_MARK_LOST | LD_MARK_UNSENT)) != 0;
    ri.level = (g->flags & (USTK_TCP_SYN | USTK_TCP_FIN | USTK_TCP_RST)) ||
                       l->s[0].changed || l->s[1].changed
                   ? ROW_MAJOR
               : marks ? ROW_MINOR
                       : ROW_PLAIN;
    ld_seg_label(g, &s->end, &l->s[1 - i].end, lab, sizeof lab);
    begin(l, &ln, now, true);
    ld_arrow(&l->st, &ln, i, lab, tint, marks);
    end(l, &ln, true);
    emit(l, &ln, &ri);
}

static void draw_arp(ladder *l, ustk_time now, int from, int op,
                     const uint8_t sha[6], ustk_ip4 spa, ustk_ip4 tpa,
                     bool lost)
{
    char lab[96], a[20], b[20];
    ld_line ln;

    flush_state(l);
    ld_addr(a, sizeof a, spa, 0);
    ld_addr(b, sizeof b, tpa, 0);
    if (op == 1 && spa == tpa) /* RFC 5227 §3: an announcement */
        snprintf(lab, sizeof lab, "ARP announce %s (gratuitous)", a);
    else if (op == 1)
        snprintf(lab, sizeof lab, "ARP who-has %s? tell %s", b, a);
    else
        snprintf(lab, sizeof lab, "ARP %s is-at %02x:%02x:%02x:%02x:%02x:%02x",
                 a, sha[0], sha[1], sha[2], sha[3], sha[4], sha[5]);
    begin(l, &ln, now, true);
    ld_arrow(&l->st, &ln, from, lab, LD_BLUE, lost ? LD_MARK_LOST : 0);
    end(l, &ln, true);
    emit(l, &ln, &(row_info){ .level = ROW_MAJOR });
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
    flush_state(l);
    end_run(l);
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
        flush_state(l);
        s->listen_state = ev->state;
    } else {
        if (!follows(l, i, ev->lport, ev->rport))
            return;
        flush_state(l);
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
                 false);
    } else if (l->o.untraced & (1u << peer)) {
        draw_arp(l, ev->now, peer, ev->arp_op, ev->arp_mac, ev->raddr,
                 ev->laddr, false);
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
            note_row(l, ev->now, i, ld_timer_name(ev->timer),
                     ev->timer == USTK_TIMER_DELACK     ? ROW_PLAIN
                     : ev->timer == USTK_TIMER_TIME_WAIT ? ROW_MAJOR
                                                         : ROW_MINOR);
        break;
    case USTK_TRACE_DROP:
        snprintf(msg, sizeof msg, "dropped: %s", ustk_drop_str(ev->reason));
        note_row(l, ev->now, i, msg, ROW_PLAIN);
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
                const uint8_t sha[6], ustk_ip4 spa, ustk_ip4 tpa, bool lost)
{
    if (from == LADDER_LEFT || from == LADDER_RIGHT)
        draw_arp(l, now, from, op, sha, spa, tpa, lost);
}

void ladder_wire_tcp(ladder *l, ustk_time now, int from, uint16_t sport,
                     uint16_t dport, const ustk_trace_seg *seg, bool lost)
{
    side *s;
    unsigned k;

    if (from != LADDER_LEFT && from != LADDER_RIGHT)
        return;
    s = &l->s[from];
    if (!follows(l, from, sport, dport))
        return;
    if (!l->o.wire_driven) {
        if (lost)
            draw_seg(l, from, now, seg, LD_MARK_LOST);
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
        draw_seg(l, from, now, seg, lost ? LD_MARK_LOST : 0);
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
        draw_seg(l, from, now, &q[k].seg, lost ? LD_MARK_LOST : 0);
    }
}

void ladder_note(ladder *l, ustk_time now, int i, const char *msg)
{
    note_row(l, now, i, msg, ROW_MAJOR);
}

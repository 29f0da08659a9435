/* Following the TCP connections of a stack from its trace events. */
#include "conntrace.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ladder.h"

#define CT_BUCKETS 1024u
/* Finished connections are remembered (for conntrace_state) until the
 * table holds this many entries; then they are swept out. */
#define CT_SWEEP_AT 4096u
/* Ladders drawn at the same time; connections beyond get none. */
#define CT_LADDERS_MAX 64u

typedef struct ct_conn {
    struct ct_conn *next;
    uint16_t lport, rport;
    ustk_ip4 raddr;
    int state; /* -1 until a state event says */
    bool busy; /* counted in ct->busy */
    ladder *lad;
} ct_conn;

struct conntrace {
    FILE *out; /* NULL: no ladders */
    ladder_opts lo;
    ct_conn *tab[CT_BUCKETS];
    unsigned n, busy, nladders, serial;
    bool told_full;
};

int conntrace_create(conntrace **out, FILE *ladders, bool ascii)
{
    conntrace *ct = calloc(1, sizeof *ct);

    if (!ct)
        return USTK_ENOMEM;
    ct->out = ladders;
    if (ladders) {
        ladder_opts_default(&ct->lo);
        ct->lo.out = ladders;
        ct->lo.color = isatty(fileno(ladders)) &&
                       !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
        ct->lo.utf8 = !ascii && ladder_utf8_locale();
        ct->lo.untraced = 1u << LADDER_RIGHT; /* the peer's own stack */
    }
    *out = ct;
    return 0;
}

static unsigned bucket(uint16_t lport, ustk_ip4 raddr, uint16_t rport)
{
    uint32_t h = raddr * 2654435761u ^ ((uint32_t)lport << 16 | rport) * 40503u;

    return (h ^ (h >> 15)) % CT_BUCKETS;
}

static ct_conn *find(const conntrace *ct, uint16_t lport, ustk_ip4 raddr,
                     uint16_t rport)
{
    ct_conn *c = ct->tab[bucket(lport, raddr, rport)];

    while (c && !(c->lport == lport && c->raddr == raddr && c->rport == rport))
        c = c->next;
    return c;
}

static void finish_ladder(conntrace *ct, ct_conn *c)
{
    if (!c->lad)
        return;
    ladder_destroy(c->lad); /* flushes what it held back */
    c->lad = NULL;
    ct->nladders--;
}

static void set_busy(conntrace *ct, ct_conn *c, bool busy)
{
    if (busy == c->busy)
        return;
    c->busy = busy;
    if (busy)
        ct->busy++;
    else
        ct->busy--;
}

/* Forget the connections that are over, when there are many. */
static void sweep(conntrace *ct)
{
    for (unsigned b = 0; b < CT_BUCKETS; b++) {
        ct_conn **pp = &ct->tab[b];
        while (*pp) {
            ct_conn *c = *pp;
            if (c->state == USTK_TCP_CLOSED || c->state < 0) {
                *pp = c->next;
                finish_ladder(ct, c);
                set_busy(ct, c, false);
                free(c);
                ct->n--;
            } else {
                pp = &c->next;
            }
        }
    }
}

static void start_ladder(conntrace *ct, ct_conn *c, const ustk_trace_event *ev)
{
    char a[24], b[24];

    if (!ct->out)
        return;
    if (ct->nladders >= CT_LADDERS_MAX) {
        if (!ct->told_full)
            fprintf(ct->out, "(more than %u connections at once: the rest "
                    "are not drawn)\n", CT_LADDERS_MAX);
        ct->told_full = true;
        return;
    }
    if (ladder_create(&c->lad, &ct->lo, "ustack", ev->laddr, "peer",
                      ev->raddr) < 0) {
        c->lad = NULL;
        return;
    }
    ct->nladders++;
    ladder_set_port(c->lad, LADDER_LEFT, ev->lport);
    ladder_set_port(c->lad, LADDER_RIGHT, ev->rport);
    snprintf(a, sizeof a, "%u.%u.%u.%u:%u", ev->laddr >> 24,
             (ev->laddr >> 16) & 255, (ev->laddr >> 8) & 255, ev->laddr & 255,
             ev->lport);
    snprintf(b, sizeof b, "%u.%u.%u.%u:%u", ev->raddr >> 24,
             (ev->raddr >> 16) & 255, (ev->raddr >> 8) & 255, ev->raddr & 255,
             ev->rport);
    fprintf(ct->out, "\n-- connection %u: %s <-> %s\n", ++ct->serial, a, b);
}

/* The entry for an event, made when the event starts a connection: a state
 * change, or a SYN arriving for a listener (before the connection exists,
 * so that the ladder shows it). */
static ct_conn *entry_for(conntrace *ct, const ustk_trace_event *ev)
{
    ct_conn *c = find(ct, ev->lport, ev->raddr, ev->rport);
    bool starts = ev->kind == USTK_TRACE_STATE ||
                  (ev->kind == USTK_TRACE_SEG_IN &&
                   (ev->seg.flags & (USTK_TCP_SYN | USTK_TCP_ACK)) == USTK_TCP_SYN);
    unsigned b;

    if (c) {
        /* The same four-tuple again, after the last connection ended. */
        if (starts && c->state == USTK_TCP_CLOSED &&
            !(ev->kind == USTK_TRACE_STATE && ev->state == USTK_TCP_CLOSED)) {
            c->state = -1;
            start_ladder(ct, c, ev);
        }
        return c;
    }
    if (!starts)
        return NULL;
    if (ct->n >= CT_SWEEP_AT)
        sweep(ct);
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->lport = ev->lport;
    c->rport = ev->rport;
    c->raddr = ev->raddr;
    c->state = -1;
    b = bucket(c->lport, c->raddr, c->rport);
    c->next = ct->tab[b];
    ct->tab[b] = c;
    ct->n++;
    start_ladder(ct, c, ev);
    return c;
}

static bool is_busy(int state)
{
    return state >= 0 && state != USTK_TCP_CLOSED &&
           state != USTK_TCP_TIME_WAIT && state != USTK_TCP_LISTEN;
}

void conntrace_trace(void *ctx, const ustk_trace_event *ev)
{
    conntrace *ct = ctx;
    ct_conn *c;

    if (ev->rport == 0)
        return; /* listeners, ARP, drops of no connection */
    c = entry_for(ct, ev);
    if (!c)
        return;
    if (c->lad)
        ladder_event(c->lad, LADDER_LEFT, ev);
    if (ev->kind == USTK_TRACE_STATE) {
        c->state = ev->state;
        set_busy(ct, c, is_busy(ev->state));
        if (ev->state == USTK_TCP_CLOSED)
            finish_ladder(ct, c);
    } else if (ev->kind == USTK_TRACE_SEG_OUT && (ev->seg.flags & USTK_TCP_RST) &&
               c->state < 0) {
        /* A SYN refused: there never was a connection to close. */
        c->state = USTK_TCP_CLOSED;
        finish_ladder(ct, c);
    }
}

unsigned conntrace_busy(const conntrace *ct)
{
    return ct->busy;
}

int conntrace_state(const conntrace *ct, uint16_t lport, ustk_ip4 raddr,
                    uint16_t rport)
{
    const ct_conn *c = find(ct, lport, raddr, rport);

    return c ? c->state : -1;
}

void conntrace_note(conntrace *ct, ustk_time now, uint16_t lport,
                    ustk_ip4 raddr, uint16_t rport, const char *text)
{
    ct_conn *c = find(ct, lport, raddr, rport);

    if (c && c->lad)
        ladder_note(c->lad, now, LADDER_LEFT, text);
}

void conntrace_flush(conntrace *ct)
{
    for (unsigned b = 0; b < CT_BUCKETS; b++)
        for (ct_conn *c = ct->tab[b]; c; c = c->next)
            finish_ladder(ct, c);
    if (ct->out)
        fflush(ct->out);
}

void conntrace_destroy(conntrace *ct)
{
    if (!ct)
        return;
    for (unsigned b = 0; b < CT_BUCKETS; b++) {
        ct_conn *c = ct->tab[b];
        while (c) {
            ct_conn *next = c->next;
            finish_ladder(ct, c);
            free(c);
            c = next;
        }
    }
    if (ct->out)
        fflush(ct->out);
    free(ct);
}

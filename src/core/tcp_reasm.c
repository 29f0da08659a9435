/* Out-of-order data: which ranges beyond RCV.NXT have arrived, how they join
 * the stream when the hole before them fills, and the SACK blocks that
 * report them (RFC 2018). The bytes themselves are already in the receive
 * ring at their place; this file keeps only the ranges. */
#include <string.h>

#include "tcp_priv.h"

static void blk_remove(ustk_ooo *o, uint32_t i)
{
    memmove(&o->blk[i], &o->blk[i + 1], (o->n - i - 1) * sizeof(o->blk[0]));
    o->n--;
}

bool ustk__ooo_add(ustk_stack *s, ustk_tcb *t, uint32_t l, uint32_t r)
{
    if (!t->x->ooo) {
        t->x->ooo = ustk__alloc(s, sizeof(*t->x->ooo));
        if (!t->x->ooo)
            return false;
        t->x->ooo->n = 0;
    }
    ustk_ooo *o = t->x->ooo;
    /* Merge every range that overlaps or touches [l, r) into it. */
    for (uint32_t i = 0; i < o->n;) {
        uint32_t bl = o->blk[i][0], br = o->blk[i][1];
        if (ustk_seq_leq(bl, r) && ustk_seq_leq(l, br)) {
            l = ustk_seq_min(l, bl);
            r = ustk_seq_max(r, br);
            blk_remove(o, i);
        } else {
            i++;
        }
    }
    if (o->n == USTK_TCP_OOO_MAX)
        return false;
    /* The newest range goes first: RFC 2018 §4, "the first SACK block
     * ... MUST specify the contiguous block of data containing the segment
     * which triggered this ACK". */
    memmove(&o->blk[1], &o->blk[0], o->n * sizeof(o->blk[0]));
    o->blk[0][0] = l;
    o->blk[0][1] = r;
    o->n++;
    return true;
}

uint32_t ustk__ooo_advance(ustk_tcb *t)
{
    ustk_ooo *o = t->x->ooo;
    uint32_t joined = 0;
    if (!o)
        return 0;
    bool again = true;
    while (again) {
        again = false;
        for (uint32_t i = 0; i < o->n; i++) {
            uint32_t l = o->blk[i][0], r = o->blk[i][1];
            if (ustk_seq_gt(l, t->rcv_nxt))
                continue;
            if (ustk_seq_gt(r, t->rcv_nxt)) {
                uint32_t extra = r - t->rcv_nxt;
                ustk_ring_commit(&t->x->rcv, extra);
                t->rcv_nxt = r;
                joined += extra;
            }
            blk_remove(o, i);
            again = true;
            break;
        }
    }
    return joined;
}

bool ustk__ooo_empty(const ustk_tcb *t)
{
    return !t->x || !t->x->ooo || t->x->ooo->n == 0;
}

uint32_t ustk__ooo_sack_count(const ustk_tcb *t)
{
    if (!(t->flags & TF_SACK))
        return 0;
    uint32_t max = (t->flags & TF_TS) ? 3 : 4;
    uint32_t n = (t->x && t->x->ooo ? t->x->ooo->n : 0) +
                 ((t->flags & TF_DSACK) ? 1 : 0);
    return n < max ? n : max;
}

void ustk__ooo_sack(const ustk_tcb *t, ustk_tcp_opts *opts, uint32_t max)
{
    if (!(t->flags & TF_SACK))
        return;
    uint32_t n = 0;
    /* RFC 2883 §4: a D-SACK block goes first. */
    if ((t->flags & TF_DSACK) && n < max) {
        opts->sack[n][0] = t->x->dsack[0];
        opts->sack[n][1] = t->x->dsack[1];
        n++;
    }
    for (uint32_t i = 0; t->x->ooo && i < t->x->ooo->n && n < max; i++, n++) {
        opts->sack[n][0] = t->x->ooo->blk[i][0];
        opts->sack[n][1] = t->x->ooo->blk[i][1];
    }
    opts->nsack = (uint8_t)n;
    if (n)
        opts->has |= USTK_OPT_SACK;
}

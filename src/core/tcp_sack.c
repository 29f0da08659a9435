/* The sender's SACK scoreboard and the loss recovery built on it
 * (RFC 6675): which bytes beyond SND.UNA the peer holds, which of the rest
 * count as lost, how much is still in the network (the "pipe"), and what
 * to retransmit next. Allocated on the first SACK block, at most
 * USTK_TCP_SB_MAX ranges, kept sorted by sequence number. */
#include <string.h>

#include "tcp_priv.h"

#define DUP_THRESH 3 /* RFC 6675 §2: DupThresh */

static uint32_t holes_in(const ustk_tcb *t, uint32_t from, uint32_t to);

static bool sb_alloc(ustk_stack *s, ustk_tcb *t)
{
    if (t->x->sb)
        return true;
    t->x->sb = ustk__alloc(s, sizeof(*t->x->sb));
    if (!t->x->sb)
        return false;
    memset(t->x->sb, 0, sizeof(*t->x->sb));
    return true;
}

/* Drop what SND.UNA has passed. */
void ustk__sb_prune(ustk_tcb *t)
{
    ustk_sb *b = t->x->sb;
    if (!b)
        return;
    uint32_t k = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        uint32_t l = b->blk[i][0], r = b->blk[i][1];
        if (ustk_seq_leq(r, t->snd_una))
            continue;
        if (ustk_seq_lt(l, t->snd_una))
            l = t->snd_una;
        b->blk[k][0] = l;
        b->blk[k][1] = r;
        k++;
    }
    b->n = k;
    if (ustk_seq_lt(b->high_rxt, t->snd_una))
        b->high_rxt = t->snd_una;
}

static void sb_insert(ustk_sb *b, uint32_t l, uint32_t r)
{
    /* Merge with every overlapping or touching range, then insert in
     * order. When the table is full the new range is not recorded: the
     * peer repeats its blocks, and losing one only delays recovery. */
    for (uint32_t i = 0; i < b->n;) {
        if (ustk_seq_leq(b->blk[i][0], r) && ustk_seq_leq(l, b->blk[i][1])) {
            l = ustk_seq_min(l, b->blk[i][0]);
            r = ustk_seq_max(r, b->blk[i][1]);
            memmove(&b->blk[i], &b->blk[i + 1],
                    (b->n - i - 1) * sizeof(b->blk[0]));
            b->n--;
        } else {
            i++;
        }
    }
    if (b->n == USTK_TCP_SB_MAX)
        return;
    uint32_t at = 0;
    while (at < b->n && ustk_seq_lt(b->blk[at][0], l))
        at++;
    memmove(&b->blk[at + 1], &b->blk[at], (b->n - at) * sizeof(b->blk[0]));
    b->blk[at][0] = l;
    b->blk[at][1] = r;
    b->n++;
}

void ustk__sb_update(ustk_stack *s, ustk_tcb *t, const ustk_tcp_opts *o)
{
    if (!(t->flags & TF_SACK) || !(o->has & USTK_OPT_SACK))
        return;
    for (uint32_t i = 0; i < o->nsack; i++) {
        uint32_t l = o->sack[i][0], r = o->sack[i][1];
        /* RFC 2018 §5 / RFC 2883: ignore blocks that are empty, below
         * SND.UNA (a D-SACK) or beyond what was sent. */
        if (!ustk_seq_lt(l, r) || ustk_seq_leq(r, t->snd_una) ||
            ustk_seq_gt(r, t->x->snd_max))
            continue;
        if (!sb_alloc(s, t))
            return;
        if (ustk_seq_lt(l, t->snd_una))
            l = t->snd_una;
        sb_insert(t->x->sb, l, r);
    }
    ustk__sb_prune(t);
}

bool ustk__sb_empty(const ustk_tcb *t)
{
    return !t->x->sb || t->x->sb->n == 0;
}

uint32_t ustk__sb_sacked_bytes(const ustk_tcb *t)
{
    uint32_t n = 0;
    for (uint32_t i = 0; t->x->sb && i < t->x->sb->n; i++)
        n += t->x->sb->blk[i][1] - t->x->sb->blk[i][0];
    return n;
}

/* RFC 6675 IsLost() is true for every byte below some edge: the left edge
 * of the highest block such that, counting from the top, DupThresh blocks
 * or more than (DupThresh - 1) * SMSS bytes are SACKed at or above it.
 * Returns SND.UNA when nothing counts as lost. */
uint32_t ustk__sb_loss_edge(const ustk_tcb *t)
{
    const ustk_sb *b = t->x->sb;
    if (!b || b->n == 0)
        return t->snd_una;
    uint32_t bytes = 0;
    for (uint32_t k = b->n; k-- > 0;) {
        bytes += b->blk[k][1] - b->blk[k][0];
        uint32_t count = b->n - k;
        if (count >= DUP_THRESH || bytes > (DUP_THRESH - 1) * (uint32_t)t->mss)
            return b->blk[k][0];
    }
    return t->snd_una;
}

bool ustk__sb_is_lost(const ustk_tcb *t, uint32_t seq)
{
    return ustk_seq_lt(seq, ustk__sb_loss_edge(t));
}

/* Bytes of [from, to) that are not SACKed. */
uint32_t ustk__sb_unsacked(const ustk_tcb *t, uint32_t from, uint32_t to)
{
    return holes_in(t, from, to);
}

static uint32_t holes_in(const ustk_tcb *t, uint32_t from, uint32_t to)
{
    if (!ustk_seq_lt(from, to))
        return 0;
    uint32_t n = to - from;
    for (uint32_t i = 0; t->x->sb && i < t->x->sb->n; i++) {
        uint32_t l = ustk_seq_max(t->x->sb->blk[i][0], from);
        uint32_t r = ustk_seq_min(t->x->sb->blk[i][1], to);
        if (ustk_seq_lt(l, r))
            n -= r - l;
    }
    return n;
}

/* RFC 6675 SetPipe(): bytes not SACKed and not lost are in the network;
 * lost bytes already retransmitted (below HighRxt) are in it again. */
uint32_t ustk__sb_pipe(const ustk_tcb *t)
{
    uint32_t edge = ustk__sb_loss_edge(t);
    uint32_t pipe = holes_in(t, edge, t->x->snd_max);
    uint32_t rxt = t->x->sb ? ustk_seq_min(t->x->sb->high_rxt, edge) : t->snd_una;
    pipe += holes_in(t, t->snd_una, rxt);
    return pipe;
}

/* RFC 6675 NextSeg() rule 1: the first lost, unSACKed byte above HighRxt,
 * and how much of its hole follows. */
bool ustk__sb_next_lost(const ustk_tcb *t, uint32_t *seq, uint32_t *len)
{
    if (!t->x->sb)
        return false;
    uint32_t edge = ustk__sb_loss_edge(t);
    uint32_t from = ustk_seq_max(t->x->sb->high_rxt, t->snd_una);
    while (ustk_seq_lt(from, edge)) {
        /* Skip a block that covers from. */
        bool moved = false;
        for (uint32_t i = 0; i < t->x->sb->n; i++) {
            if (ustk_seq_leq(t->x->sb->blk[i][0], from) &&
                ustk_seq_lt(from, t->x->sb->blk[i][1])) {
                from = t->x->sb->blk[i][1];
                moved = true;
            }
        }
        if (moved)
            continue;
        uint32_t end = edge;
        for (uint32_t i = 0; i < t->x->sb->n; i++)
            if (ustk_seq_gt(t->x->sb->blk[i][0], from) &&
                ustk_seq_lt(t->x->sb->blk[i][0], end))
                end = t->x->sb->blk[i][0];
        *seq = from;
        *len = end - from;
        return true;
    }
    return false;
}

/* When the sender goes back to SND.UNA after a timeout it skips what the
 * peer already holds: the end of the block covering seq, or seq. */
uint32_t ustk__sb_skip(const ustk_tcb *t, uint32_t seq)
{
    for (uint32_t i = 0; t->x->sb && i < t->x->sb->n; i++)
        if (ustk_seq_leq(t->x->sb->blk[i][0], seq) &&
            ustk_seq_lt(seq, t->x->sb->blk[i][1]))
            return t->x->sb->blk[i][1];
    return seq;
}

/* The end of the unSACKed run starting at seq (at most limit). */
uint32_t ustk__sb_hole_end(const ustk_tcb *t, uint32_t seq, uint32_t limit)
{
    uint32_t end = limit;
    for (uint32_t i = 0; t->x->sb && i < t->x->sb->n; i++)
        if (ustk_seq_gt(t->x->sb->blk[i][0], seq) &&
            ustk_seq_lt(t->x->sb->blk[i][0], end))
            end = t->x->sb->blk[i][0];
    return end;
}

/* Bytes counted lost and not yet retransmitted. */
uint32_t ustk__sb_lost_out(const ustk_tcb *t)
{
    if (!t->x->sb)
        return 0;
    uint32_t edge = ustk__sb_loss_edge(t);
    uint32_t from = ustk_seq_max(t->x->sb->high_rxt, t->snd_una);
    return holes_in(t, from, edge);
}

/* The ladder's rows: laying out the state columns around the middle, and
 * folding long runs of plain rows into a summary so that a large transfer
 * stays readable.
 *
 * Rows come in three levels (ladder_priv.h). Major rows are always printed
 * and end the current run. Minor rows (the story of a loss) are printed
 * like major ones until `detail_budget` of them have been, and after that
 * are folded like plain ones. Of a run of plain rows the first
 * `collapse_head` are printed, the last `collapse_tail` are held back and
 * printed when the run ends, and those in between are only counted.
 */
#include <stdlib.h>
#include <string.h>

#include "ladder_priv.h"

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

void lr_begin(const ladder *l, ld_line *ln, ustk_time now, bool hl)
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

void lr_end(ladder *l, ld_line *ln, bool hl)
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
    char addr[2][32], legend[96];
    int i;

    l->header_done = true;
    for (i = 0; i < 2; i++)
        ld_addr(addr[i], sizeof addr[i], l->s[i].ip, l->s[i].port);
    /* A side that is not traced is seen only where the other receives. */
    if (l->o.wire_driven ||
        !(l->o.untraced & (1u << LADDER_LEFT | 1u << LADDER_RIGHT)))
        snprintf(legend, sizeof legend,
                 "an arrow is drawn at the time its segment is sent");
    else
        snprintf(legend, sizeof legend,
                 "an arrow is drawn at the time its segment is sent; "
                 "the %s's, when it arrives",
                 l->s[(l->o.untraced & (1u << LADDER_LEFT)) ? 0 : 1].name);
    ld_header(&l->st, l->o.out, legend, l->s[0].name, addr[0], l->s[1].name,
              addr[1]);
}

static void out(ladder *l, const ld_line *ln)
{
    if (!l->header_done)
        header(l);
    fprintf(l->o.out, "%s\n", ln->buf);
}

static void hide(ladder *l, const ld_line *ln, const row_info *ri)
{
    if (l->hid_rows == 0)
        l->hid_first = *ln;
    l->hid_rows++;
    l->hid_notes += !ri->seg;
    if (ri->seg) {
        l->hid_segs++;
        l->hid_rtx += ri->rtx;
        l->hid_lost += ri->lost;
        l->hid_bytes[ri->dir] += ri->len;
    }
}

void lr_end_run(ladder *l)
{
    unsigned cap = l->o.collapse_tail;

    if (l->hid_rows == 1) {
        /* A summary of one row would be no shorter than the row. */
        out(l, &l->hid_first);
    } else if (l->hid_rows) {
        ld_line ln;
        ld_collapsed(&l->st, &ln, l->hid_segs, l->hid_bytes, l->hid_lost,
                     l->hid_rtx, l->hid_notes);
        out(l, &ln);
    }
    while (l->tail_n) {
        out(l, &l->tail[l->tail_first].ln);
        l->tail_first = (l->tail_first + 1) % cap;
        l->tail_n--;
    }
    l->tail_first = 0;
    l->run = 0;
    l->hid_rows = l->hid_segs = l->hid_rtx = l->hid_lost = l->hid_notes = 0;
    l->hid_bytes[0] = l->hid_bytes[1] = 0;
}

void lr_emit(ladder *l, const ld_line *ln, const row_info *ri)
{
    unsigned cap = l->o.collapse_tail;
    bool plain = ri->level == ROW_PLAIN;
    held *h;

    /* Minor rows are shown until the budget is spent, then folded. */
    if (ri->level == ROW_MINOR)
        plain = l->o.detail_budget && l->minor_shown >= l->o.detail_budget;
    if (!plain || l->o.collapse_head == 0) {
        l->minor_shown += ri->level == ROW_MINOR;
        lr_end_run(l);
        out(l, ln);
        return;
    }
    if (l->run++ < l->o.collapse_head) {
        out(l, ln);
        return;
    }
    if (cap == 0) {
        hide(l, ln, ri);
        return;
    }
    if (l->tail_n == cap) {
        hide(l, &l->tail[l->tail_first].ln, &l->tail[l->tail_first].ri);
        l->tail_first = (l->tail_first + 1) % cap;
        l->tail_n--;
    }
    h = &l->tail[(l->tail_first + l->tail_n) % cap];
    h->ln = *ln;
    h->ri = *ri;
    l->tail_n++;
}

void lr_flush_state(ladder *l)
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
    lr_begin(l, &ln, l->pend_now, true);
    ld_note(&l->st, &ln, l->pend_side, msg);
    lr_end(l, &ln, true);
    lr_emit(l, &ln, &(row_info){ .level = ROW_MAJOR });
}

void lr_note_row(ladder *l, ustk_time now, int i, const char *msg, int level)
{
    ld_line ln;

    lr_flush_state(l);
    lr_begin(l, &ln, now, false);
    ld_note(&l->st, &ln, i, msg);
    lr_end(l, &ln, false);
    lr_emit(l, &ln, &(row_info){ .level = level });
}

/* Drawing primitives for the ladder diagram. */
#include "ladder_draw.h"

#include <string.h>

#define LOST_GAP 6 /* cells a lost arrow stops short of the far lifeline */

void ld_clear(ld_line *ln)
{
    ln->len = 0;
    ln->cells = 0;
    ln->buf[0] = '\0';
}

static void put(ld_line *ln, const char *s, unsigned cells)
{
    size_t n = strlen(s);

    if (n > LD_LINE_CAP - 1 - ln->len)
        n = LD_LINE_CAP - 1 - ln->len;
    memcpy(ln->buf + ln->len, s, n);
    ln->len += n;
    ln->buf[ln->len] = '\0';
    ln->cells += cells;
}

/* Every glyph we draw is one column wide, so columns are code points: the
 * bytes that do not continue a UTF-8 sequence. */
void ld_text(ld_line *ln, const char *s)
{
    unsigned cells = 0;
    const char *p;

    for (p = s; *p; p++)
        cells += ((unsigned char)*p & 0xc0) != 0x80;
    put(ln, s, cells);
}

void ld_clip(char *s, unsigned cells)
{
    unsigned n = 0;
    char *p;

    for (p = s; *p; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80 && n++ == cells) {
            *p = '\0';
            return;
        }
    }
}

void ld_pad(ld_line *ln, unsigned to)
{
    while (ln->cells < to && ln->len < LD_LINE_CAP - 1)
        put(ln, " ", 1);
}

void ld_color(const ld_style *st, ld_line *ln, const char *code)
{
    if (st->color)
        put(ln, code, 0);
}

void ld_glyph(const ld_style *st, ld_line *ln, const char *utf8,
              const char *ascii)
{
    ld_text(ln, st->utf8 ? utf8 : ascii);
}

static void hline(const ld_style *st, ld_line *ln, unsigned n)
{
    while (n--)
        ld_glyph(st, ln, "\xe2\x94\x80", "-"); /* ─ */
}

void ld_time(char *buf, size_t cap, ustk_time t)
{
    snprintf(buf, cap, "%llu.%03llu", (unsigned long long)(t / 1000),
             (unsigned long long)(t % 1000));
}

void ld_flags(uint8_t f, char *buf, size_t cap)
{
    static const struct {
        uint8_t bit;
        const char *name;
    } names[] = {
        { USTK_TCP_SYN, "SYN" }, { USTK_TCP_FIN, "FIN" },
        { USTK_TCP_RST, "RST" }, { USTK_TCP_PSH, "PSH" },
        { USTK_TCP_ACK, "ACK" }, { USTK_TCP_URG, "URG" },
        { USTK_TCP_ECE, "ECE" }, { USTK_TCP_CWR, "CWR" },
    };
    size_t i, n = 0;

    buf[0] = '\0';
    for (i = 0; i < sizeof names / sizeof names[0] && n < cap; i++)
        if (f & names[i].bit)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "",
                                  names[i].name);
    if (n == 0)
        snprintf(buf, cap, "none");
}

/* Cut a label that is too long at a space, so that no number is cut. */
static void clip_words(char *s, unsigned cells)
{
    unsigned n = 0;
    bool boundary;
    char *p, *sp;

    for (p = s; *p; p++)
        if (((unsigned char)*p & 0xc0) != 0x80 && n++ == cells)
            break;
    if (!*p)
        return; /* it fits */
    boundary = *p == ' '; /* the cut falls between two words */
    *p = '\0';
    if (!boundary && (sp = strrchr(s, ' ')) != NULL)
        *sp = '\0';
}

static const struct {
    unsigned bit;
    const char *text;
    const char *color;
} mark_names[] = {
    { LD_MARK_RTX, " rtx", LD_YELLOW },
    { LD_MARK_DUPACK, " dupack", LD_YELLOW },
    { LD_MARK_LOST, " LOST", LD_RED },
    { LD_MARK_UNSENT, " unsent", LD_RED },
    { LD_MARK_CORRUPT, " corrupt", LD_RED },
    { LD_MARK_LATE, " late", LD_YELLOW },
    { LD_MARK_TWICE, " x2", LD_YELLOW },
};

#define NMARKS (sizeof mark_names / sizeof mark_names[0])

static unsigned markers_width(unsigned marks)
{
    unsigned w = 0;
    size_t i;

    for (i = 0; i < NMARKS; i++)
        if (marks & mark_names[i].bit)
            w += (unsigned)strlen(mark_names[i].text);
    return w;
}

static void markers(const ld_style *st, ld_line *ln, const char *tint,
                    unsigned marks)
{
    size_t i;

    for (i = 0; i < NMARKS; i++) {
        if (marks & mark_names[i].bit) {
            ld_color(st, ln, mark_names[i].color);
            ld_text(ln, mark_names[i].text);
        }
    }
    ld_color(st, ln, tint);
}

static void stop(const ld_style *st, ld_line *ln, const char *tint)
{
    ld_color(st, ln, LD_RED);
    ld_glyph(st, ln, "\xe2\x9c\x97", "x"); /* ✗ */
    ld_color(st, ln, tint);
}

void ld_arrow(const ld_style *st, ld_line *ln, int from, const char *label,
              const char *tint, unsigned marks)
{
    char lab[LD_MID_W + 1];
    unsigned extra = markers_width(marks);
    bool short_ = (marks & (LD_MARK_LOST | LD_MARK_UNSENT)) != 0;
    unsigned fill, gap = 0;
    ld_line t;

    /* "──label ───▶": two dashes, the label, a space, the fill, the head. */
    snprintf(lab, sizeof lab, "%s", label);
    clip_words(lab, LD_MID_W - 5 - extra);
    ld_clear(&t);
    ld_text(&t, lab);
    fill = LD_MID_W - 4 - t.cells - extra;
    if (short_) {
        gap = fill > LOST_GAP ? LOST_GAP : fill - 1;
        fill -= gap;
    }
    ld_color(st, ln, tint);
    if (from == 0) {
        hline(st, ln, 2);
    } else {
        ld_pad(ln, ln->cells + gap);
        if (short_)
            stop(st, ln, tint);
        else
            ld_glyph(st, ln, "\xe2\x97\x80", "<"); /* ◀ */
        hline(st, ln, fill);
        ld_text(ln, " ");
    }
    ld_text(ln, lab);
    markers(st, ln, tint, marks);
    if (from == 0) {
        ld_text(ln, " ");
        hline(st, ln, fill);
        if (short_)
            stop(st, ln, tint);
        else
            ld_glyph(st, ln, "\xe2\x96\xb6", ">"); /* ▶ */
    } else {
        hline(st, ln, 2);
    }
    ld_color(st, ln, LD_RESET);
}

void ld_note(const ld_style *st, ld_line *ln, int side, const char *msg)
{
    char buf[LD_LINE_CAP];
    unsigned len, start = ln->cells;
    ld_line t;

    snprintf(buf, sizeof buf, "%s", msg);
    ld_clip(buf, side < 0 ? LD_MID_W - 2 : LD_MID_W - 4);
    ld_clear(&t);
    ld_text(&t, buf);
    len = t.cells;
    if (side == 1)
        ld_pad(ln, start + LD_MID_W - len - 3);
    else if (side < 0)
        ld_pad(ln, start + (LD_MID_W - len) / 2);
    else
        ld_text(ln, " ");
    ld_color(st, ln, LD_DIM);
    if (side == 0) {
        ld_glyph(st, ln, LD_DOT);
        ld_text(ln, " ");
    }
    ld_text(ln, buf);
    if (side == 1) {
        ld_text(ln, " ");
        ld_glyph(st, ln, LD_DOT);
    }
    ld_color(st, ln, LD_RESET);
}

void ld_seg_label(const ustk_trace_seg *g, const ld_end *from,
                  const ld_end *to, char *buf, size_t cap)
{
    uint64_t win = g->wnd;
    char fl[40];
    size_t n = 0;

#define ADD(...)                                                              \
    do {                                                                      \
        if (n < cap)                                                          \
            n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__);             \
    } while (0)

    ld_flags(g->flags, fl, sizeof fl);
    buf[0] = '\0';
    ADD("[%s] seq=%u", fl, from->have_isn ? g->seq - from->isn : g->seq);
    if (g->flags & USTK_TCP_ACK)
        ADD(" ack=%u", to->have_isn ? g->ack - to->isn : g->ack);
    if ((g->opts & USTK_OPT_SACK) && g->nsack > 0) {
        /* SACK blocks acknowledge the peer's data: they are in to's
         * sequence space, like the ACK number. Right after it, so that a
         * label too long for its row (a row cuts labels at the end) loses
         * the window and the length, not the blocks. */
        uint32_t base = to->have_isn ? to->isn : 0;
        ADD(" sack=%u-%u", g->sack[0][0] - base, g->sack[0][1] - base);
        if (g->nsack > 1)
            ADD("+%u", g->nsack - 1u);
    }
    if (g->len)
        ADD(" len=%u", g->len);
    /* RFC 7323 §2.2: the window in a SYN is never scaled; once both SYNs
     * carried the option, the sender's shift applies. */
    if (!(g->flags & USTK_TCP_SYN) && from->wscale >= 0 && to->wscale >= 0)
        win <<= from->wscale;
    ADD(" win=%llu", (unsigned long long)win);
    if (g->opts & USTK_OPT_MSS)
        ADD(" mss=%u", g->mss);
    if (g->opts & USTK_OPT_WSCALE)
        ADD(" ws=%u", g->wscale);
    if (g->opts & USTK_OPT_SACK_PERM)
        ADD(" sackOK");
    if ((g->opts & USTK_OPT_TS) && (g->flags & USTK_TCP_SYN))
        ADD(" ts");
#undef ADD
}

void ld_addr(char *buf, size_t cap, ustk_ip4 ip, uint16_t port)
{
    int n = snprintf(buf, cap, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
                     (ip >> 8) & 255, ip & 255);

    if (port && n > 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, ":%u", port);
}

const char *ld_timer_name(int timer)
{
    switch (timer) {
    case USTK_TIMER_RTX: return "retransmission timer fired";
    case USTK_TIMER_DELACK: return "delayed-ACK timer fired";
    case USTK_TIMER_TIME_WAIT: return "2*MSL timer fired";
    case USTK_TIMER_FIN_WAIT2: return "FIN-WAIT-2 timer fired";
    case USTK_TIMER_PERSIST: return "persist timer fired (window probe)";
    case USTK_TIMER_KEEPALIVE: return "keepalive timer fired";
    case USTK_TIMER_RACK: return "RACK reordering timer fired";
    case USTK_TIMER_TLP: return "tail loss probe timer fired";
    default: return "timer fired";
    }
}

static void header_row(const ld_style *st, FILE *out, const char *left,
                       unsigned left_w, const char *right)
{
    ld_line ln;
    char tmp[64];

    ld_clear(&ln);
    snprintf(tmp, sizeof tmp, "%*s ", (int)left_w, left);
    ld_text(&ln, tmp);
    ld_glyph(st, &ln, LD_VBAR);
    ld_pad(&ln, LD_MID_START + LD_MID_W);
    ld_glyph(st, &ln, LD_VBAR);
    ld_text(&ln, " ");
    ld_text(&ln, right);
    fprintf(out, "%s\n", ln.buf);
}

void ld_header(const ld_style *st, FILE *out, const char *legend,
               const char *left_name, const char *left_addr,
               const char *right_name, const char *right_addr)
{
    char tmp[64];

    fprintf(out, "%*s(%s)\n", LD_TIME_W - 7, "", legend); /* under "time ms" */
    snprintf(tmp, sizeof tmp, "%*s %*s", LD_TIME_W, "time ms", LD_STATE_W,
             left_name);
    header_row(st, out, tmp, 0, right_name);
    header_row(st, out, left_addr, LD_TIME_W + 1 + LD_STATE_W, right_addr);
}

/* "1234 B", "56.7 KB", "95.4 MB" */
static void bytes_str(char *buf, size_t cap, uint64_t b)
{
    if (b < 10000)
        snprintf(buf, cap, "%llu B", (unsigned long long)b);
    else if (b < 1000000)
        snprintf(buf, cap, "%.1f KB", (double)b / 1e3);
    else
        snprintf(buf, cap, "%.1f MB", (double)b / 1e6);
}

void ld_collapsed(const ld_style *st, ld_line *ln, uint64_t segs,
                  const uint64_t bytes[2], uint64_t lost, uint64_t rtx,
                  uint64_t notes)
{
    const char *dots = st->utf8 ? "\xe2\x80\xa6" : "...";
    const char *to = st->utf8 ? "\xe2\x86\x92" : "->";
    const char *from = st->utf8 ? "\xe2\x86\x90" : "<-";
    const char *s = segs == 1 ? "" : "s";
    char msg[200], b0[24], b1[24], more[64] = "";
    int n = 0;

    bytes_str(b0, sizeof b0, bytes[0]);
    bytes_str(b1, sizeof b1, bytes[1]);
    if (lost)
        n = snprintf(more, sizeof more, ", %llu lost", (unsigned long long)lost);
    if (rtx && n >= 0 && (size_t)n < sizeof more)
        snprintf(more + n, sizeof more - (size_t)n, ", %llu rtx",
                 (unsigned long long)rtx);
    /* The long form when it fits, else the short one. Notes (cwnd) are
     * only counted when nothing else was folded. */
    if (segs == 0)
        snprintf(msg, sizeof msg, "%s %llu more note%s", dots,
                 (unsigned long long)notes, notes == 1 ? "" : "s");
    else
        snprintf(msg, sizeof msg, "%s %llu more segment%s (%s %s, %s %s%s)",
                 dots, (unsigned long long)segs, s, b0, to, b1, from, more);
    ld_clear(ln);
    ld_text(ln, msg);
    if (ln->cells > LD_MID_W - 2)
        snprintf(msg, sizeof msg, "%s %llu more: %s%s, %s%s%s", dots,
                 (unsigned long long)segs, b0, to, b1, from, more);
    ld_clear(ln);
    ld_pad(ln, LD_MID_START - 1);
    ld_glyph(st, ln, LD_VBAR);
    ld_note(st, ln, -1, msg);
    ld_pad(ln, LD_MID_START + LD_MID_W);
    ld_glyph(st, ln, LD_VBAR);
}
